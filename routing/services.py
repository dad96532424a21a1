"""Routing writes: creating, running, cancelling and approving optimisation jobs."""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone

from config.api.errors import Conflict, InvalidInput
from config.queue import enqueue_row
from config.sweeping import rows_take
from orders.events import order_event_target
from orders.models import Order, OrderHistory, OrderStatus, order_can_move
from routing.matrix import MatrixUnavailable, travel_matrices
from routing.models import (
    Gate,
    JobStatus,
    OptimizationJob,
    Route,
    Stop,
    VehicleGroup,
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
from webhooks.services import event_build, events_append

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
    one RouteOptimizationJobApproved per shipper involved, one OrderAddedToRoute per order
    routed, one RouteOptimizationOrderUnscheduled per order left out."""
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
    moved = [
        orders[i].creator_order_id
        for i in routed
        if not order_can_move(orders[i].status, OrderStatus.ON_ROUTE)
    ]
    if moved:
        raise Conflict(
            f"Orders changed since the job ran ({', '.join(moved[:20])}); run it again.",
            code="orders_changed",
        )
    now = timezone.now()
    origin = job_origin(job)
    routes, events = _routes_and_stops(job, solution, orders, origin, actor, now)
    for key, reasons in solution["unscheduled"].items():
        events.append(
            event_build(
                type="RouteOptimizationOrderUnscheduled",
                time_of_event=now,
                order=orders[key],
                reasons=reasons,
                **order_event_target(orders[key]),
            )
        )
    job.status, job.approved_at, job.approved_by = JobStatus.APPROVED, now, actor
    job.save(update_fields=["status", "approved_at", "approved_by"])
    slots = {
        str(gate.id): [
            {
                "from": (origin + timedelta(seconds=s.start_s)).isoformat(),
                "to": (origin + timedelta(seconds=s.end_s)).isoformat(),
            }
            for s in gate_slots(gate)
        ]
        for gate in job.gates.all()
    }
    shippers = {o.shipper_id: o.shipper for o in orders.values()}
    if job.owner is not None:
        shippers.setdefault(job.owner_id, job.owner)
    for shipper in shippers.values():
        events.insert(
            0,
            event_build(
                type="RouteOptimizationJobApproved",
                live_mode=job.live_mode,
                shipper=shipper,
                entity_type="ROUTE_OPTIMIZATION_JOB",
                entity_id=job.id,
                entity_ref=job.name,
                root_entity_type="ROUTE_OPTIMIZATION_JOB",
                root_entity_id=job.id,
                root_entity_ref=job.name,
                job=job,
                routes=routes,
                gate_slots=slots,
                owner_id=str(shipper.id),
                time_of_event=now,
            ),
        )
    events_append(events=events)
    return routes


def _routes_and_stops(job, solution, orders, origin: datetime, actor: str, now: datetime):
    groups = {str(g.id): g for g in job.vehicle_groups.all()}
    gates = {str(g.id): g for g in job.gates.all()}
    routes, stops, events, history, routed = [], [], [], [], []
    for number, planned in enumerate(solution["routes"], start=1):
        start = origin + timedelta(seconds=planned["startS"])
        first = planned["stops"][0]["startS"] - planned["startS"] if planned["stops"] else 0
        route = Route(
            job=job,
            slug=f"M{job.number}-{number:02d}",
            reference=f"{job.name} {number}",
            executors=list(job.settings.get("executors", [])),
            vehicle_group=groups[planned["fleet"]],
            gate=gates[planned["gate"]],
            start_time=start,
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
            stop = Stop(
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
            stops.append(stop)
            history.append(
                OrderHistory(
                    order=order,
                    actor=actor,
                    action="routed",
                    changes={"status": [order.status, OrderStatus.ON_ROUTE]},
                    note=f"Route {route.slug}, stop {stop.sequence}, ETA {stop.eta.isoformat()}",
                )
            )
            order.status = OrderStatus.ON_ROUTE
            order.updated_at = now
            routed.append(order)
            events.append(
                event_build(
                    type="OrderAddedToRoute",
                    time_of_event=now,
                    order=order,
                    route=route,
                    stop=stop,
                    **order_event_target(order),
                )
            )
    Route.objects.bulk_create(routes)
    Stop.objects.bulk_create(stops)
    OrderHistory.objects.bulk_create(history)
    Order.objects.bulk_update(routed, ["status", "updated_at"])
    return routes, events
