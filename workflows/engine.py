"""The workflow engine: staff-defined workflows (``workflows.models.Workflow``) run when their
trigger happens — an order event is created or updated (seed 002), an async event is accepted
(seed 003), or an outgoing event of the catalogue is appended.

Recording is cheap and transactional: the trigger's own transaction writes one ``WorkflowRun``
per matching workflow and nothing else; which triggers any active workflow listens to is one
cached set, so an event no workflow listens to costs no query. A worker runs the run's actions
in order (``workflows.actions``), auditing each as an ``ORCHESTRATION_AUDIT`` event; a
temporary failure is retried on its action kind's schedule from the step that failed; the
sweeper queues runs whose message was lost. A workflow that triggers itself (through the events
its actions append) is stopped past ``WORKFLOW_MAX_DEPTH`` runs deep, or past
``WORKFLOW_MAX_RUNS_PER_ORDER`` runs for one order within ``WORKFLOW_LOOP_WINDOW``.
"""

from __future__ import annotations

import contextvars
import logging
import time
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from config.errors import WaybillError
from config.sweeping import queue_room, rows_take
from webhooks.models import Event, EventCategory
from workflows.actions import (
    ACTIONS,
    RETRY_SCHEDULES,
    ActionContext,
    ActionRetryable,
    action_run,
)
from workflows.conditions import Facts, condition_holds
from workflows.models import (
    WORKFLOW_RUN_OPEN,
    OrderEvent,
    TriggerKind,
    Workflow,
    WorkflowAction,
    WorkflowRun,
)
from workflows.models import WorkflowRunStatus as Status

logger = logging.getLogger(__name__)

SWEEP_LIMIT = 500
SWEEP_QUEUE_CEILING = 5_000

# --- which triggers any workflow listens to: one cached set ------------------------------

_triggers: dict = {"until": 0.0, "set": frozenset()}


def triggers_forget() -> None:
    """Drop this process's cached trigger set (a workflow was saved or deleted here; other
    processes see the change within ``WORKFLOW_TRIGGERS_CACHE_S``)."""
    _triggers["until"] = 0.0


def _active_triggers() -> frozenset[tuple[str, str]]:
    if time.monotonic() >= _triggers["until"]:
        _triggers["set"] = frozenset(
            Workflow.objects.filter(active=True).values_list("trigger_kind", "trigger_name")
        )
        _triggers["until"] = time.monotonic() + settings.WORKFLOW_TRIGGERS_CACHE_S
    return _triggers["set"]


# --- recording runs, in the trigger's transaction ------------------------------------------

# The run whose actions are executing in this thread: runs its events trigger are one deeper.
_running: contextvars.ContextVar[WorkflowRun | None] = contextvars.ContextVar(
    "workflow_run", default=None
)


@dataclass(frozen=True)
class Trigger:
    kind: str
    name: str
    key: str
    shipper_id: object
    live_mode: bool
    order_id: object = None
    event: Event | None = None
    order_event: OrderEvent | None = None


def order_event_trigger(order_event: OrderEvent) -> Trigger:
    """An order event created or updated: each write of it is a trigger of its own."""
    return Trigger(
        kind=TriggerKind.ORDER_EVENT,
        name=order_event.event_type,
        key=f"order-event:{order_event.id}@{order_event.updated_at.isoformat()}",
        shipper_id=order_event.order.shipper_id,
        live_mode=order_event.order.live_mode,
        order_id=order_event.order_id,
        order_event=order_event,
    )


def event_trigger(event: Event, kind: str) -> Trigger:
    order_id = None
    for entity_type, entity_id in (
        (event.root_entity_type, event.root_entity_id),
        (event.entity_type, event.entity_id),
    ):
        if entity_type.upper() == "ORDER" and entity_id and kind == TriggerKind.OUTGOING_EVENT:
            order_id = entity_id  # Waybill's id: outgoing events name orders by it
            break
    return Trigger(
        kind=kind,
        name=event.type,
        key=f"event:{event.id}",
        shipper_id=event.shipper_id,
        live_mode=event.live_mode,
        order_id=order_id,
        event=event,
    )


def events_appended(events: list[Event]) -> None:
    """The listener ``webhooks.services.events_append`` calls after storing events: record the
    runs of the workflows listening to their types. No workflow listening: no query."""
    active = _active_triggers()
    if not active:
        return
    triggers = [
        event_trigger(event, TriggerKind.OUTGOING_EVENT)
        for event in events
        if event.shipper_id and (TriggerKind.OUTGOING_EVENT, event.type) in active
    ]
    if triggers:
        workflow_runs_record(triggers=triggers)


def workflow_runs_record(*, triggers: list[Trigger]) -> list[WorkflowRun]:
    """Write a run per active workflow each trigger matches, inside the caller's transaction,
    and queue them after its commit. A run too deep in a loop is written stopped, audited."""
    active = _active_triggers()
    triggers = [t for t in triggers if (t.kind, t.name) in active]
    if not triggers:
        return []
    workflows: dict[tuple, list[Workflow]] = {}
    for workflow in Workflow.objects.filter(
        active=True,
        trigger_kind__in={t.kind for t in triggers},
        trigger_name__in={t.name for t in triggers},
    ):
        workflows.setdefault((workflow.trigger_kind, workflow.trigger_name), []).append(workflow)
    parent = _running.get()
    now = timezone.now()
    runs = [
        WorkflowRun(
            workflow=workflow,
            trigger_key=trigger.key,
            trigger_event=trigger.event,
            order_event=trigger.order_event,
            order_id=trigger.order_id,
            shipper_id=trigger.shipper_id,
            live_mode=trigger.live_mode,
            depth=parent.depth + 1 if parent else 0,
            next_attempt_at=now,
            queued_at=now,
        )
        for trigger in triggers
        for workflow in workflows.get((trigger.kind, trigger.name), ())
    ]
    _loops_stop(runs, now)
    WorkflowRun.objects.bulk_create(runs)
    for run in runs:
        if run.status == Status.STOPPED:
            _audit(run, step="run", outcome=Status.STOPPED, message=run.outcome)
    pending = [str(r.id) for r in runs if r.status == Status.PENDING]
    if pending:
        transaction.on_commit(lambda: _queue(pending))
    return runs


def _loops_stop(runs: list[WorkflowRun], now: datetime) -> None:
    """Mark the runs that would carry a loop on as stopped: too deep a chain of runs caused
    by runs, or too many runs of one workflow for one order lately."""
    with_order = [r for r in runs if r.order_id]
    counts = {}
    if with_order:
        counts = {
            (row["workflow_id"], str(row["order_id"])): row["n"]
            for row in WorkflowRun.objects.filter(
                workflow_id__in={r.workflow_id for r in with_order},
                order_id__in={r.order_id for r in with_order},
                created_at__gte=now - settings.WORKFLOW_LOOP_WINDOW,
            )
            .values("workflow_id", "order_id")
            .annotate(n=Count("id"))
        }
    for run in runs:
        seen = counts.get((run.workflow_id, str(run.order_id)), 0)
        if run.depth > settings.WORKFLOW_MAX_DEPTH:
            why = f"Stopped: a loop, {run.depth} runs deep (at most {settings.WORKFLOW_MAX_DEPTH})."
        elif run.order_id and seen >= settings.WORKFLOW_MAX_RUNS_PER_ORDER:
            why = (
                f"Stopped: a loop, {seen} runs for this order within "
                f"{settings.WORKFLOW_LOOP_WINDOW} (at most {settings.WORKFLOW_MAX_RUNS_PER_ORDER})."
            )
        else:
            if run.order_id:
                counts[(run.workflow_id, str(run.order_id))] = seen + 1
            continue
        run.status, run.outcome, run.finished_at, run.queued_at = Status.STOPPED, why, now, None


def _queue(run_ids: list[str], countdown: float | None = None) -> None:
    from config.queue import enqueue
    from workflows.tasks import workflow_run_process

    for run_id in run_ids:
        enqueue(
            workflow_run_process,
            run_id,
            countdown=countdown,
            on_failure=lambda r=run_id: WorkflowRun.objects.filter(id=r).update(queued_at=None),
        )


# --- running ------------------------------------------------------------------------------


def workflow_run_process(*, run_id: str, now: datetime | None = None) -> str:
    """Run a due open run from the step it is at: test its conditions (first time only), then
    its actions in order, each audited. Safe to run twice; returns the run's status."""
    now = now or timezone.now()
    with transaction.atomic():
        run = (
            WorkflowRun.objects.select_for_update(of=("self",))
            .select_related("workflow", "order__shipper", "order_event", "trigger_event", "shipper")
            .filter(id=run_id)
            .first()
        )
        if run is None:
            return "gone"
        if run.status not in WORKFLOW_RUN_OPEN or (
            run.next_attempt_at and run.next_attempt_at > now + timedelta(seconds=1)
        ):
            return run.status  # done, or a message early for a retry not due yet
        run.queued_at = None
        context, facts = _context(run)
        if run.next_action == 0 and run.attempts == 0 and not _conditions_hold(run, facts):
            run.save()
            return run.status
        token = _running.set(run)
        try:
            _actions_run(run, context, now)
        finally:
            _running.reset(token)
        run.save()
    return run.status


def _context(run: WorkflowRun) -> tuple[ActionContext, Facts]:
    order, event, order_event = run.order, run.trigger_event, run.order_event
    if order is None and event is not None:
        from workflows.orchestration import _order

        try:
            order = _order(event)  # an async event names its order by id or creatorOrderId
            run.order = order
        except WaybillError:
            order = None
    if order_event is not None:
        attributes = {
            "event_type": order_event.event_type,
            "event_reference": order_event.event_reference,
            "message": order_event.message,
            "custom_fields": order_event.custom_fields,
        }
        message, custom, lines = order_event.message, order_event.custom_fields, order_event.lines
    else:
        attributes = event.data if event is not None and isinstance(event.data, dict) else {}
        message = str(attributes.get("message") or "")
        custom = attributes.get("custom_fields") or attributes.get("customFields") or {}
        lines = None
    context = ActionContext(
        run_id=str(run.id),
        position=0,
        workflow_name=run.workflow.name,
        trigger=f"{run.workflow.trigger_kind}:{run.workflow.trigger_name}",
        order=order,
        message=message,
        custom_fields=custom if isinstance(custom, dict) else {},
        lines=lines,
        attributes=attributes,
        event_id=str(event.id) if event else str(order_event.id) if order_event else "",
    )
    slug = run.shipper.slug if run.shipper else ""
    return context, Facts(shipper_slug=slug, order=order, attributes=attributes)


def _conditions_hold(run: WorkflowRun, facts: Facts) -> bool:
    for condition in run.workflow.conditions.all():
        if not condition_holds(condition, facts):
            _finish(run, Status.SKIPPED, f"Condition not met: {condition}.")
            _audit(
                run,
                step="condition",
                outcome=Status.SKIPPED,
                message=run.outcome,
                rule=str(condition),
            )
            return False
    return True


def _actions_run(run: WorkflowRun, context: ActionContext, now: datetime) -> None:
    actions = list(WorkflowAction.objects.filter(workflow_id=run.workflow_id))
    for index in range(run.next_action, len(actions)):
        action = actions[index]
        step = replace(context, position=index)
        try:
            done = action_run(action.kind, step, action.params)
        except ActionRetryable as exc:
            _retry_or_fail(run, action, str(exc), now)
            return
        except WaybillError as exc:
            _action_failed(run, action, exc.detail)
            return
        except Exception as exc:  # an unforeseen error of one step: retried, never lost
            logger.exception("Workflow %s step %s failed.", run.workflow.name, index)
            _retry_or_fail(run, action, f"{type(exc).__name__}: {exc}", now)
            return
        _audit(run, step="action", outcome=Status.DONE, message=done, action=action)
        run.next_action, run.attempts, run.last_error = index + 1, 0, ""
    _finish(run, Status.DONE, f"{len(actions)} actions done.")
    _audit(run, step="run", outcome=Status.DONE, message=run.outcome)


def _retry_or_fail(run: WorkflowRun, action: WorkflowAction, error: str, now: datetime) -> None:
    retry_kind = ACTIONS[action.kind].retry_kind if action.kind in ACTIONS else "order"
    schedule = RETRY_SCHEDULES[retry_kind]
    run.attempts += 1
    if run.attempts > len(schedule):
        _action_failed(run, action, f"{error} (after {run.attempts} attempts)")
        return
    wait = schedule[run.attempts - 1]
    run.status, run.last_error = Status.RETRYING, error
    run.next_attempt_at = run.queued_at = now + wait
    _audit(
        run,
        step="action",
        outcome=Status.RETRYING,
        message=f"Attempt {run.attempts} failed; next at {run.next_attempt_at.isoformat()}.",
        action=action,
        error=error,
    )
    run_id = str(run.id)
    transaction.on_commit(lambda: _queue([run_id], countdown=wait.total_seconds()))


def _action_failed(run: WorkflowRun, action: WorkflowAction, error: str) -> None:
    run.last_error = error
    _finish(run, Status.FAILED, f"Action {action.position} ({action.kind}) failed: {error}")
    _audit(
        run, step="action", outcome=Status.FAILED, message=run.outcome, action=action, error=error
    )


def _finish(run: WorkflowRun, status: str, outcome: str) -> None:
    run.status, run.outcome, run.finished_at = status, outcome[:500], timezone.now()
    run.next_attempt_at = run.queued_at = None


def _audit(
    run: WorkflowRun,
    *,
    step: str,
    outcome: str,
    message: str,
    action: WorkflowAction | None = None,
    rule: str = "",
    error: str = "",
) -> Event:
    """An ``ORCHESTRATION_AUDIT`` event of what the run did, on its order (else on its
    trigger's entities), readable through ``GET /event``."""
    trigger = run.trigger_event
    if run.order_id:
        ref = run.order.creator_order_id if run.order else ""
        entities = dict(entity_type="ORDER", entity_id=str(run.order_id), entity_ref=ref)
        roots = dict(
            root_entity_type="ORDER", root_entity_id=str(run.order_id), root_entity_ref=ref
        )
    else:
        entities = {k: getattr(trigger, k, "") for k in ("entity_type", "entity_id", "entity_ref")}
        roots = {
            k: getattr(trigger, k, "")
            for k in ("root_entity_type", "root_entity_id", "root_entity_ref")
        }
    return Event.objects.create(
        type=run.workflow.trigger_name,
        version="1.0",
        live_mode=run.live_mode,
        date_time=timezone.now(),
        data={
            "trigger": str(run.trigger_event_id or run.order_event_id or ""),
            "workflow": run.workflow.name,
            "run": str(run.id),
            "step": step,
            "rule": rule or None,
            "action": action.kind if action else None,
            "position": action.position if action else None,
            "outcome": outcome,
            "message": message,
            "error": error or None,
        },
        category=EventCategory.ORCHESTRATION_AUDIT,
        shipper_id=run.shipper_id,
        **entities,
        **roots,
        correlation_id=str(run.trigger_event_id or run.order_event_id or ""),
    )


def workflow_runs_sweep(*, now: datetime | None = None, limit: int = SWEEP_LIMIT) -> int:
    """Queue the open runs whose message is lost: due with none out (the broker refused it),
    or queued longer ago than the lease. Returns how many were queued."""
    from workflows.tasks import workflow_run_process as task

    room = queue_room(task, ceiling=SWEEP_QUEUE_CEILING)
    if not room:
        return 0
    now = now or timezone.now()
    open_runs = WorkflowRun.objects.filter(status__in=WORKFLOW_RUN_OPEN)
    lost = [
        open_runs.filter(queued_at__isnull=True, next_attempt_at__lte=now).order_by(
            "next_attempt_at"
        ),
        open_runs.filter(queued_at__lt=now - settings.WORKFLOW_QUEUE_LEASE).order_by("queued_at"),
    ]
    with transaction.atomic():
        ids = rows_take(lost, limit=min(limit, room), stamp={"queued_at": now})
        run_ids = [str(i) for i in ids]
        transaction.on_commit(lambda: _queue(run_ids))
    if ids:
        logger.info("Workflow sweeper queued %d runs.", len(ids))
    return len(ids)
