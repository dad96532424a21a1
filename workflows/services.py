"""Writing order events (seed 002): an upsert by ``id``, else by ``event_reference`` within
the order. An order event is a fact: it changes nothing of the order itself."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.tenancy import Tenant
from config.errors import Conflict, InvalidInput, NotFound
from config.times import DELIVERY, order_zone
from orders.models import Order
from workflows import selectors
from workflows.engine import order_event_trigger, workflow_runs_record
from workflows.models import OrderEvent


@dataclass(frozen=True)
class OrderEventSpec:
    """A validated order event, as the seed names its fields."""

    event_reference: str
    order_id: str
    event_type: str
    event_date: datetime  # naive: in the order's delivery zone
    id: Any = None  # uuid.UUID
    message: str = ""
    lines: list[dict] | None = None  # [{"order_line_id": …, overrides…}]
    custom_fields: dict | None = None


def order_event_upsert(*, tenant: Tenant, spec: OrderEventSpec) -> tuple[OrderEvent, bool]:
    """Create or update the order event ``spec`` describes; ``(event, created)``.

    With an ``id``: that event (one of another tenant's is a 404); an id Waybill does not know
    yet creates the event under it, as the seed's own example does. Without one: the order's
    event with this ``event_reference``. Lines must be lines of the order."""
    order = selectors.order_of_tenant(tenant=tenant, order_id=spec.order_id)
    lines = _lines_checked(order, spec.lines)
    when = spec.event_date
    if timezone.is_naive(when):
        when = timezone.make_aware(when, order_zone(order, DELIVERY))
    values = {
        "event_type": spec.event_type,
        "event_date": when,
        "message": spec.message,
        "lines": lines,
        "custom_fields": spec.custom_fields or {},
    }
    with transaction.atomic():
        event = _existing(order, spec)
        created = event is None
        if created:
            event = OrderEvent.objects.create(
                **({"id": spec.id} if spec.id else {}),
                order=order,
                event_reference=spec.event_reference,
                **values,
            )
        else:
            for name, value in {"event_reference": spec.event_reference, **values}.items():
                setattr(event, name, value)
            event.save()
        # The workflows bound to its type run for each write of it.
        workflow_runs_record(triggers=[order_event_trigger(event)])
    return event, created


def _existing(order: Order, spec: OrderEventSpec) -> OrderEvent | None:
    by_reference = (
        OrderEvent.objects.select_for_update()
        .filter(order=order, event_reference=spec.event_reference)
        .first()
    )
    if spec.id is None:
        return by_reference
    by_id = (
        OrderEvent.objects.select_for_update(of=("self",))
        .select_related("order")
        .filter(id=spec.id)
        .first()
    )
    if by_id is not None and by_id.order.shipper_id != order.shipper_id:
        raise NotFound(f"No order event with id '{spec.id}'.", errors=[_error("id")])
    if by_id is not None and by_id.order_id != order.id:
        raise Conflict(
            f"Order event '{spec.id}' belongs to another order.",
            code="conflict",
            errors=[{"field": "order_id", "code": "conflict", "message": "Not the event's order."}],
        )
    if by_reference is not None and by_reference.id != spec.id:
        raise Conflict(
            f"The order's event '{by_reference.id}' has event_reference '{spec.event_reference}'.",
            code="conflict",
            errors=[{"field": "event_reference", "code": "conflict", "message": "Taken."}],
        )
    return by_id


def _error(field: str) -> dict:
    return {"field": field, "code": "not_found", "message": "No such order event of yours."}


def _lines_checked(order: Order, lines: list[dict] | None) -> list[dict] | None:
    if lines is None:
        return None
    known = {line.reference for line in order.lines.all() if line.reference}
    for index, line in enumerate(lines):
        if line["order_line_id"] not in known:
            raise InvalidInput.for_field(
                f"order_event_lines[{index}].order_line_id",
                f"'{line['order_line_id']}' is no line of order {order.creator_order_id}; "
                "one of: " + (", ".join(sorted(known)) or "(its lines have no reference)") + ".",
                "not_found",
            )
    return [{k: str(v) if k != "order_line_id" else v for k, v in line.items()} for line in lines]
