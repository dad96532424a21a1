"""Async events (seed 003's Event API): an ``ORCHESTRATION`` event posted to
``/event/async`` is stored, answered at once, and processed by a worker, which runs the
built-in workflow its name names (``BUILT_INS``, the one registry) and records what it did as
an ``ORCHESTRATION_AUDIT`` event on the same entities. A name no workflow takes is accepted
and audited as "no workflow matched".

Nothing is lost: the event and its ``OrchestrationRun`` are written in one transaction; the
task is queued after the commit, and ``orchestration_sweep`` queues a run whose task never
came (broker down, worker crashed) again once its lease is over.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.tenancy import Tenant
from carriers.models import Plan
from config.errors import Conflict, InvalidInput, WaybillError
from config.sweeping import queue_room, rows_take
from orders.models import Order
from orders.services import order_cancel
from tracking.facts import CarrierFact
from tracking.intake import intake_item_parse
from tracking.services import FactOutcome, carrier_facts_apply
from webhooks.catalogue import EventName
from webhooks.models import Event, EventCategory
from workflows import selectors
from workflows.engine import event_trigger, workflow_runs_record
from workflows.models import OrchestrationRun, RunStatus, TriggerKind, WorkflowRun

logger = logging.getLogger(__name__)

SWEEP_LIMIT = 500
SWEEP_QUEUE_CEILING = 5_000


@dataclass(frozen=True)
class AsyncEventSpec:
    """An event to orchestrate, with seed 003's fields."""

    name: str
    entity_type: str = ""
    entity_id: str = ""
    entity_ref: str = ""
    root_entity_type: str = ""
    root_entity_id: str = ""
    root_entity_ref: str = ""
    attributes: dict[str, Any] = field(default_factory=dict)


def async_event_accept(*, tenant: Tenant, spec: AsyncEventSpec) -> Event:
    """Store ``spec`` as an ``ORCHESTRATION`` event of ``tenant`` and queue its processing
    after the commit."""
    from workflows.tasks import orchestration_event_process

    now = timezone.now()
    with transaction.atomic():
        event = Event.objects.create(
            type=spec.name,
            version="1.0",
            live_mode=tenant.live_mode,
            date_time=now,
            data=spec.attributes,
            category=EventCategory.ORCHESTRATION,
            shipper=tenant.shipper,
            entity_type=spec.entity_type,
            entity_id=spec.entity_id,
            entity_ref=spec.entity_ref,
            root_entity_type=spec.root_entity_type,
            root_entity_id=spec.root_entity_id,
            root_entity_ref=spec.root_entity_ref,
        )
        run = OrchestrationRun.objects.create(event=event, queued_at=now)
        # Staff workflows bound to the name run too, each as a run of its own.
        workflow_runs_record(triggers=[event_trigger(event, TriggerKind.ASYNC_EVENT)])
        transaction.on_commit(lambda: _queue([str(run.id)], orchestration_event_process))
    return event


def _queue(run_ids: list[str], task) -> None:
    from config.queue import enqueue

    for run_id in run_ids:
        enqueue(
            task,
            run_id,
            on_failure=lambda r=run_id: OrchestrationRun.objects.filter(id=r).update(
                queued_at=None
            ),
        )


def orchestration_event_process(*, run_id: str) -> str:
    """Run the workflow of one pending run's event and audit it; a run done already is left
    alone (a task delivered twice does nothing twice). Returns the run's status."""
    with transaction.atomic():
        run = (
            OrchestrationRun.objects.select_for_update(of=("self",))
            .select_related("event__shipper")
            .filter(id=run_id)
            .first()
        )
        if run is None or run.status != RunStatus.PENDING:
            return run.status if run else "gone"
        event = run.event
        workflow = BUILT_INS.get(event.type)
        try:
            with transaction.atomic():
                outcome = workflow.run(event) if workflow else _staff_workflows(event)
            run.status = RunStatus.DONE
        except WaybillError as exc:
            outcome, run.status = exc.detail, RunStatus.FAILED
        _audit(event, workflow, run.status, outcome)
        run.attempts += 1
        run.processed_at = timezone.now()
        run.outcome = outcome[:500]
        run.save(update_fields=["status", "attempts", "processed_at", "outcome"])
    return run.status


def _staff_workflows(event: Event) -> str:
    names = sorted(
        WorkflowRun.objects.filter(trigger_event=event).values_list("workflow__name", flat=True)
    )
    if not names:
        return "No workflow matched."
    return "Handed to workflows: " + ", ".join(names) + "."


def _audit(event: Event, workflow: Workflow | None, status: str, outcome: str) -> Event:
    """What the worker did with ``event``: an ``ORCHESTRATION_AUDIT`` event on its entities."""
    return Event.objects.create(
        type=event.type,
        version="1.0",
        live_mode=event.live_mode,
        date_time=timezone.now(),
        data={
            "trigger": str(event.id),
            "workflow": workflow.name if workflow else None,
            "outcome": status,
            "message": outcome,
        },
        category=EventCategory.ORCHESTRATION_AUDIT,
        shipper=event.shipper,
        entity_type=event.entity_type,
        entity_id=event.entity_id,
        entity_ref=event.entity_ref,
        root_entity_type=event.root_entity_type,
        root_entity_id=event.root_entity_id,
        root_entity_ref=event.root_entity_ref,
        correlation_id=str(event.id),
    )


def orchestration_sweep(*, now: datetime | None = None, limit: int = SWEEP_LIMIT) -> int:
    """Queue the pending runs whose task is lost: never queued (the broker refused it) or
    queued longer ago than the lease. Returns how many were queued."""
    from workflows.tasks import orchestration_event_process

    room = queue_room(orchestration_event_process, ceiling=SWEEP_QUEUE_CEILING)
    if not room:
        return 0
    now = now or timezone.now()
    pending = OrchestrationRun.objects.filter(status=RunStatus.PENDING)
    lost = [
        pending.filter(queued_at__isnull=True).order_by("id"),
        pending.filter(queued_at__lt=now - settings.ORCHESTRATION_QUEUE_LEASE).order_by(
            "queued_at"
        ),
    ]
    with transaction.atomic():
        ids = rows_take(lost, limit=min(limit, room), stamp={"queued_at": now})
        transaction.on_commit(lambda: _queue([str(i) for i in ids], orchestration_event_process))
    if ids:
        logger.info("Orchestration sweeper queued %d runs.", len(ids))
    return len(ids)


# --- the built-in workflows -----------------------------------------------------------------


@dataclass(frozen=True)
class Workflow:
    name: str
    run: Callable[[Event], str]  # returns what it did; raises a WaybillError when it cannot


def _order(event: Event) -> Order:
    """The order the event is about: its root entity (or entity) of type ORDER, by Waybill id
    (``…Id``) or creatorOrderId (``…Ref``)."""
    tenant = Tenant.of_shipper(event.shipper, live_mode=event.live_mode)
    for kind, ident, ref, field_name in (
        (event.root_entity_type, event.root_entity_id, event.root_entity_ref, "rootEntity"),
        (event.entity_type, event.entity_id, event.entity_ref, "entity"),
    ):
        if kind.upper() == "ORDER" and (ident or ref):
            suffix = "Id" if ident else "Ref"
            return selectors.order_of_tenant(
                tenant=tenant, order_id=ident or ref, field=field_name + suffix
            )
    raise InvalidInput.for_field("rootEntityType", "Name the order: rootEntityType ORDER.")


def _carrier_of(order: Order):
    plan = Plan.objects.filter(order=order, is_current=True).select_related("carrier").first()
    if plan is None or plan.carrier is None:
        raise Conflict(f"No carrier carries order {order.creator_order_id}.", code="not_carried")
    return plan.carrier


def _cancel_requested(event: Event) -> str:
    order = _order(event)
    reason = str(event.data.get("reason") or "Cancel requested by event")[:500]
    order_cancel(order=order, reason=reason, actor=f"event:{event.id}")
    return f"Order {order.creator_order_id} cancelled: {reason}"


def _pick_confirmed(event: Event) -> str:
    order = _order(event)
    return f"Pick confirmed for order {order.creator_order_id}."


def _fact(event: Event, order: Order, kind: str) -> str:
    """Feed a fact about ``order`` into tracking, as its carrier's."""
    carrier = _carrier_of(order)
    fact = CarrierFact(
        type=kind,
        external_id=f"event:{event.id}",
        time_of_event=event.date_time,
        order=order,
        source="event-api",
        raw=event.data,
    )
    [result] = carrier_facts_apply(carrier=carrier, facts=[fact])
    if result.error is not None:
        raise result.error
    return f"{kind} for order {order.creator_order_id}: {result.outcome}."


def _ship_confirmed(event: Event) -> str:
    # Shipped from the warehouse: the carrier has the goods.
    return _fact(event, _order(event), EventName.ORDER_PICKUP_COMPLETED)


def _consignment_updated(event: Event) -> str:
    """A carrier's consignment or tracking update, relayed: ``attributes`` is a carrier event
    in Waybill's compact form (``type``, ``timeOfEvent``, ``barcode``…) about the order."""
    order = _order(event)
    carrier = _carrier_of(order)
    item = {"id": f"event:{event.id}", "orderId": str(order.id), **event.data}
    fact = intake_item_parse(carrier=carrier, live_mode=event.live_mode, item=item)
    [result] = carrier_facts_apply(carrier=carrier, facts=[fact])
    if result.error is not None:
        raise result.error
    outcome = "applied" if result.outcome == FactOutcome.APPLIED else result.outcome
    return f"{fact.type} for order {order.creator_order_id}: {outcome}."


BUILT_INS = {
    workflow.name: workflow
    for workflow in (
        Workflow("OrderCancelRequested", _cancel_requested),
        Workflow("WmsPickConfirmed", _pick_confirmed),
        Workflow("WmsShipConfirmed", _ship_confirmed),
        Workflow("CarrierConsignmentUpdated", _consignment_updated),
    )
}
