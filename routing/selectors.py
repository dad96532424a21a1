"""Routing reads: a job as a ``Problem``, and jobs, routes and stops as the API shows them."""

from __future__ import annotations

import math
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Q, QuerySet

from carriers.market import requirement_tags
from config.api.errors import first_or_404
from orders.documents import order_reference
from orders.models import ROUTABLE, Order
from routing.matrix import matrix_provider
from routing.models import ROUTE_OPEN_STATUSES, Gate, OptimizationJob, Route, Stop, VehicleGroup
from routing.problem import DepotSpec, Fleet, GateSlot, Problem, Visit
from routing.solver import DAY_END as HORIZON_S

DEFAULT_SERVICE_S = 300
DEFAULT_SERVICE_PER_COLLO_S = 60


def _seconds(moment: time) -> int:
    return moment.hour * 3600 + moment.minute * 60 + moment.second


def _clock(text: str) -> int:
    hours, minutes = str(text).split(":")[:2]
    return int(hours) * 3600 + int(minutes) * 60


def job_origin(job: OptimizationJob) -> datetime:
    """Midnight of the job's day in its depot's zone: the zero of every time in its plan."""
    depot = job.vehicle_groups.select_related("depot").first()
    zone = ZoneInfo(depot.depot.time_zone if depot else settings.TIME_ZONE)
    return datetime.combine(job.date, time(0), tzinfo=zone)


def orders_in_scope(
    *, day: date, live_mode: bool, owner=None, time_zone: str = "Europe/Copenhagen"
) -> QuerySet[Order]:
    """The orders a job for ``day`` takes by default: delivered that day, with a position."""
    zone = ZoneInfo(time_zone)
    start = datetime.combine(day, time(0), tzinfo=zone)
    end = start + timedelta(days=1)
    orders = Order.objects.filter(
        live_mode=live_mode,
        status__in=ROUTABLE,
        delivery_latitude__isnull=False,
        delivery_from__lt=end,
        delivery_to__gte=start,
    ).exclude(stops__route__status__in=ROUTE_OPEN_STATUSES)
    return orders.filter(shipper=owner) if owner is not None else orders


def _position(order: Order) -> tuple[float, float]:
    latitude, longitude = order.delivery_latitude, order.delivery_longitude
    if not (
        isinstance(latitude, float | int)
        and isinstance(longitude, float | int)
        and math.isfinite(latitude)
        and math.isfinite(longitude)
        and -90 <= latitude <= 90
        and -180 <= longitude <= 180
    ):
        raise ValueError(f"The delivery position ({latitude}, {longitude}) is not on the map.")
    return (latitude, longitude)


def _window(order: Order, origin: datetime) -> tuple[int, int] | None:
    if order.delivery_from is None or order.delivery_to is None:
        return None
    start = int((order.delivery_from - origin).total_seconds())
    end = int((order.delivery_to - origin).total_seconds())
    # A frame opened before the job's day opens at its start for this job; one running past
    # the planning horizon is open to its end.
    return (min(max(start, 0), HORIZON_S), min(max(end, 0), HORIZON_S))


def _visit(order: Order, origin: datetime, job_settings: dict, known, namespaces) -> Visit:
    """The order as the solver sees it; ValueError when its data cannot be routed."""
    collis = list(order.collis.all())
    tags = set(order.tags)
    for collo in collis:
        tags.update(collo.tags)
    window = _window(order, origin)
    service = job_settings.get("serviceTimeS", DEFAULT_SERVICE_S) + job_settings.get(
        "serviceTimePerColloS", DEFAULT_SERVICE_PER_COLLO_S
    ) * len(collis)
    weight_g = int(sum((c.weight for c in collis), Decimal(0)) * 1000)
    volume_l = math.ceil(sum((c.volume or 0 for c in collis), Decimal(0)) * 1000)
    if weight_g < 0 or volume_l < 0:
        raise ValueError("The order's collis weigh or measure less than nothing.")
    return Visit(
        key=str(order.id),
        position=_position(order),
        weight_g=weight_g,
        volume_l=volume_l,
        colli=len(collis),
        service_s=service,
        window=window,
        tags=requirement_tags(tags, known, namespaces),
    )


def _grams(kg) -> int | None:
    return None if kg is None else int(Decimal(kg) * 1000)


def _litres(m3) -> int | None:
    return None if m3 is None else int(Decimal(m3) * 1000)


def fleet_of(group: VehicleGroup) -> Fleet:
    return Fleet(
        key=str(group.id),
        name=group.name,
        depot=str(group.depot_id),
        vehicle_type=group.vehicle_type,
        vehicles=group.vehicles,
        tags=frozenset(group.handled_tags),
        max_weight_g=_grams(group.max_weight_kg),
        max_volume_l=_litres(group.max_volume_m3),
        max_colli=group.max_colli,
        max_stops=group.max_stops,
        max_duration_s=group.max_duration_s,
        max_distance_m=group.max_distance_m,
        # Ten-thousandths of the currency: per metre, per second, per vehicle. Distance always
        # costs a little, so free groups still drive the shortest way.
        cost_per_m=max(1, round(group.cost_per_km * 10)),
        cost_per_s=round(group.cost_per_hour * 10_000 / 3600),
        cost_per_vehicle=round(group.cost_per_vehicle * 10_000),
        shift=(_seconds(group.shift_start), _seconds(group.shift_end)),
        break_after_s=group.break_after_s,
        break_duration_s=group.break_duration_s,
    )


def gate_slots(gate: Gate) -> list[GateSlot]:
    return [
        GateSlot(
            gate=str(gate.id),
            depot=str(gate.depot_id),
            start_s=_clock(slot["start"]),
            end_s=_clock(slot["end"]),
            departures=slot["departures"],
        )
        for slot in gate.slots
    ]


def problem_for_job(job: OptimizationJob) -> Problem:
    """The job as the solver sees it; travel times from the configured matrix provider."""
    origin = job_origin(job)
    groups = list(job.vehicle_groups.select_related("depot"))
    gates = list(job.gates.all())
    orders = list(job.orders.prefetch_related("collis").order_by("created_at", "id"))
    depots = {str(g.depot_id): g.depot for g in groups}
    known = frozenset(t for g in groups for t in g.handled_tags)
    namespaces = tuple(settings.CARRIER_REQUIREMENT_TAG_NAMESPACES)
    visits, left_out = [], {}
    for order in orders:
        try:
            visits.append(_visit(order, origin, job.settings, known, namespaces))
        except Exception as exc:  # one order's bad data leaves that order out, not the job
            left_out[str(order.id)] = f"{type(exc).__name__}: {exc}"
    depot_specs = [DepotSpec(key, (d.latitude, d.longitude)) for key, d in depots.items()]
    points = [d.position for d in depot_specs] + [v.position for v in visits]
    provider = matrix_provider()
    return Problem(
        depots=depot_specs,
        visits=visits,
        fleets=[fleet_of(g) for g in groups],
        slots=[slot for gate in gates for slot in gate_slots(gate)],
        matrices={kind: provider.matrix(points, kind) for kind in {g.vehicle_type for g in groups}},
        left_out=left_out,
    )


# --- documents --------------------------------------------------------------------------------


def _at(origin: datetime, seconds: int | None) -> str | None:
    return None if seconds is None else (origin + timedelta(seconds=seconds)).isoformat()


def job_get(job_id) -> OptimizationJob:
    return first_or_404(
        OptimizationJob.objects.filter(id=job_id), f"No optimisation job with id '{job_id}'."
    )


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


def routes_for_shipper(*, shipper, live_mode: bool) -> QuerySet[Route]:
    """Routes carrying at least one of the shipper's orders."""
    return (
        Route.objects.filter(stops__order__shipper=shipper, stops__order__live_mode=live_mode)
        .distinct()
        .select_related("vehicle_group", "gate")
    )


def route_for_shipper(*, shipper, live_mode: bool, route_id) -> Route:
    return first_or_404(
        routes_for_shipper(shipper=shipper, live_mode=live_mode).filter(id=route_id),
        f"No route with id '{route_id}'.",
    )


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
        mine = Q(order__shipper=shipper, order__live_mode=live_mode)
        stops = route.stops.select_related("order")
        document["stops"] = [stop_document(s) for s in stops.filter(mine)]
        document["otherStops"] = stops.exclude(mine).count()
    return document


def order_route_and_stop(order: Order) -> tuple[dict | None, dict | None]:
    """The route and stop an order is on, for the Plan API."""
    stop = (
        Stop.objects.select_related("route", "order")
        .filter(order=order)
        .order_by("-route__created_at")
        .first()
    )
    if stop is None:
        return None, None
    return route_reference(stop.route), stop_document(stop)


def route_shared_with(order: Order) -> dict[str, Any] | None:
    """Orders on the same route as ``order``: the shipper's by creatorOrderId, others counted."""
    stop = Stop.objects.filter(order=order).order_by("-route__created_at").first()
    if stop is None:
        return None
    others = Stop.objects.filter(route_id=stop.route_id).exclude(order=order)
    mine = Q(order__shipper_id=order.shipper_id, order__live_mode=order.live_mode)
    return {
        "orders": sorted(others.filter(mine).values_list("order__creator_order_id", flat=True)),
        "otherOrders": others.exclude(mine).count(),
    }
