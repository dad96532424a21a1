"""Routing writes: creating, running, cancelling and approving optimisation jobs; taking a
stop off an approved route and cancelling a route."""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Max, Q
from django.utils import timezone

from carriers.models import Plan
from carriers.services import planning_request, plans_release, plans_route
from config.errors import Conflict, InvalidInput
from config.queue import enqueue_row
from config.sweeping import rows_take
from notifications.services import order_etas_changed
from orders.events import order_event_target
from orders.models import ROUTABLE, Order, OrderStatus
from orders.services import order_statuses_move
from routing.documents import job_zone
from routing.matrix import (
    GreatCircleMatrix,
    MatrixUnavailable,
    TravelMatrix,
    matrix_provider,
    travel_matrices,
)
from routing.models import (
    ROUTE_CANCELLABLE_STATUSES,
    ROUTE_OPEN_STATUSES,
    Gate,
    JobStatus,
    OptimizationJob,
    Route,
    RouteStatus,
    Stop,
    StopKind,
    VehicleGroup,
    route_can_move,
)
from routing.problem import Solution
from routing.reasons import INVALID_ORDER_DATA
from routing.selectors import (
    gate_slots,
    job_origin,
    orders_in_scope,
    problem_for_job,
)
from routing.solver import Unsolvable, solve
from webhooks.catalogue import EventName
from webhooks.services import event_append, event_build, events_append

logger = logging.getLogger(__name__)

FIRST_JOB_NUMBER = 100_000
ACTIVE = (JobStatus.QUEUED, JobStatus.RUNNING)
# A job past its budget by this much has lost its worker.
STALE_AFTER_S = 300
# Runs a job may start; one whose worker stopped this often is failed by the sweeper, since
# something in it stops workers and starting it again would only stop the next one.
MAX_JOB_ATTEMPTS = 3
# Jobs one sweep looks at: a handful are ever open at once, each a row and one message.
JOBS_SWEEP_LIMIT = 100


def _next_number() -> int:
    last = OptimizationJob.objects.aggregate(n=Max("number"))["n"]
    return (last or FIRST_JOB_NUMBER - 1) + 1


@transaction.atomic
def job_create(
    *,
    name: str,
    day: date,
    live_mode: bool,
    vehicle_groups: list[VehicleGroup],
    gates: list[Gate],
    owner=None,
    orders: list[Order] | None = None,
    time_budget_s: int = 30,
    seed: int = 1,
    job_settings: dict[str, Any] | None = None,
    actor: str,
) -> OptimizationJob:
    """A queued job over ``orders`` (default: the day's routable orders), run after commit."""
    if not vehicle_groups:
        raise InvalidInput.for_field("vehicleGroups", "Give at least one vehicle group.")
    if not gates:
        raise InvalidInput.for_field("gates", "Give at least one gate.")
    depots = {g.depot_id for g in vehicle_groups}
    if any(g.depot_id not in depots for g in gates):
        raise InvalidInput.for_field("gates", "Every gate must be at a vehicle group's depot.")
    if orders is None:
        zone = vehicle_groups[0].depot.time_zone
        orders = list(orders_in_scope(day=day, live_mode=live_mode, owner=owner, time_zone=zone))
    unplaced = [o.creator_order_id for o in orders if o.delivery_latitude is None]
    if unplaced:
        raise InvalidInput.for_field(
            "orders", f"Orders without a delivery position cannot be routed: {unplaced[:20]}."
        )
    job = OptimizationJob.objects.create(
        name=name,
        date=day,
        owner=owner,
        live_mode=live_mode,
        settings=job_settings or {},
        time_budget_s=time_budget_s,
        seed=seed,
        status=JobStatus.QUEUED,
        queued_at=timezone.now(),
        created_by=actor,
        number=_next_number(),
    )
    job.vehicle_groups.set(vehicle_groups)
    job.gates.set(gates)
    job.orders.set(orders)
    _queue_on_commit(job.id)
    return job


def _queue_on_commit(job_id) -> None:
    transaction.on_commit(lambda: _queue(job_id))


def _queue(job_id) -> None:
    """Queue the job's run now; if the broker refuses, it loses its stamp and the next sweep
    queues it."""
    from routing.tasks import job_run as job_run_task

    enqueue_row(job_run_task, OptimizationJob, job_id)


@transaction.atomic
def job_rerun(*, job: OptimizationJob) -> OptimizationJob:
    """Solve again, replacing an unapproved solution."""
    job = OptimizationJob.objects.select_for_update().get(id=job.id)
    if job.status == JobStatus.APPROVED:
        raise Conflict("An approved job cannot run again.", code="job_approved")
    if job.status in ACTIVE:
        raise Conflict("The job is already queued or running.", code="job_active")
    job.status, job.progress, job.cancel_requested, job.error = JobStatus.QUEUED, 0, False, ""
    job.solution, job.meta, job.attempts = {}, {}, 0
    job.queued_at = timezone.now()
    job.save()
    _queue_on_commit(job.id)
    return job


@transaction.atomic
def job_cancel(*, job: OptimizationJob) -> OptimizationJob:
    """Stop a queued or running job (the solver stops within a second), or drop a solution."""
    job = OptimizationJob.objects.select_for_update().get(id=job.id)
    if job.status == JobStatus.APPROVED:
        raise Conflict("An approved job cannot be cancelled.", code="job_approved")
    if job.status == JobStatus.RUNNING:
        job.cancel_requested = True
        job.save(update_fields=["cancel_requested"])
    elif job.status != JobStatus.CANCELLED:
        job.status = JobStatus.CANCELLED
        job.finished_at = timezone.now()
        job.save(update_fields=["status", "finished_at"])
    return job


def jobs_sweep(*, now: datetime | None = None) -> int:
    """Queue again the jobs a crashed worker left running, and queued jobs whose message is
    lost (none out for them, or it waited past ``ROUTING_JOB_QUEUE_LEASE``); fail those whose
    worker stopped ``MAX_JOB_ATTEMPTS`` times. Returns how many it queued."""
    now = now or timezone.now()
    requeued = 0
    running = OptimizationJob.objects.filter(status=JobStatus.RUNNING).order_by("started_at")
    for job in running[:JOBS_SWEEP_LIMIT]:
        since = job.started_at or job.created_at
        if now - since <= timedelta(seconds=job.time_budget_s + STALE_AFTER_S):
            continue
        if job.attempts >= MAX_JOB_ATTEMPTS:
            OptimizationJob.objects.filter(id=job.id, status=job.status).update(
                status=JobStatus.FAILED,
                finished_at=now,
                error=f"The worker running this job stopped {job.attempts} times without "
                "finishing it; it is not started again. Check its orders, then run it again.",
            )
            continue
        if OptimizationJob.objects.filter(id=job.id, status=job.status).update(
            status=JobStatus.QUEUED, started_at=None, progress=0, queued_at=now
        ):
            requeued += 1
            _queue(job.id)
    lost = OptimizationJob.objects.filter(
        Q(queued_at__isnull=True) | Q(queued_at__lt=now - settings.ROUTING_JOB_QUEUE_LEASE),
        status=JobStatus.QUEUED,
    ).order_by("created_at")
    with transaction.atomic():
        ids = rows_take([lost], limit=JOBS_SWEEP_LIMIT, stamp={"queued_at": now})
    for job_id in ids:
        _queue(job_id)
    return requeued + len(ids)


def _claim(job_id) -> OptimizationJob | None:
    with transaction.atomic():
        job = OptimizationJob.objects.select_for_update().filter(id=job_id).first()
        if job is None or job.status != JobStatus.QUEUED:
            return None
        job.status, job.started_at, job.progress = JobStatus.RUNNING, timezone.now(), 0
        job.attempts += 1
        job.queued_at = None  # its message is taken
        job.save(update_fields=["status", "started_at", "progress", "attempts", "queued_at"])
        return job


def job_run(*, job_id) -> OptimizationJob | None:
    """Solve a queued job within its time budget; progress and cancelling go through the row."""
    job = _claim(job_id)
    if job is None:
        return None

    def on_progress(done: float) -> bool:
        rows = OptimizationJob.objects.filter(id=job.id)
        rows.update(progress=done)
        return rows.filter(cancel_requested=True).exists()

    try:
        problem = problem_for_job(job)
        problem.matrices = travel_matrices(problem.points, {f.vehicle_type for f in problem.fleets})
        solution = solve(
            problem,
            time_budget_s=job.time_budget_s,
            seed=job.seed,
            max_iterations=job.settings.get("maxIterations"),
            on_progress=on_progress,
        )
    except (MatrixUnavailable, Unsolvable) as exc:
        return _finish(job, status=JobStatus.FAILED, error=str(exc))
    except Exception as exc:  # a job left running would be started again by the sweeper
        logger.exception("Optimisation job %s failed.", job.id)
        return _finish(job, status=JobStatus.FAILED, error=f"{type(exc).__name__}: {exc}")
    for key in problem.left_out:
        solution.unscheduled[key] = [INVALID_ORDER_DATA]
    return _finish(job, solution=solution, error=_left_out_note(job, problem.left_out))


def _left_out_note(job: OptimizationJob, left_out: dict[str, str]) -> str:
    """What the dispatcher needs to mend the orders a job had to leave out for their data."""
    if not left_out:
        return ""
    refs = {
        str(order_id): ref
        for order_id, ref in job.orders.filter(id__in=list(left_out)).values_list(
            "id", "creator_order_id"
        )
    }
    lines = [f"{refs.get(key, key)}: {why}" for key, why in left_out.items()]
    return "Left out, their data cannot be routed:\n" + "\n".join(lines)


@transaction.atomic
def _finish(
    job: OptimizationJob,
    *,
    solution: Solution | None = None,
    status: str = JobStatus.SOLVED,
    error: str = "",
) -> OptimizationJob:
    job = OptimizationJob.objects.select_for_update().get(id=job.id)
    job.finished_at = timezone.now()
    if job.cancel_requested or (solution is not None and solution.stopped_by == "cancelled"):
        job.status = JobStatus.CANCELLED
    else:
        job.status, job.error = status, error
        if solution is not None:
            job.solution = solution_document(solution)
            job.meta = solution_meta(solution)
            job.progress = 1
    job.save()
    return job


def solution_document(solution: Solution) -> dict[str, Any]:
    return {
        "routes": [
            {
                "fleet": r.fleet,
                "gate": r.gate,
                "slotStartS": r.slot_start_s,
                "slotEndS": r.slot_end_s,
                "startS": r.start_s,
                "endS": r.end_s,
                "distanceM": r.distance_m,
                "drivingS": r.driving_s,
                "waitingS": r.waiting_s,
                "taskS": r.task_s,
                "breakS": r.break_s,
                "weightG": r.weight_g,
                "volumeL": r.volume_l,
                "colli": r.colli,
                "stops": [
                    {
                        "visit": s.visit,
                        "sequence": s.sequence,
                        "arrivalS": s.arrival_s,
                        "startS": s.start_s,
                        "endS": s.end_s,
                    }
                    for s in r.stops
                ],
            }
            for r in solution.routes
        ],
        "unscheduled": solution.unscheduled,
        "cost": solution.cost,
        "runtimeS": solution.runtime_s,
        "iterations": solution.iterations,
        "stoppedBy": solution.stopped_by,
    }


def solution_meta(solution: Solution) -> dict[str, Any]:
    """The seed's ``meta`` of RouteOptimizationJobApproved: totals over every route."""
    routes = solution.routes
    return {
        "routesCount": len(routes),
        "shipmentsCount": sum(len(r.stops) for r in routes),
        "servicesCount": 0,
        "duration": sum(r.duration_s for r in routes),
        "distance": sum(r.distance_m for r in routes) / 1000,
        "drivingDuration": sum(r.driving_s for r in routes),
        "waitingTime": sum(r.waiting_s for r in routes),
        "taskTime": sum(r.task_s for r in routes),
        "breakTime": sum(r.break_s for r in routes),
        "weight": sum(r.weight_g for r in routes) / 1000,
        "volume": sum(r.volume_l for r in routes) / 1000,
        "unscheduledTasks": len(solution.unscheduled),
    }


@transaction.atomic
def job_approve(*, job: OptimizationJob, actor: str) -> list[Route]:
    """Turn a solved job into routes and stops, put its orders on them, and tell subscribers:
    one RouteOptimizationJobApproved per shipper involved, one OrderAddedToRoute and one
    OrderPlanned (naming the route) per order routed, one RouteOptimizationOrderUnscheduled
    per order left out.

    One allocation per order: a routed order's carrier booking is released (capacity back,
    off the carrier's manifest) and a routed plan becomes its current plan.
    """
    job, orders = _approval_lock(job)
    now = timezone.now()
    origin = job_origin(job)
    routes, stops = _approval_rows(job, orders, origin, now)
    Route.objects.bulk_create(routes)
    Stop.objects.bulk_create(stops)
    plans = _approval_moves(stops, actor)
    job.status, job.approved_at, job.approved_by = JobStatus.APPROVED, now, actor
    job.save(update_fields=["status", "approved_at", "approved_by"])
    events_append(events=_approval_events(job, orders, routes, stops, plans, origin, now))
    # Seed 004's schedule trigger: each receiver hears of its delivery stop's ETA.
    order_etas_changed(
        etas=[(s.order_id, s.eta, None) for s in stops if s.kind == StopKind.DELIVERY]
    )
    return routes


def _approval_lock(job: OptimizationJob) -> tuple[OptimizationJob, dict[str, Order]]:
    """The job and its orders, locked; refused unless every routed order can still go."""
    job = OptimizationJob.objects.select_for_update().get(id=job.id)
    if job.status == JobStatus.APPROVED:
        raise Conflict("This job is approved already.", code="job_approved")
    if job.status != JobStatus.SOLVED:
        raise Conflict(f"Only a solved job can be approved; this one is {job.status}.")
    solution = job.solution
    routed = [s["visit"] for r in solution["routes"] for s in r["stops"]]
    orders = {
        str(o.id): o
        for o in Order.objects.select_for_update(of=("self",))
        .select_related("shipper")
        .filter(id__in=[*routed, *solution["unscheduled"]])
    }
    moved = [orders[i].creator_order_id for i in routed if orders[i].status not in ROUTABLE]
    if moved:
        raise Conflict(
            f"Orders changed since the job ran ({', '.join(moved[:20])}); run it again.",
            code="orders_changed",
        )
    return job, orders


def _approval_rows(
    job: OptimizationJob, orders: dict[str, Order], origin: datetime, now: datetime
) -> tuple[list[Route], list[Stop]]:
    """The routes and stops of the solution, unsaved, with the seed's figures."""
    groups = {str(g.id): g for g in job.vehicle_groups.all()}
    gates = {str(g.id): g for g in job.gates.select_related("depot")}
    routes, stops = [], []
    for number, planned in enumerate(job.solution["routes"], start=1):
        first = planned["stops"][0]["startS"] - planned["startS"] if planned["stops"] else 0
        route = Route(
            job=job,
            slug=f"M{job.number}-{number:02d}",
            reference=f"{job.name} {number}",
            executors=list(job.settings.get("executors", [])),
            vehicle_group=groups[planned["fleet"]],
            gate=gates[planned["gate"]],
            start_time=origin + timedelta(seconds=planned["startS"]),
            end_time=origin + timedelta(seconds=planned["endS"]),
            stops_count=len(planned["stops"]),
            first_stop_task_time=first,
            duration=planned["endS"] - planned["startS"],
            distance_km=planned["distanceM"] / 1000,
            driving_duration=planned["drivingS"],
            waiting_time=planned["waitingS"],
            task_time=planned["taskS"],
            break_time=planned["breakS"],
            weight=planned["weightG"] / 1000,
            volume=planned["volumeL"] / 1000,
            created_at=now,
        )
        routes.append(route)
        for planned_stop in planned["stops"]:
            order = orders[planned_stop["visit"]]
            stops.append(
                Stop(
                    route=route,
                    sequence=planned_stop["sequence"],
                    order=order,
                    latitude=order.delivery_latitude,
                    longitude=order.delivery_longitude,
                    planned_arrival=origin + timedelta(seconds=planned_stop["arrivalS"]),
                    eta=origin + timedelta(seconds=planned_stop["startS"]),
                    window_from=order.delivery_from,
                    window_to=order.delivery_to,
                    service_time_s=planned_stop["endS"] - planned_stop["startS"],
                )
            )
    return routes, stops


def _approval_moves(stops: list[Stop], actor: str) -> dict[str, Plan]:
    """The routed orders go ``on_route`` (one bulk move) and off their carrier plans."""
    notes = {
        s.order.id: f"Route {s.route.slug}, stop {s.sequence}, ETA {s.eta.isoformat()}"
        for s in stops
    }
    order_statuses_move(
        orders=[s.order for s in stops],
        to=OrderStatus.ON_ROUTE,
        actor=actor,
        reason="Routed by an approved optimisation job.",
        action="routed",
        notes=notes,
        updates={"needs_planning": False},
    )
    return plans_route(stops=stops, actor=actor)


def _approval_events(job, orders, routes, stops, plans, origin: datetime, now: datetime) -> list:
    """The approval's events: the job's per shipper, then each routed order's, then each
    left-out order's."""
    events = _job_approved_events(job, orders, routes, origin, now)
    for stop in stops:
        order, target = stop.order, order_event_target(stop.order)
        plan = plans[str(order.id)]
        plan.order = order  # the builders read the plan's order: the one loaded here
        events.append(
            event_build(
                type=EventName.ORDER_ADDED_TO_ROUTE,
                time_of_event=now,
                order=order,
                route=stop.route,
                stop=stop,
                **target,
            )
        )
        events.append(
            event_build(
                type=EventName.ORDER_PLANNED,
                time_of_event=now,
                order=order,
                plan=plan,
                shared_with=_shared_on_route(stop, stops),
                route=stop.route,
                stop=stop,
                **target,
            )
        )
    for key, reasons in job.solution["unscheduled"].items():
        events.append(
            event_build(
                type=EventName.ROUTE_OPTIMIZATION_ORDER_UNSCHEDULED,
                time_of_event=now,
                order=orders[key],
                reasons=reasons,
                **order_event_target(orders[key]),
            )
        )
    return events


def _job_approved_events(job, orders, routes, origin: datetime, now: datetime) -> list:
    """One RouteOptimizationJobApproved per shipper with orders in the job (and its owner)."""
    groups = list(job.vehicle_groups.select_related("depot"))
    by_id = {g.id: g for g in groups}
    for route in routes:  # the builders read each route's depot
        route.vehicle_group = by_id.get(route.vehicle_group_id, route.vehicle_group)
    gates = list(job.gates.all())
    zone = job_zone(job)
    slots = {
        str(gate.id): [
            {
                "from": (origin + timedelta(seconds=s.start_s)).isoformat(),
                "to": (origin + timedelta(seconds=s.end_s)).isoformat(),
            }
            for s in gate_slots(gate)
        ]
        for gate in gates
    }
    shippers = {o.shipper_id: o.shipper for o in orders.values()}
    if job.owner is not None:
        shippers.setdefault(job.owner_id, job.owner)
    return [
        event_build(
            type=EventName.ROUTE_OPTIMIZATION_JOB_APPROVED,
            live_mode=job.live_mode,
            shipper=shipper,
            entity_type="ROUTE_OPTIMIZATION_JOB",
            entity_id=job.id,
            entity_ref=job.name,
            root_entity_type="ROUTE_OPTIMIZATION_JOB",
            root_entity_id=job.id,
            root_entity_ref=job.name,
            job=job,
            vehicle_groups=groups,
            gates=gates,
            zone=zone,
            time_zone=zone,
            routes=routes,
            gate_slots=slots,
            owner_id=str(shipper.id),
            time_of_event=now,
        )
        for shipper in shippers.values()
    ]


def _shared_on_route(stop: Stop, stops: list[Stop]) -> dict[str, Any]:
    """OrderPlanned's ``sharedWith`` on a route: the shipper's own orders on it by
    creatorOrderId, other shippers' only counted (as the Plan API shows them)."""
    order = stop.order
    together = [s.order for s in stops if s.route is stop.route and s.order is not order]
    mine = [
        o for o in together if (o.shipper_id, o.live_mode) == (order.shipper_id, order.live_mode)
    ]
    return {
        "orders": sorted(o.creator_order_id for o in mine),
        "otherOrders": len(together) - len(mine),
    }


# --- changing an approved route ---------------------------------------------------------------


def _lock_route(route_id) -> Route:
    return (
        Route.objects.select_for_update(of=("self",))
        .select_related("vehicle_group__depot", "gate__depot")
        .get(id=route_id)
    )


@transaction.atomic
def route_stop_remove(*, order: Order, actor: str, reason: str) -> Route | None:
    """Take the order's stop off the open route it is on, work the route's figures and ETAs
    out again, and tell the shipper (OrderRemovedFromRoute). None when it is on no route."""
    stop = Stop.objects.filter(order=order, route__status__in=ROUTE_OPEN_STATUSES).first()
    if stop is None:
        return None
    route = _lock_route(stop.route_id)
    stop.delete()
    _stops_renumber(route)
    _route_retime(route)
    event_append(
        type=EventName.ORDER_REMOVED_FROM_ROUTE,
        time_of_event=timezone.now(),
        order=order,
        route=route,
        sequence=stop.sequence,
        reason=reason,
        **order_event_target(order),
    )
    return route


def route_status_move(*, route: Route, to: str, updates: dict[str, Any] | None = None) -> Route:
    """The only code that changes ``Route.status``: move the (locked) route to ``to`` by
    ``ROUTE_TRANSITIONS``, with ``updates``, the columns the caller writes with it."""
    if not route_can_move(route.status, to):
        raise Conflict(
            f"Route {route.slug} cannot move to {to} from {route.status}.",
            code="illegal_route_status_move",
        )
    columns = {**(updates or {}), "status": to}
    # Compare-and-set: the route must still be where the caller saw it.
    if not Route.objects.filter(id=route.id, status=route.status).update(**columns):
        raise Conflict(f"Route {route.slug} changed while it was moved; try again.")
    for column, value in columns.items():
        setattr(route, column, value)
    return route


@transaction.atomic
def route_cancel(*, route: Route, actor: str, reason: str) -> Route:
    """Cancel a route none of whose goods is on the road yet: its stops go, its orders go
    back to ``unplanned`` and to carrier planning, each with an OrderRemovedFromRoute."""
    route = _lock_route(route.id)
    if route.status == RouteStatus.CANCELLED:
        return route
    if route.status not in ROUTE_CANCELLABLE_STATUSES:
        raise Conflict(
            f"Route {route.slug} is {route.get_status_display().lower()}; "
            "only a planned or dispatched route can be cancelled.",
            code="route_not_cancellable",
        )
    stops = {s.order_id: s.sequence for s in route.stops.all()}
    orders = list(
        Order.objects.select_for_update(of=("self",))
        .select_related("shipper")
        .filter(id__in=list(stops), status=OrderStatus.ON_ROUTE)
        .order_by("creator_order_id")
    )
    why = f"Route {route.slug} was cancelled: {reason}"
    now = timezone.now()
    order_statuses_move(
        orders=orders,
        to=OrderStatus.UNPLANNED,
        actor=actor,
        reason=why,
        action="unrouted",
        updates={"needs_planning": True, "planning_queued_at": now},
    )
    plans_release(orders=orders, actor=actor, reason=why)
    Stop.objects.filter(route=route).delete()
    route_status_move(route=route, to=RouteStatus.CANCELLED)
    _route_retime(route)
    events_append(
        events=[
            event_build(
                type=EventName.ORDER_REMOVED_FROM_ROUTE,
                time_of_event=now,
                order=order,
                route=route,
                sequence=stops[order.id],
                reason=why,
                **order_event_target(order),
            )
            for order in orders
        ]
    )
    planning_request(order_ids=[o.id for o in orders])
    return route


def _route_matrix(points: list[tuple[float, float]], vehicle_type: str) -> TravelMatrix:
    try:
        return matrix_provider().matrix(points, vehicle_type)
    except MatrixUnavailable:
        # A cancellation must not wait for the road service: straight lines will do until
        # the route is optimised again.
        logger.warning("Matrix unavailable; re-timing a route on great-circle distances.")
        return GreatCircleMatrix().matrix(points, vehicle_type)


def _stops_renumber(route: Route) -> None:
    """Number the route's stops 1..n in their order again, so a removed stop leaves no gap.

    Two passes keep the unique (route, sequence) true after every row, whatever order the
    database updates them in: every number first moves past the highest one, then each stop
    takes its new number, which no stop still holds."""
    stops = list(Stop.objects.filter(route=route).order_by("sequence"))
    if [stop.sequence for stop in stops] == list(range(1, len(stops) + 1)):
        return
    Stop.objects.filter(route=route).update(sequence=F("sequence") + stops[-1].sequence)
    for number, stop in enumerate(stops, start=1):
        stop.sequence = number
    Stop.objects.bulk_update(stops, ["sequence"])


def _route_retime(route: Route) -> None:
    """Work the route's figures and its stops' ETAs out again after a stop left it.

    The solver's schedule is not kept, so this re-times the remaining stops in their order
    from the same departure (its gate slot stays booked): travel from the depot and between
    stops with the same travel matrix the job used, wait for a window to open as the solver
    does, serve, drive back; the break follows the solver's rule (taken in the longest wait
    if it fits, else before the return). Weight and volume are summed from the remaining
    orders' collis.
    """
    group = route.vehicle_group
    stops = list(route.stops.select_related("order").prefetch_related("order__collis"))
    points = [(group.depot.latitude, group.depot.longitude)]
    points += [(s.latitude, s.longitude) for s in stops]
    matrix = _route_matrix(points, group.vehicle_type)
    moment, here = route.start_time, 0
    distance = driving = waiting = task = longest_wait = 0
    for index, stop in enumerate(stops, start=1):
        leg = int(matrix.duration_s[here, index])
        distance += int(matrix.distance_m[here, index])
        driving += leg
        stop.planned_arrival = moment + timedelta(seconds=leg)
        stop.eta = max(stop.planned_arrival, stop.window_from or stop.planned_arrival)
        wait = int((stop.eta - stop.planned_arrival).total_seconds())
        waiting, longest_wait = waiting + wait, max(longest_wait, wait)
        task += stop.service_time_s
        moment, here = stop.eta + timedelta(seconds=stop.service_time_s), index
    back = int(matrix.duration_s[here, 0]) if stops else 0
    distance += int(matrix.distance_m[here, 0]) if stops else 0
    driving += back
    end = moment + timedelta(seconds=back)
    pause = 0
    if group.break_after_s is not None and (end - route.start_time).total_seconds() > (
        group.break_after_s
    ):
        pause = group.break_duration_s
        if longest_wait >= pause:
            waiting -= pause
        else:
            end += timedelta(seconds=pause)
    collis = [c for s in stops for c in s.order.collis.all()]
    route.stops_count = len(stops)
    route.end_time = end
    route.duration = int((end - route.start_time).total_seconds())
    route.first_stop_task_time = (
        int((stops[0].eta - route.start_time).total_seconds()) if stops else 0
    )
    route.distance_km = distance / 1000
    route.driving_duration, route.waiting_time, route.task_time = driving, waiting, task
    route.break_time = pause
    route.weight = float(sum((c.weight for c in collis), Decimal(0)))
    route.volume = float(sum((c.volume or 0 for c in collis), Decimal(0)))
    route.save()
    Stop.objects.bulk_update(stops, ["planned_arrival", "eta"])
