"""Jobs, routes and stops as the API and the events show them (camelCase, the seeds' nesting).

The reads (querysets, prefetching) are ``routing.selectors``; here they are only rendered.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from accounts.tenancy import Tenant
from config.times import iso_local, order_zone, route_zone
from orders.documents import order_reference
from orders.models import Order
from routing.models import OptimizationJob, Route, Stop
from routing.selectors import job_origin, order_stop, route_stops_for_shipper


def _at(origin: datetime, seconds: int | None, zone: str | None = None) -> str | None:
    """``seconds`` after the job's origin, in ``zone`` (the depot's, the origin's own, unless
    a stop's place is named)."""
    if seconds is None:
        return None
    moment = origin + timedelta(seconds=seconds)
    return iso_local(moment, zone) if zone else moment.isoformat()


def job_zone(job: OptimizationJob) -> str:
    """The zone of a job's own facts: its depot's (see ``config.times``)."""
    return str(job_origin(job).tzinfo)


def job_document(job: OptimizationJob) -> dict[str, Any]:
    """``GET /routing/jobs/{id}``: status, progress, figures, routes and who was left out."""
    solution = job.solution or {}
    origin = job_origin(job)
    depot_zone = str(origin.tzinfo)
    orders = job.orders.only("id", "creator_order_id", "delivery_time_zone")
    refs = {str(o.id): o.creator_order_id for o in orders}
    # A job's stops are deliveries: their times are in the delivery location's zone.
    stop_zones = {str(o.id): o.delivery_time_zone for o in orders}
    groups = {str(g.id): g.name for g in job.vehicle_groups.all()}
    gates = {str(g.id): g.name for g in job.gates.all()}
    stop_facts = {key: (refs[key], stop_zones[key]) for key in refs}
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
            _job_route(r, origin=origin, groups=groups, gates=gates, stops=stop_facts)
            for r in solution.get("routes", [])
        ],
        "unscheduled": [
            {"orderId": key, "creatorOrderId": refs.get(key, ""), "reasons": reasons}
            for key, reasons in solution.get("unscheduled", {}).items()
        ],
        "solver": {k: solution.get(k) for k in ("cost", "runtimeS", "iterations", "stoppedBy")},
        "createdAt": iso_local(job.created_at, depot_zone),
        "startedAt": iso_local(job.started_at, depot_zone),
        "finishedAt": iso_local(job.finished_at, depot_zone),
        "approvedAt": iso_local(job.approved_at, depot_zone),
        "approvedBy": job.approved_by,
    }


def _job_route(
    r: dict[str, Any],
    *,
    origin: datetime,
    groups: dict[str, str],
    gates: dict[str, str],
    stops: dict[str, tuple[str, str]],
) -> dict[str, Any]:
    """One route of a job's solution; ``stops`` maps an order id to its reference and the
    zone of its delivery location, in which its stop's times are given."""
    return {
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
        "stops": [_job_stop(s, origin, *stops.get(s["visit"], ("", None))) for s in r["stops"]],
    }


def _job_stop(s: dict[str, Any], origin: datetime, ref: str, zone: str | None) -> dict[str, Any]:
    return {
        "sequence": s["sequence"],
        "orderId": s["visit"],
        "creatorOrderId": ref,
        "arrival": _at(origin, s["arrivalS"], zone),
        "eta": _at(origin, s["startS"], zone),
        "departure": _at(origin, s["endS"], zone),
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
    """A stop, its times in the zone of the order's place it serves (pickup or delivery)."""
    zone = order_zone(stop.order, stop.kind)
    return {
        "sequence": stop.sequence,
        "kind": stop.kind,
        "order": order_reference(stop.order),
        "position": {"latitude": stop.latitude, "longitude": stop.longitude},
        "plannedArrival": iso_local(stop.planned_arrival, zone),
        "eta": iso_local(stop.eta, zone),
        "timeWindow": (
            {"from": iso_local(stop.window_from, zone), "to": iso_local(stop.window_to, zone)}
            if stop.window_from and stop.window_to
            else None
        ),
        "serviceTimeS": stop.service_time_s,
    }


def route_document(route: Route, *, tenant: Tenant, full: bool = False) -> dict:
    """A route as a shipper sees it: its own stops in full, other shippers' only counted."""
    document = {
        **route_reference(route),
        "status": route.status,
        "vehicleGroup": route.vehicle_group.name,
        "gate": route.gate.name,
        "startTime": iso_local(route.start_time, route_zone(route)),
        "endTime": iso_local(route.end_time, route_zone(route)),
        "stopsCount": route.stops_count,
        "distanceKm": route.distance_km,
        "duration": route.duration,
    }
    if full:
        mine, others = route_stops_for_shipper(route=route, tenant=tenant)
        document["stops"] = [stop_document(s) for s in mine]
        document["otherStops"] = others
    return document


def order_route_and_stop(order: Order) -> tuple[dict | None, dict | None]:
    """The route and stop an order is on, for the Plan API."""
    stop = order_stop(order)
    if stop is None:
        return None, None
    return route_reference(stop.route), stop_document(stop)
