"""Payload builders for the order events. Pure: they read loaded objects and return ``data``."""

from datetime import datetime
from typing import Any

from orders.documents import order_document, order_reference

_REFERENCE_KEYS = {"id", "creatorOrderId", "creatorId", "relationalId", "tags"}


def _details(document: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in document.items() if k not in _REFERENCE_KEYS}


def order_created_v1(*, order, time_of_event: datetime, document: dict | None = None) -> dict:
    document = document or order_document(order)
    return {
        "order": order_reference(order),
        **_details(document),
        "correlationId": "",
        "timeOfEvent": time_of_event.isoformat(),
    }


def order_updated_v1(
    *, order, changes: list[str], time_of_event: datetime, document: dict | None = None
) -> dict:
    document = document or order_document(order)
    return {
        "order": order_reference(order),
        **_details(document),
        "changes": changes,
        "correlationId": "",
        "timeOfEvent": time_of_event.isoformat(),
    }


def order_cancelled_v1(*, order, time_of_event: datetime) -> dict:
    return {
        "order": order_reference(order),
        "reason": order.cancel_reason,
        "cancelledAt": order.cancelled_at.isoformat() if order.cancelled_at else None,
        "correlationId": "",
        "timeOfEvent": time_of_event.isoformat(),
    }
