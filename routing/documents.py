"""Jobs, routes and stops as the API and the events show them (camelCase, the seeds' nesting).

The reads (querysets, prefetching) are ``routing.selectors``; here they are only rendered.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from orders.documents import order_reference
from orders.models import Order
from routing.models import OptimizationJob, Route, Stop
from routing.selectors import job_origin, order_stop, route_stops_for_shipper


def _at(origin: datetime, seconds: int | None) -> str | None:
    return None if seconds is None else (origin + timedelta(seconds=seconds)).isoformat()


def job_document(job: OptimizationJob) -> dict[str, Any]:
    """``GET /routing/jobs/{id}``: status, progress, figures, routes and who was left out."""
    solution = job.solution or {}
    origin = job_origin(job)
    refs = {str(o.id): o.creator_order_id for o in job.orders.only("id", "creator_order_id")}
    groups = {str(g.id): g.name for g in job.vehicle_groups.all()}
    gates = {str(g.id): g.name for g in job.gates.all()}
    return {
        "id": str(job.id),
        "number": job.number,
        "name": job.name,
        "date": job.date.isoformat(),
        "ownerId": str(job.owner_id) if job.owner_id else None,
        "liveMode": job.live_mode,
        "status": job.status,
        "progress": round(job.progress, 3),
        "timeBudgetS": job.time_budget_s,
        "seed": job.seed,
        "settings": job.settings,
        "error": job.error,
        "vehicleGroups": [{"id": k, "name": v} for k, v in groups.items()],
        "gates": [{"id": k, "name": v} for k, v in gates.items()],
        "ordersInScope": len(refs),
        "meta": job.meta,
        "routes": [
            {
                "vehicleGroup": {"id": r["fleet"], "name": groups.get(r["fleet"], "")},
                "gate": {"id": r["gate"], "name": gates.get(r["gate"], "")},
                "startTime": _at(origin, r["startS"]),
                "endTime": _at(origin, r["endS"]),
                "distanceKm": round(r["distanceM"] / 1000, 3),
                "drivingDuration": r["drivingS"],
                "waitingTime": r["waitingS"],
                "taskTime": r["taskS"],
                "breakTime": r["breakS"],
                "weightKg": r["weightG"] / 1000,
                "volumeM3": r["volumeL"] / 1000,
                "stops": [
                    {
                        "sequence": s["sequence"],
                        "orderId": s["visit"],
                        "creatorOrderId": refs.get(s["visit"], ""),
                        "arrival": _at(origin, s["arrivalS"]),
                        "eta": _at(origin, s["startS"]),
                        "departure": _at(origin, s["endS"]),
                    }
                    for s in r["stops"]
                ],
            }
            for r in solution.get("routes", [])
        ],
        "unscheduled": [
            {"orderId": key, "creatorOrderId": refs.get(key, ""), "reasons": reasons}
            for key, reasons in solution.get("unscheduled", {}).items()
        ],
        "solver": {k: solution.get(k) for k in ("cost", "runtimeS", "iterations", "stoppedBy")},
        "createdAt": job.created_at.isoformat(),
        "startedAt": job.started_at.isoformat() if job.started_at else None,
        "finishedAt": job.finished_at.isoformat() if job.finished_at else None,
        "approvedAt": job.approved_at.isoformat() if job.approved_at else None,
        "approvedBy": job.approved_by,
    }


def route_reference(route: Route) -> dict[str, Any]:
    """The short route block of the seed 004 events."""
    return {
        "id": str(route.id),
        "slug": route.slug,
        "reference": route.reference,
        "tags": list(route.tags),
        "executors": list(route.executors),
    }


def stop_document(stop: Stop) -> dict[str, Any]:
    return {
        "sequence": stop.sequence,
        "kind": stop.kind,
        "order": order_reference(stop.order),
        "position": {"latitude": stop.latitude, "longitude": stop.longitude},
        "plannedArrival": stop.planned_arrival.isoformat(),
        "eta": stop.eta.isoformat(),
        "timeWindow": (
            {"from": stop.window_from.isoformat(), "to": stop.window_to.isoformat()}
            if stop.window_from and stop.window_to
            else None
        ),
        "serviceTimeS": stop.service_time_s,
    }


def route_document(route: Route, *, shipper, live_mode: bool, full: bool = False) -> dict:
    """A route as a shipper sees it: its own stops in full, other shippers' only counted."""
    document = {
        **route_reference(route),
        "status": route.status,
        "vehicleGroup": route.vehicle_group.name,
        "gate": route.gate.name,
        "startTime": route.start_time.isoformat(),
        "endTime": route.end_time.isoformat(),
        "stopsCount": route.stops_count,
        "distanceKm": route.distance_km,
        "duration": route.duration,
    }
    if full:
        mine, others = route_stops_for_shipper(route=route, shipper=shipper, live_mode=live_mode)
        document["stops"] = [stop_document(s) for s in mine]
        document["otherStops"] = others
    return document


def order_route_and_stop(order: Order) -> tuple[dict | None, dict | None]:
    """The route and stop an order is on, for the Plan API."""
    stop = order_stop(order)
    if stop is None:
        return None, None
    return route_reference(stop.route), stop_document(stop)
