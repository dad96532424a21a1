"""Routing reads: a job as a ``Problem`` (without its travel times, which the routing service
fetches), jobs, routes and stops. What the API shows of them is built in ``routing.documents``."""

from __future__ import annotations

import math
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Q, QuerySet

from accounts.tenancy import Tenant
from carriers.market import requirement_tags
from config.errors import first_or_404
from orders.models import ROUTABLE, Order
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
    """The job as the solver sees it, but for its travel matrices: fetching them is an HTTP
    call, which ``routing.services.job_run`` makes (``routing.matrix.travel_matrices``)."""
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
    return Problem(
        depots=depot_specs,
        visits=visits,
        fleets=[fleet_of(g) for g in groups],
        slots=[slot for gate in gates for slot in gate_slots(gate)],
        matrices={},
        left_out=left_out,
    )


def job_get(job_id) -> OptimizationJob:
    return first_or_404(
        OptimizationJob.objects.filter(id=job_id), f"No optimisation job with id '{job_id}'."
    )


def routes_for_shipper(*, tenant: Tenant) -> QuerySet[Route]:
    """Routes carrying at least one of the tenant's orders."""
    return Route.objects.of(tenant).select_related("vehicle_group__depot", "gate")


def route_for_shipper(*, tenant: Tenant, route_id) -> Route:
    return first_or_404(
        routes_for_shipper(tenant=tenant).filter(id=route_id),
        f"No route with id '{route_id}'.",
    )


def route_stops_for_shipper(*, route: Route, tenant: Tenant) -> tuple[list[Stop], int]:
    """The tenant's own stops on ``route``, in order, and how many stops are others'."""
    mine = Stop.objects.of(tenant).filter(route=route).select_related("order")
    return list(mine), route.stops.count() - len(mine)


def order_stop(order: Order) -> Stop | None:
    """The stop an order is on (its latest route's), with its route."""
    return (
        Stop.objects.select_related("route", "order")
        .filter(order=order)
        .order_by("-route__created_at")
        .first()
    )


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
