"""What the API shows of an order event: the seed's field names, times in the zone of the
order's delivery location."""

from __future__ import annotations

from typing import Any

from config.times import DELIVERY, iso_local, order_zone
from workflows.models import OrderEvent


def order_event_document(event: OrderEvent) -> dict[str, Any]:
    order = event.order
    zone = order_zone(order, DELIVERY)
    return {
        "id": str(event.id),
        "event_reference": event.event_reference,
        "order_id": str(order.id),
        "creator_order_id": order.creator_order_id,
        "event_type": event.event_type,
        "event_date": iso_local(event.event_date, zone),
        "message": event.message,
        "order_event_lines": event.lines,
        "custom_fields": event.custom_fields,
        "created_at": iso_local(event.created_at, zone),
        "updated_at": iso_local(event.updated_at, zone),
    }
