"""Planning writes: choosing and booking a carrier service for an order, overriding it,
releasing it, and the sweeper that makes sure no order waits unplanned for a lost task."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from carriers.market import (
    Catalogue,
)
from carriers.models import CapacityLoad, Plan, PlanningFailure, PlanStatus, Service
from carriers.selection import (
    CAPACITY_FULL,
    Option,
    Rejection,
    Selection,
    evaluate,
    select,
)
from carriers.selectors import catalogue_load, plan_shared_with, shipment_of
from config.errors import Conflict, InvalidInput
from config.sweeping import queue_room, rows_take
from orders.events import order_event_target
from orders.models import PLANNABLE, Order, OrderHistory, OrderStatus
from webhooks.catalogue import EventName
from webhooks.services import event_append

logger = logging.getLogger(__name__)

PLANNER = "waybill:planner"
# The policy a plan names when the order went on an own-fleet route instead of a carrier.
OWN_FLEET_POLICY = "own-fleet"
# Changes to these keys of an order call for planning again.
PLANNING_KEYS = frozenset(
    {
        "pickupLocation",
        "deliveryLocation",
        "collis",
        "tags",
        "pickupTimeFrame",
        "deliveryTimeFrame",
    }
)
# Orders per planning task: one catalogue load serves them all.
PLANNING_BATCH = 100
# Orders one sweep queues at most: two reads over the partial index of orders asking for
# planning and one UPDATE, and 10 tasks (0.1 s for 1,000 on PostgreSQL here, publishing
# included).
PLANNING_SWEEP_LIMIT = 1_000
# The sweeper tops the planning queue up to this many tasks and no further: anything it added
# to a longer queue would only wait behind the rest.
PLANNING_SWEEP_QUEUE_CEILING = 20
# The sweeper's waits before planning a failing order again, after failure 1, 2, …; after the
# last one it stops, and the order waits for a change or a dispatcher. Whatever made planning
# raise is most often in the order's own data, which no number of retries mends.
PLANNING_RETRY_SCHEDULE = (
    timedelta(minutes=1),
    timedelta(minutes=10),
    timedelta(hours=1),
    timedelta(hours=6),
)
PLANNING_ERROR_KEEP_CHARS = 2000


# --- capacity -----------------------------------------------------------------------------


def _reserve(option: Option, weight_kg: Decimal, *, enforce: bool = True) -> bool:
    """Book one order and its weight on the service's pickup day, never past its capacity.

    One conditional UPDATE: concurrent planners queue on the row, and each sees the load the
    one before it left (PostgreSQL re-checks the condition on the row it waited for).
    """
    offer = option.offer
    CapacityLoad.objects.bulk_create(
        [CapacityLoad(service_id=offer.service_id, day=option.pickup_day)], ignore_conflicts=True
    )
    room = Q()
    if enforce and offer.capacity_orders is not None:
        room &= Q(orders__lte=offer.capacity_orders - 1)
    if enforce and offer.capacity_kg is not None:
        room &= Q(weight_kg__lte=offer.capacity_kg - weight_kg)
    return bool(
        CapacityLoad.objects.filter(
            room, service_id=offer.service_id, day=option.pickup_day
        ).update(orders=F("orders") + 1, weight_kg=F("weight_kg") + weight_kg)
    )


def _release(plan: Plan | None) -> None:
    if plan is None or not plan.capacity_held:
        return
    CapacityLoad.objects.filter(service_id=plan.service_id, day=plan.pickup_day).update(
        orders=F("orders") - 1, weight_kg=F("weight_kg") - plan.reserved_weight_kg
    )
    plan.capacity_held = False
    plan.save(update_fields=["capacity_held"])


def _release_many(plans: list[Plan]) -> None:
    """Give back the capacity of many plans: one UPDATE per service and pickup day."""
    held = [p for p in plans if p.capacity_held]
    loads: dict[tuple, list[Decimal]] = {}
    for plan in held:
        load = loads.setdefault((plan.service_id, plan.pickup_day), [Decimal(0), Decimal(0)])
        load[0] += 1
        load[1] += plan.reserved_weight_kg
    for (service_id, day), (orders, weight_kg) in loads.items():
        CapacityLoad.objects.filter(service_id=service_id, day=day).update(
            orders=F("orders") - int(orders), weight_kg=F("weight_kg") - weight_kg
        )
    Plan.objects.filter(id__in=[p.id for p in held]).update(capacity_held=False)
    for plan in held:
        plan.capacity_held = False


def _book_best(selection: Selection, weight_kg: Decimal) -> Option | None:
    for option in list(selection.options):
        if _reserve(option, weight_kg):
            return option
        selection.reject(option, CAPACITY_FULL, f"Fully booked for {option.pickup_day}.")
    return None


# --- plans --------------------------------------------------------------------------------


def _same_decision(plan: Plan | None, option: Option | None, selection: Selection) -> bool:
    if plan is None:
        return False
    if option is None:
        return plan.status == PlanStatus.UNPLANNED and plan.unplanned_reasons == (
            selection.unplanned_reasons
        )
    return (
        plan.status == PlanStatus.PLANNED
        and str(plan.service_id) == option.offer.service_id
        and plan.price == option.price
        and plan.pickup_day == option.pickup_day
        and plan.promised_delivery_from == option.delivery_window[0]
        and plan.promised_delivery_to == option.delivery_window[1]
    )


def _new_plan(
    order: Order,
    selection: Selection,
    option: Option | None,
    weight_kg: Decimal,
    *,
    actor: str,
    reason: str,
    overridden: bool = False,
) -> Plan:
    plan = Plan(
        order=order,
        status=PlanStatus.PLANNED if option else PlanStatus.UNPLANNED,
        policy=selection.policy,
        options=[o.document() for o in selection.options],
        rejections=[r.document() for r in selection.rejections],
        unplanned_reasons=[] if option else selection.unplanned_reasons,
        reason=reason[:500],
        overridden=overridden,
        decided_at=timezone.now(),
        decided_by=actor,
    )
    if option is not None:
        plan.service_id = option.offer.service_id
        plan.carrier_id = option.offer.carrier_id
        plan.price = option.price
        plan.currency = option.currency
        plan.price_breakdown = option.breakdown
        plan.pickup_day = option.pickup_day
        plan.promised_pickup_from, plan.promised_pickup_to = option.pickup_window
        plan.promised_delivery_from, plan.promised_delivery_to = option.delivery_window
        plan.capacity_held = True
        plan.reserved_weight_kg = weight_kg
    return plan


def _record(order: Order, current: Plan | None, plan: Plan, *, actor: str, note: str = "") -> Plan:
    """Make ``plan`` the order's current plan, move the order's status and append the event."""
    if current is not None:
        current.is_current = False
        current.save(update_fields=["is_current"])
    plan.save(force_insert=True)
    new_status = OrderStatus.PLANNED if plan.status == PlanStatus.PLANNED else OrderStatus.UNPLANNED
    changes: dict[str, Any] = {
        "plan": [str(current.service or "unplanned") if current else None, str(plan.service or "")]
    }
    action = "overridden" if plan.overridden else plan.status
    note = (note or plan.reason)[:500]
    if order.status != new_status:
        from orders.services import order_status_move  # orders.services builds on planning

        order_status_move(
            order=order,
            to=new_status,
            actor=actor,
            reason=note,
            action=action,
            changes=changes,
            updates={"needs_planning": False},
        )
    else:
        order.needs_planning = False
        order.save(update_fields=["needs_planning", "updated_at"])
        OrderHistory(order=order, actor=actor, action=action, changes=changes, note=note).save()
    if plan.status == PlanStatus.PLANNED:
        event_append(
            type=EventName.ORDER_PLANNED,
            carrier=plan.carrier,
            time_of_event=plan.decided_at,
            order=order,
            plan=plan,
            shared_with=plan_shared_with(plan),
            **order_event_target(order),
        )
    else:
        # Carrier selection's own event and vocabulary: RouteOptimizationOrderUnscheduled is
        # route optimisation's, and its reasons are a different contract.
        event_append(
            type=EventName.ORDER_PLANNING_FAILED,
            time_of_event=plan.decided_at,
            order=order,
            policy=plan.policy,
            reasons=plan.unplanned_reasons,
            rejections=plan.rejections,
            **order_event_target(order),
        )
    return plan


def _lock_order(order_id) -> Order | None:
    return (
        Order.objects.select_for_update(of=("self",))
        .select_related("shipper")
        .filter(id=order_id)
        .first()
    )


def _current_plan(order: Order) -> Plan | None:
    return (
        Plan.objects.select_for_update(of=("self",))
        .select_related("service")
        .filter(order=order, is_current=True)
        .first()
    )


@transaction.atomic
def order_plan(
    *,
    order_id,
    catalogue: Catalogue | None = None,
    actor: str = PLANNER,
    now: datetime | None = None,
) -> Plan | None:
    """Choose and book the best service for an order that asks for planning.

    Returns the new plan, or None when nothing changed (no planning asked, the order is past
    planning, or the same decision again). A dispatcher's override stands while its service
    can still take the order.
    """
    order = _lock_order(order_id)
    if order is None or not order.needs_planning:
        return None
    if order.status not in PLANNABLE:
        order.needs_planning = False
        order.save(update_fields=["needs_planning"])
        return None
    catalogue = catalogue or catalogue_load()
    now = now or timezone.now()
    collis = list(order.collis.all())
    shipment = shipment_of(order, collis)
    selection = select(shipment, catalogue, policy=order.shipper.planning_policy, now=now)
    current = _current_plan(order)
    _release(current)
    if current is not None and current.overridden and current.service_id:
        # The dispatcher's choice goes first while it is still an option.
        pinned = [o for o in selection.options if o.offer.service_id == str(current.service_id)]
        if pinned:
            selection.options.remove(pinned[0])
            selection.options.insert(0, pinned[0])
    option = _book_best(selection, shipment.weight_kg)
    if _same_decision(current, option, selection):
        if option is not None:
            current.capacity_held = True
            current.save(update_fields=["capacity_held"])
        order.needs_planning = False
        order.save(update_fields=["needs_planning"])
        return None
    kept_override = bool(
        option
        and current
        and current.overridden
        and str(current.service_id) == option.offer.service_id
    )
    plan = _new_plan(
        order,
        selection,
        option,
        shipment.weight_kg,
        actor=current.decided_by if kept_override else actor,
        reason=current.reason if kept_override else selection.explanation(),
        overridden=kept_override,
    )
    return _record(order, current, plan, actor=actor)


def orders_plan(*, order_ids: list, actor: str = PLANNER) -> int:
    """Plan a batch of orders on one catalogue load; each order in its own transaction.

    An order whose planning raises is recorded as failed (``PlanningFailure``) and the batch
    goes on: one bad row must never hold up, or be retried with, everyone else's orders.
    """
    catalogue = catalogue_load()
    planned = 0
    done = []
    for order_id in order_ids:
        try:
            plan = order_plan(order_id=order_id, catalogue=catalogue, actor=actor)
        except Exception as exc:  # whatever one order's data makes raise stays with it
            logger.exception("Planning order %s failed; the rest of the batch goes on.", order_id)
            planning_failure_record(order_id=order_id, error=exc)
            continue
        done.append(order_id)
        if plan is not None:
            planned += 1
    PlanningFailure.objects.filter(order_id__in=done).delete()
    return planned


def planning_failure_record(
    *, order_id, error: BaseException | str, now: datetime | None = None
) -> PlanningFailure | None:
    """Note that planning the order raised, and when the sweeper may try it again.

    Failures count from the order's last change: a changed order earns a fresh set of tries.
    """
    now = now or timezone.now()
    text = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
    with transaction.atomic():
        changed_at = Order.objects.filter(id=order_id).values_list("updated_at", flat=True).first()
        if changed_at is None:
            return None
        earlier = PlanningFailure.objects.select_for_update().filter(order_id=order_id).first()
        attempts = 1
        if earlier is not None and changed_at <= earlier.failed_at:
            attempts = earlier.attempts + 1
        retry_at = None
        if attempts <= len(PLANNING_RETRY_SCHEDULE):
            retry_at = now + PLANNING_RETRY_SCHEDULE[attempts - 1]
        failure, _ = PlanningFailure.objects.update_or_create(
            order_id=order_id,
            defaults={
                "attempts": attempts,
                "error": text[:PLANNING_ERROR_KEEP_CHARS],
                "failed_at": now,
                "retry_at": retry_at,
            },
        )
        # Its task is spent: from now on the failure's retry time says when it is due.
        Order.objects.filter(id=order_id).update(planning_queued_at=None)
    return failure


@transaction.atomic
def plan_override(*, order: Order, service: Service, reason: str, actor: str) -> Plan:
    """A dispatcher puts an order on ``service``, whatever the policy would choose.

    Area, tag, limit and time-frame rules may be waived (the plan keeps what was waived);
    a missing rate card or a full day may not.
    """
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput.for_field("reason", "Say why the choice is overridden.", "required")
    order = _lock_order(order.id)
    if order.status not in PLANNABLE:
        raise Conflict(
            f"Order '{order.creator_order_id}' is {order.status}; "
            "its carrier can no longer change.",
            code="order_not_plannable",
        )
    catalogue = catalogue_load()
    offer = next((o for o in catalogue.offers if o.service_id == str(service.id)), None)
    if offer is None:
        raise InvalidInput.for_field("service", "The service or its carrier is not active.")
    shipment = shipment_of(order, list(order.collis.all()))
    now = timezone.now()
    result = evaluate(offer, shipment, catalogue, now, waive=True)
    if isinstance(result, Rejection):
        raise Conflict(
            f"{offer.carrier_name} {offer.name} cannot take this order: "
            + "; ".join(m for _, m in result.reasons),
            code="override_refused",
        )
    selection = select(shipment, catalogue, policy=order.shipper.planning_policy, now=now)
    current = _current_plan(order)
    _release(current)
    if not _reserve(result, shipment.weight_kg):
        raise Conflict(
            f"{offer.carrier_name} {offer.name} is fully booked for {result.pickup_day}.",
            code="capacity_full",
        )
    selection.put_first(result)  # an option now, and no longer among the ruled out
    note = f"Overridden by {actor}: {reason}"
    if result.waived:
        note += " (waived: " + ", ".join(dict.fromkeys(code for code, _ in result.waived)) + ")"
    plan = _new_plan(
        order, selection, result, shipment.weight_kg, actor=actor, reason=note, overridden=True
    )
    PlanningFailure.objects.filter(order=order).delete()
    return _record(order, current, plan, actor=actor, note=note)


def _superseded(orders: list[Order]) -> list[Plan]:
    """The orders' current plans, locked, no longer current: their capacity is given back."""
    plans = list(
        Plan.objects.select_for_update(of=("self",))
        .select_related("service__carrier")
        .filter(order__in=[o.id for o in orders], is_current=True)
    )
    _release_many(plans)
    Plan.objects.filter(id__in=[p.id for p in plans]).update(is_current=False)
    return plans


@transaction.atomic
def plans_release(*, orders: list[Order], actor: str, reason: str) -> list[Plan]:
    """Nobody carries these orders any more (cancelled, or their route was): each current
    plan gives its capacity back and is followed by a released one, with no carrier and no
    price, so neither the manifest nor billing finds it. Orders never planned get none."""
    now = timezone.now()
    current = [p for p in _superseded(orders) if p.status != PlanStatus.RELEASED]
    released = [
        Plan(
            order_id=p.order_id,
            status=PlanStatus.RELEASED,
            policy=p.policy,
            reason=reason[:500],
            decided_at=now,
            decided_by=actor,
        )
        for p in current
    ]
    return Plan.objects.bulk_create(released)


@transaction.atomic
def plans_route(*, stops: list, actor: str) -> dict[str, Plan]:
    """Orders go on own-fleet routes (``stops``, saved, with their route): each one's carrier
    booking is released (capacity back, off the carrier's manifest) and a routed plan
    naming its route becomes current. Returns the new plans by order id."""
    now = timezone.now()
    stop_of = {str(s.order_id): s for s in stops}
    released = {
        str(p.order_id): p
        for p in _superseded([s.order for s in stops])
        if p.status == PlanStatus.PLANNED
    }
    plans = []
    for order_id, stop in stop_of.items():
        reason = f"On own-fleet route {stop.route.slug}, stop {stop.sequence}."
        if order_id in released:
            reason += f" The booking with {released[order_id].service} was released."
        plans.append(
            Plan(
                order_id=order_id,
                status=PlanStatus.ROUTED,
                policy=OWN_FLEET_POLICY,
                reason=reason[:500],
                decided_at=now,
                decided_by=actor,
            )
        )
    Plan.objects.bulk_create(plans)
    # A route carries them now: whatever carrier planning failed on no longer matters.
    PlanningFailure.objects.filter(order_id__in=list(stop_of)).delete()
    return {str(p.order_id): p for p in plans}


def planning_request(*, order_ids: list) -> None:
    """Queue planning after commit for orders whose ``needs_planning`` (and
    ``planning_queued_at``) the caller has set.

    The flag, saved in the caller's transaction, is what counts: if the broker is down the
    orders lose their stamp and the next sweep queues them.
    """
    ids = [str(i) for i in order_ids]
    if ids:
        transaction.on_commit(lambda: _planning_queue(ids))


def order_replan_request(*, order: Order) -> bool:
    """Ask planning to decide ``order`` again (a workflow's re-plan, say): flag it and queue
    it after commit. False when the order is past planning (not in ``PLANNABLE``)."""
    now = timezone.now()
    flagged = Order.objects.filter(id=order.id, status__in=PLANNABLE).update(
        needs_planning=True, planning_queued_at=now
    )
    if flagged:
        order.needs_planning, order.planning_queued_at = True, now
        planning_request(order_ids=[order.id])
    return bool(flagged)


def _planning_queue(order_ids: list[str]) -> None:
    from carriers.tasks import orders_plan as orders_plan_task
    from config.queue import enqueue

    for start in range(0, len(order_ids), PLANNING_BATCH):
        batch = order_ids[start : start + PLANNING_BATCH]
        enqueue(
            orders_plan_task,
            batch,
            on_failure=lambda batch=batch: Order.objects.filter(id__in=batch).update(
                planning_queued_at=None
            ),
        )


def planning_sweep(*, now: datetime | None = None, limit: int = PLANNING_SWEEP_LIMIT) -> int:
    """Queue planning for orders that ask for it and are lost: no task out for them, or their
    task waited past ``PLANNING_QUEUE_LEASE``. Orders whose planning failed come back only
    when their retry is due or they changed; returns how many were queued."""
    from carriers.tasks import orders_plan as orders_plan_task

    room = queue_room(orders_plan_task, ceiling=PLANNING_SWEEP_QUEUE_CEILING)
    if not room:
        logger.info("Planning sweeper: the planning queue is full; nothing queued.")
        return 0
    now = now or timezone.now()
    # A failing order waits for its retry time, and after its last try for a change.
    held = PlanningFailure.objects.filter(
        Q(retry_at__isnull=True) | Q(retry_at__gt=now),
        order=OuterRef("pk"),
        failed_at__gte=OuterRef("updated_at"),
    )
    asking = Order.objects.filter(needs_planning=True)
    lost = [
        asking.filter(planning_queued_at__isnull=True).exclude(Exists(held)).order_by("updated_at"),
        asking.filter(planning_queued_at__lt=now - settings.PLANNING_QUEUE_LEASE).order_by(
            "planning_queued_at"
        ),
    ]
    with transaction.atomic():
        ids = rows_take(
            lost, limit=min(limit, room * PLANNING_BATCH), stamp={"planning_queued_at": now}
        )
    _planning_queue([str(i) for i in ids])
    return len(ids)
