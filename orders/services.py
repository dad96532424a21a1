"""Every write to an order: one function per use case, transactional, appending its events."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Shipper
from carriers.services import PLANNING_KEYS, planning_request, plans_release
from config.errors import Conflict, InvalidInput
from config.sql import instance_new, rows_compare_and_set, rows_insert
from orders.documents import (
    collo_rows,
    line_rows,
    order_columns,
    order_document,
)
from orders.events import order_event_target
from orders.geocoding import geocoding_request
from orders.models import (
    FIELDS_EDITABLE_AFTER_PICKUP,
    PLANNABLE,
    STATUS_STAMPS,
    Collo,
    Order,
    OrderHistory,
    OrderLine,
    OrderStatus,
    order_can_move,
)
from webhooks.catalogue import EventName
from webhooks.services import event_append, event_build, events_append

# Keys of the order document that a shipper's change does not set directly.
_DERIVED_KEYS = frozenset(
    {
        "id",
        "creatorId",
        "liveMode",
        "status",
        "cancelReason",
        "cancelledAt",
        "goneFromPosAt",
        "createdAt",
        "updatedAt",
        "totalWeight",
    }
)


def _event_kwargs(order: Order) -> dict[str, Any]:
    return {**order_event_target(order), "order": order}


def _default_pickup_location(shipper: Shipper) -> dict[str, Any]:
    if not shipper.default_pickup_address_primary:
        raise InvalidInput.for_field(
            "pickupLocation",
            "Required: this shipper has no default pickup address configured.",
            code="required",
        )
    position = None
    if shipper.default_pickup_latitude is not None and shipper.default_pickup_longitude is not None:
        position = {
            "latitude": shipper.default_pickup_latitude,
            "longitude": shipper.default_pickup_longitude,
        }
    return {
        "address": {
            "primary": shipper.default_pickup_address_primary,
            "secondary": shipper.default_pickup_address_secondary,
            "postalCode": shipper.default_pickup_postal_code,
            "countryCode": shipper.default_pickup_country_code,
        },
        "position": position,
        "timeZone": shipper.default_pickup_time_zone,
    }


def _full_spec(spec: dict[str, Any], shipper: Shipper) -> dict[str, Any]:
    """A complete order spec: what the shipper left out takes its default (PUT and create)."""
    full = {
        "relationalId": "",
        "tags": [],
        "notes": "",
        "currency": "DKK",
        "customFields": {},
        "pickupContact": None,
        "deliveryContact": None,
        "pickupTimeFrame": None,
        "deliveryTimeFrame": None,
        "lines": [],
        "collis": [],
        **{k: v for k, v in spec.items() if not (k == "pickupLocation" and v is None)},
    }
    if not full.get("pickupLocation"):
        full["pickupLocation"] = _default_pickup_location(shipper)
    for kind in ("pickup", "delivery"):
        location = full[f"{kind}Location"]
        if not location.get("timeZone"):
            location["timeZone"] = shipper.default_pickup_time_zone
    return full


def _comparable(document: dict[str, Any]) -> dict[str, Any]:
    # Collo ids are Waybill's; a shipper's resend of the same collis is no change.
    collis = [{k: v for k, v in c.items() if k != "id"} for c in document["collis"]]
    return {**{k: v for k, v in document.items() if k not in _DERIVED_KEYS}, "collis": collis}


def _changed_keys(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    a, b = _comparable(before), _comparable(after)
    return [key for key in b if a.get(key) != b[key]]


def _history(order: Order, actor: str, action: str, changes: dict | None = None, note: str = ""):
    return instance_new(
        OrderHistory, order=order, actor=actor, action=action, changes=changes or {}, note=note
    )


# --- the one writer of Order.status ----------------------------------------------------------

# Moves whose event needs nothing but the order: appended here. A move onto a plan or a
# route gets its event (OrderPlanned, OrderAddedToRoute, …) from its caller, which holds
# the plan or the route, in the same transaction.
_STATUS_EVENTS = {OrderStatus.CANCELLED: EventName.ORDER_CANCELLED}


def _move_columns(to: str, reason: str, updates: dict | None, now) -> dict[str, Any]:
    """What a move to ``to`` writes: the status, the caller's columns, the move's stamp."""
    columns = {**(updates or {}), "status": to, "updated_at": now}
    if to in STATUS_STAMPS:
        # A caller may give the stamp: a delivery is stamped when the carrier says it was.
        columns.setdefault(STATUS_STAMPS[to], now)
    if to == OrderStatus.CANCELLED:
        columns.update(cancel_reason=reason[:500], needs_planning=False)
    return columns


def _columns_per_order(orders: list[Order], updates_by_order: dict, columns: dict) -> tuple:
    """The columns some orders set a value of their own in, with each order's value by id
    (the others get ``columns``' value, else keep theirs; such a column leaves ``columns``),
    for one UPDATE; and what each order gets, by order id."""
    per_row: dict[str, dict] = {}
    own: dict = {o.id: {} for o in orders}
    for column in sorted({c for updates in updates_by_order.values() for c in updates}):
        shared = columns.pop(column, None)
        values = per_row[column] = {}
        for order in orders:
            value = updates_by_order.get(order.id, {}).get(column, shared)
            if column in updates_by_order.get(order.id, {}) or shared is not None:
                own[order.id][column] = values[order.id] = value
    return per_row, own


def _illegal_moves_refuse(orders: list[Order], to: str) -> None:
    illegal = [o for o in orders if not order_can_move(o.status, to)]
    if illegal:
        refs = ", ".join(f"{o.creator_order_id} ({o.status})" for o in illegal[:20])
        raise Conflict(
            f"An order cannot move to {to} from where it is: {refs}.",
            code="illegal_status_move",
        )


def order_status_move(
    *,
    order: Order,
    to: str,
    actor: str,
    reason: str,
    action: str | None = None,
    changes: dict[str, Any] | None = None,
    updates: dict[str, Any] | None = None,
) -> Order:
    """Move one (locked) order to status ``to``; see ``order_statuses_move``."""
    return order_statuses_move(
        orders=[order],
        to=to,
        actor=actor,
        reason=reason,
        action=action,
        changes=changes,
        updates=updates,
    )[0]


def order_statuses_move(
    *,
    orders: list[Order],
    to: str,
    actor: str,
    reason: str,
    action: str | None = None,
    notes: dict[Any, str] | None = None,
    changes: dict[str, Any] | None = None,
    updates: dict[str, Any] | None = None,
    updates_by_order: dict[Any, dict[str, Any]] | None = None,
) -> list[Order]:
    """The only code that changes ``Order.status``: move the (locked) orders to ``to``.

    Refuses the whole batch with a Conflict when one move is not in ``ORDER_TRANSITIONS``;
    writes the status (with ``updates``, the columns the caller changes with it, or
    ``updates_by_order`` per order id, and the move's own time stamp) in one compare-and-set
    UPDATE, one history row per order (``notes`` per order id, else ``reason``), and the
    move's event where it needs nothing but the order. A handful of statements, however many
    orders.
    """
    if not orders:
        return []
    _illegal_moves_refuse(orders, to)
    now = timezone.now()
    columns = _move_columns(to, reason, updates, now)
    history = [
        _history(
            order,
            actor,
            action or to,
            {**(changes or {}), "status": [order.status, to]},
            note=(notes or {}).get(order.id, reason)[:500],
        )
        for order in orders
    ]
    per_row, own = _columns_per_order(orders, updates_by_order or {}, columns)
    # Compare-and-set: the rows must still be where the caller saw them.
    rows_compare_and_set(
        Order,
        ids=[o.id for o in orders],
        where_in={"status": sorted({o.status for o in orders})},
        columns=columns,
        per_row=per_row,
        changed=Conflict("Orders changed while they were being moved; try again.", code="conflict"),
    )
    for order in orders:
        for column, value in {**columns, **own[order.id]}.items():
            setattr(order, column, value)
    rows_insert(history)
    if to in _STATUS_EVENTS:
        events_append(
            events=[
                event_build(type=_STATUS_EVENTS[to], time_of_event=now, **_event_kwargs(o))
                for o in orders
            ]
        )
    return orders


def _new_order(
    *, shipper: Shipper, live_mode: bool, spec: dict[str, Any]
) -> tuple[Order, list, list]:
    order = Order(shipper=shipper, live_mode=live_mode, **order_columns(spec))
    order.created_at = order.updated_at = timezone.now()
    # Creating it queues its planning (``planning_request``), after the same commit.
    order.planning_queued_at = order.created_at
    return order, line_rows(order, spec["lines"]), collo_rows(order, spec["collis"])


def order_draft(
    *, shipper: Shipper, live_mode: bool, spec: dict[str, Any]
) -> tuple[Order, list[Collo]]:
    """An unsaved order and its collis from a validated spec: what a quote is made for."""
    order, _, collis = _new_order(
        shipper=shipper, live_mode=live_mode, spec=_full_spec(spec, shipper)
    )
    return order, collis


def _conflict_existing(shipper: Shipper, live_mode: bool, creator_order_id: str) -> Conflict:
    existing = (
        Order.objects.filter(
            shipper=shipper, live_mode=live_mode, creator_order_id=creator_order_id
        )
        .values_list("id", flat=True)
        .first()
    )
    return Conflict(
        f"An order with creatorOrderId '{creator_order_id}' exists already; "
        f"use PUT /api/v1/orders/ref/{quote(creator_order_id, safe='')} to upsert.",
        code="duplicate_creator_order_id",
        errors=[{"field": "creatorOrderId", "code": "duplicate", "message": "Already used."}],
        extra={"existingOrderId": str(existing) if existing else None},
    )


def order_create(*, shipper: Shipper, live_mode: bool, spec: dict[str, Any], actor: str) -> Order:
    try:
        return _order_create(shipper=shipper, live_mode=live_mode, spec=spec, actor=actor)
    except IntegrityError:
        # Looked up after the rollback: a savepoint around every insert would cost two
        # round trips on the hot path to serve the rare duplicate.
        if not Order.objects.filter(
            shipper=shipper, live_mode=live_mode, creator_order_id=spec["creatorOrderId"]
        ).exists():
            raise
        raise _conflict_existing(shipper, live_mode, spec["creatorOrderId"]) from None


@transaction.atomic
def _order_create(*, shipper: Shipper, live_mode: bool, spec: dict[str, Any], actor: str) -> Order:
    spec = _full_spec(spec, shipper)
    order, lines, collis = _new_order(shipper=shipper, live_mode=live_mode, spec=spec)
    order.save(force_insert=True)
    OrderLine.objects.bulk_create(lines)
    Collo.objects.bulk_create(collis)
    document = order_document(order, lines=lines, collis=collis)
    _history(order, actor, "created").save()
    event_append(
        type=EventName.ORDER_CREATED,
        time_of_event=order.created_at,
        document=document,
        **_event_kwargs(order),
    )
    order._prefetched_objects_cache = {"lines": lines, "collis": collis}
    planning_request(order_ids=[order.id])
    geocoding_request(orders=[order])
    return order


def _lock(order: Order) -> Order:
    return (
        Order.objects.select_for_update()
        .select_related("shipper")
        .prefetch_related("lines", "collis")
        .get(id=order.id)
    )


def _reuse_collo_ids(old: list[Collo], new: list[Collo]) -> None:
    # A collo keeps its id across updates while its barcode stays the same.
    by_barcode = {c.barcode: c.id for c in old if c.barcode}
    for collo in new:
        if collo.barcode in by_barcode:
            collo.id = by_barcode.pop(collo.barcode)


def _apply_update(order: Order, spec: dict[str, Any], actor: str) -> tuple[Order, list[str]]:
    """Apply ``spec`` (only its keys) to a locked order; returns the changed document keys."""
    old_lines, old_collis = list(order.lines.all()), list(order.collis.all())
    before = order_document(order, lines=old_lines, collis=old_collis)
    if "pickupLocation" in spec and not spec["pickupLocation"]:
        spec = {**spec, "pickupLocation": _default_pickup_location(order.shipper)}
    for column, value in order_columns(spec).items():
        setattr(order, column, value)
    lines = line_rows(order, spec["lines"]) if "lines" in spec else old_lines
    collis = collo_rows(order, spec["collis"]) if "collis" in spec else old_collis
    if "collis" in spec:
        _reuse_collo_ids(old_collis, collis)
    after = order_document(order, lines=lines, collis=collis)
    changed = _changed_keys(before, after)
    if not changed:
        order.refresh_from_db()
        return order, []
    if order.status == OrderStatus.CANCELLED:
        raise Conflict(
            f"Order '{order.creator_order_id}' is cancelled and can no longer change.",
            code="order_cancelled",
            errors=[
                {"field": key, "code": "locked", "message": "Order is cancelled."}
                for key in changed
            ],
        )
    locked = [key for key in changed if key not in FIELDS_EDITABLE_AFTER_PICKUP]
    if order.is_picked_up and locked:
        raise Conflict(
            f"Order '{order.creator_order_id}' has been picked up (status {order.status}); "
            f"only {', '.join(sorted(FIELDS_EDITABLE_AFTER_PICKUP))} can still change.",
            code="order_picked_up",
            errors=[
                {"field": key, "code": "locked", "message": "Cannot change after pickup."}
                for key in locked
            ],
        )
    replan = order.status in PLANNABLE and not PLANNING_KEYS.isdisjoint(changed)
    if replan:
        order.needs_planning, order.planning_queued_at = True, timezone.now()
    order.save()
    if replan:
        planning_request(order_ids=[order.id])
    if "lines" in spec:
        OrderLine.objects.filter(order=order).delete()
        OrderLine.objects.bulk_create(lines)
    if "collis" in spec:
        Collo.objects.filter(order=order).delete()
        Collo.objects.bulk_create(collis)
    order._prefetched_objects_cache = {"lines": lines, "collis": collis}
    document = order_document(order, lines=lines, collis=collis)
    _history(order, actor, "updated", {key: [before[key], document[key]] for key in changed}).save()
    event_append(
        type=EventName.ORDER_UPDATED,
        changes=changed,
        time_of_event=order.updated_at,
        document=document,
        **_event_kwargs(order),
    )
    return order, changed


@transaction.atomic
def order_update(*, order: Order, spec: dict[str, Any], actor: str, replace: bool = False) -> Order:
    """PATCH (only the keys given) or, with ``replace``, PUT (what is left out is reset)."""
    order = _lock(order)
    if replace:
        spec = _full_spec(spec, order.shipper)
    order, changed = _apply_update(order, spec, actor)
    geocoding_request(orders=[order], changed=changed)
    return order


@transaction.atomic
def order_upsert(
    *, shipper: Shipper, live_mode: bool, spec: dict[str, Any], actor: str
) -> tuple[Order, bool]:
    """Create the order named by ``creatorOrderId``, or replace it. Returns (order, created)."""
    existing = Order.objects.filter(
        shipper=shipper, live_mode=live_mode, creator_order_id=spec["creatorOrderId"]
    ).first()
    if existing is None:
        try:
            with transaction.atomic():
                return order_create(
                    shipper=shipper, live_mode=live_mode, spec=spec, actor=actor
                ), True
        except Conflict:
            # Created by a concurrent request in the meantime: update it instead.
            existing = Order.objects.get(
                shipper=shipper, live_mode=live_mode, creator_order_id=spec["creatorOrderId"]
            )
    return order_update(order=existing, spec=spec, actor=actor, replace=True), False


@transaction.atomic
def order_cancel(*, order: Order, reason: str, actor: str) -> Order:
    order = _lock(order)
    if order.status == OrderStatus.CANCELLED:
        return order
    if not order.can_cancel():
        raise Conflict(
            f"Order '{order.creator_order_id}' cannot be cancelled: its status is {order.status}; "
            "cancelling is possible until pickup.",
            code="order_not_cancellable",
        )
    from routing.services import route_stop_remove  # routing builds on orders, not back

    order_status_move(order=order, to=OrderStatus.CANCELLED, actor=actor, reason=reason)
    # A cancelled order is carried by nobody: its carrier booking is released and its stop
    # leaves its route.
    plans_release(orders=[order], actor=actor, reason=f"The order was cancelled: {reason}")
    route_stop_remove(order=order, actor=actor, reason=f"The order was cancelled: {reason}")
    return order


@transaction.atomic
def order_mark_gone_from_pos(*, order: Order, actor: str) -> Order:
    """The POS no longer knows an order that can no longer be cancelled: record it, keep it."""
    order = _lock(order)
    if order.gone_from_pos_at is None:
        order.gone_from_pos_at = timezone.now()
        order.save(update_fields=["gone_from_pos_at", "updated_at"])
        _history(order, actor, "gone_from_pos", note="The POS answered 404 for this order.").save()
        event_append(
            type=EventName.ORDER_GONE_FROM_POS,
            time_of_event=order.gone_from_pos_at,
            **_event_kwargs(order),
        )
    return order
