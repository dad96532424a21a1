"""Reads of order events: the tenant's, by id or by order."""

from __future__ import annotations

from django.db.models import QuerySet

from accounts.tenancy import Tenant
from config.errors import NotFound, first_or_404
from orders.models import Order
from tracking.selectors import as_uuid
from workflows.models import OrderEvent


def order_of_tenant(*, tenant: Tenant, order_id: str, field: str = "order_id") -> Order:
    """The tenant's order a seed 002 ``order_id`` names: Waybill's id, else the shipper's
    ``creatorOrderId``; a 404 naming ``field`` otherwise."""
    orders = Order.objects.of(tenant).prefetch_related("lines")
    waybill_id = as_uuid(order_id)
    found = orders.filter(id=waybill_id).first() if waybill_id else None
    found = found or orders.filter(creator_order_id=order_id).first()
    if found is None:
        message = f"No order with id or creatorOrderId '{order_id}'."
        raise NotFound(message, errors=[{"field": field, "code": "not_found", "message": message}])
    return found


def order_events(*, tenant: Tenant) -> QuerySet[OrderEvent]:
    return OrderEvent.objects.of(tenant).select_related("order")


def order_event_get(*, tenant: Tenant, event_id) -> OrderEvent:
    return first_or_404(
        order_events(tenant=tenant).filter(id=event_id), f"No order event with id '{event_id}'."
    )
