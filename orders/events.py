"""The order events: their payload shapes (published as JSON Schema) and their builders.

Builders are pure: they read loaded objects and return the ``data`` dict.
"""

from datetime import datetime
from typing import Any

from pydantic import Field

from config.times import iso_local, order_zone
from orders.documents import location_document, order_document, order_reference
from webhooks.catalogue import EventName, EventVersion, declare
from webhooks.payloads.common import OrderRef, PayloadModel, PhoneV2

_REFERENCE_KEYS = {"id", "creatorOrderId", "creatorId", "relationalId", "tags"}


class OrderPosition(PayloadModel):
    latitude: float
    longitude: float


class OrderAddress(PayloadModel):
    primary: str
    secondary: str
    postalCode: str  # noqa: N815
    countryCode: str  # noqa: N815  ISO 3166-1 alpha-2, or empty when the shipper sent none


class OrderLocation(PayloadModel):
    address: OrderAddress
    position: OrderPosition | None
    timeZone: str  # noqa: N815


class OrderContact(PayloadModel):
    preferredName: str  # noqa: N815
    fullName: str  # noqa: N815
    phone: PhoneV2 | None
    email: str
    company: str | None


class OrderTimeFrame(PayloadModel):
    from_: str | None = Field(alias="from")
    to: str | None


class OrderLine(PayloadModel):
    reference: str
    description: str
    quantity: str
    price: str
    taxRate: str  # noqa: N815
    total: str


class ColloDimensions(PayloadModel):
    length: str | None
    width: str | None
    height: str | None


class OrderCollo(PayloadModel):
    id: str
    barcode: str
    description: str
    weight: str
    volume: str | None
    dimensions: ColloDimensions | None
    tags: list[str]


class OrderDetails(PayloadModel):
    order: OrderRef
    liveMode: bool  # noqa: N815
    status: str
    notes: str
    currency: str
    customFields: dict[str, Any]  # noqa: N815
    pickupLocation: OrderLocation  # noqa: N815
    deliveryLocation: OrderLocation  # noqa: N815
    pickupContact: OrderContact | None  # noqa: N815
    deliveryContact: OrderContact | None  # noqa: N815
    pickupTimeFrame: OrderTimeFrame | None  # noqa: N815
    deliveryTimeFrame: OrderTimeFrame | None  # noqa: N815
    lines: list[OrderLine]
    collis: list[OrderCollo]
    totalWeight: str  # noqa: N815
    cancelReason: str  # noqa: N815
    cancelledAt: str | None  # noqa: N815
    goneFromPosAt: str | None  # noqa: N815
    createdAt: str | None  # noqa: N815
    updatedAt: str | None  # noqa: N815
    trackingUrl: str  # noqa: N815  the receiver's tracking page
    correlationId: str  # noqa: N815
    timeOfEvent: str  # noqa: N815


class OrderCreatedV1(OrderDetails):
    """A shipper's order was accepted: the whole order as the Order API shows it."""


class OrderUpdatedV1(OrderDetails):
    """An order's details changed; ``changes`` names the top-level keys that did."""

    changes: list[str]


class OrderCancelledV1(PayloadModel):
    """An order was cancelled, with the reason."""

    order: OrderRef
    reason: str
    cancelledAt: str | None  # noqa: N815
    correlationId: str  # noqa: N815
    timeOfEvent: str  # noqa: N815


class OrderGoneFromPosV1(PayloadModel):
    """A picked-up order is no longer known to the shipper's POS (it answered 404): Waybill
    keeps carrying it, since it can no longer be cancelled, and marks it gone."""

    order: OrderRef
    status: str
    goneFromPosAt: str  # noqa: N815
    correlationId: str  # noqa: N815
    timeOfEvent: str  # noqa: N815


def order_event_target(order) -> dict[str, Any]:
    """Whose event about an order it is and what it is about: ``event_build``'s own keys."""
    return {
        "live_mode": order.live_mode,
        "shipper": order.shipper,
        "entity_type": "ORDER",
        "entity_id": order.id,
        "entity_ref": order.creator_order_id,
        "root_entity_type": "ORDER",
        "root_entity_id": order.id,
        "root_entity_ref": order.creator_order_id,
    }


def seed_location(order, kind: str) -> dict[str, Any]:
    """A pickup or delivery location as the seed 004 events show it."""
    document = location_document(order, kind)
    return {
        "address": {
            "primary": document["address"]["primary"],
            "secondary": document["address"]["secondary"] or None,
        },
        # Seed 004: 0, 0 where the address could not be geocoded.
        "position": document["position"] or {"latitude": 0.0, "longitude": 0.0},
        "timeZone": document["timeZone"],
    }


def _details(document: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in document.items() if k not in _REFERENCE_KEYS}


def order_created_v1(*, order, time_of_event: datetime, document: dict | None = None) -> dict:
    document = document or order_document(order)
    return {
        "order": order_reference(order),
        **_details(document),
        "correlationId": "",
        "timeOfEvent": iso_local(time_of_event, order_zone(order)),
    }


def order_updated_v1(
    *, order, changes: list[str], time_of_event: datetime, document: dict | None = None
) -> dict:
    return {
        **order_created_v1(order=order, time_of_event=time_of_event, document=document),
        "changes": changes,
    }


def order_cancelled_v1(*, order, time_of_event: datetime) -> dict:
    return {
        "order": order_reference(order),
        "reason": order.cancel_reason,
        "cancelledAt": iso_local(order.cancelled_at, order_zone(order)),
        "correlationId": "",
        "timeOfEvent": iso_local(time_of_event, order_zone(order)),
    }


def order_gone_from_pos_v1(*, order, time_of_event: datetime) -> dict:
    return {
        "order": order_reference(order),
        "status": order.status,
        "goneFromPosAt": iso_local(order.gone_from_pos_at, order_zone(order)),
        "correlationId": "",
        "timeOfEvent": iso_local(time_of_event, order_zone(order)),
    }


declare(EventName.ORDER_CREATED, "Waybill", {"1.0": EventVersion(OrderCreatedV1, order_created_v1)})
declare(EventName.ORDER_UPDATED, "Waybill", {"1.0": EventVersion(OrderUpdatedV1, order_updated_v1)})
declare(
    EventName.ORDER_CANCELLED,
    "Waybill",
    {"1.0": EventVersion(OrderCancelledV1, order_cancelled_v1)},
)
declare(
    EventName.ORDER_GONE_FROM_POS,
    "Waybill",
    {"1.0": EventVersion(OrderGoneFromPosV1, order_gone_from_pos_v1)},
)
