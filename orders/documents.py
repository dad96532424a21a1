"""The order as the API and the events show it (camelCase, the seeds' nesting), and back.

This is the one place that maps between the seeds' field names and the model's columns.
Everything here is pure: no queries beyond relations the caller has loaded.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings

from config.money import money_text
from config.times import iso_local, order_zone
from orders.models import Collo, Order, OrderLine

LOCATION_KINDS = ("pickup", "delivery")


def _decimal(value: Decimal | None) -> str | None:
    return None if value is None else format(Decimal(value).normalize(), "f")


def location_document(order: Order, kind: str) -> dict[str, Any]:
    latitude = getattr(order, f"{kind}_latitude")
    longitude = getattr(order, f"{kind}_longitude")
    return {
        "address": {
            "primary": getattr(order, f"{kind}_address_primary"),
            "secondary": getattr(order, f"{kind}_address_secondary"),
            "postalCode": getattr(order, f"{kind}_postal_code"),
            "countryCode": getattr(order, f"{kind}_country_code"),
        },
        "position": (
            {"latitude": latitude, "longitude": longitude} if latitude is not None else None
        ),
        "timeZone": getattr(order, f"{kind}_time_zone"),
    }


def time_frame_document(order: Order, kind: str) -> dict[str, Any] | None:
    start, end = getattr(order, f"{kind}_from"), getattr(order, f"{kind}_to")
    if start is None and end is None:
        return None
    time_zone = getattr(order, f"{kind}_time_zone")
    return {"from": iso_local(start, time_zone), "to": iso_local(end, time_zone)}


def line_document(line: OrderLine, *, currency: str) -> dict[str, Any]:
    return {
        "reference": line.reference,
        "description": line.description,
        "quantity": _decimal(line.quantity),
        "price": money_text(line.price, currency),
        "taxRate": _decimal(line.tax_rate),
        "total": money_text(
            Decimal(line.quantity) * Decimal(line.price) * (1 + Decimal(line.tax_rate) / 100),
            currency,
        ),
    }


def collo_document(collo: Collo) -> dict[str, Any]:
    has_dimensions = any(v is not None for v in (collo.length, collo.width, collo.height))
    return {
        "id": str(collo.id),
        "barcode": collo.barcode,
        "description": collo.description,
        "weight": _decimal(collo.weight),
        "volume": _decimal(collo.volume),
        "dimensions": (
            {
                "length": _decimal(collo.length),
                "width": _decimal(collo.width),
                "height": _decimal(collo.height),
            }
            if has_dimensions
            else None
        ),
        "tags": list(collo.tags),
    }


def order_reference(order: Order) -> dict[str, Any]:
    """The short order block every seed 004 event carries."""
    return {
        "id": str(order.id),
        "creatorOrderId": order.creator_order_id,
        "creatorId": str(order.shipper_id),
        "relationalId": order.relational_id,
        "tags": list(order.tags),
    }


def tracking_url(order: Order) -> str:
    """The receiver's tracking page (``/t/<token>``), absolute when the site's public base
    URL is configured."""
    return f"{settings.TRACKING_PAGE_BASE_URL}/t/{order.tracking_token}"


# ``order_document``'s ``cost`` when the document leaves it out: the order events carry the
# order as the shipper sent it; the Order API adds what the order costs now.
WITHOUT_COST: Any = object()


def order_document(
    order: Order,
    *,
    lines: list[OrderLine] | None = None,
    collis: list[Collo] | None = None,
    cost: Any = WITHOUT_COST,
) -> dict[str, Any]:
    """The whole order; ``lines``/``collis`` stand in for the saved rows when given.
    ``cost`` is the order's ``finance.selectors.CurrentCost`` (or None: no price yet), shown
    as ``cost``: the plan's price plus the approved cost additions."""
    lines = order.lines.all() if lines is None else lines
    collis = order.collis.all() if collis is None else collis
    zone = order_zone(order)  # the order as a whole: see config.times
    document = {
        "id": str(order.id),
        "creatorOrderId": order.creator_order_id,
        "creatorId": str(order.shipper_id),
        "relationalId": order.relational_id,
        "liveMode": order.live_mode,
        "status": order.status,
        "tags": list(order.tags),
        "notes": order.notes,
        "currency": order.currency,
        "customFields": order.custom_fields,
        "pickupLocation": location_document(order, "pickup"),
        "deliveryLocation": location_document(order, "delivery"),
        "pickupContact": order.pickup_contact,
        "deliveryContact": order.delivery_contact,
        "pickupTimeFrame": time_frame_document(order, "pickup"),
        "deliveryTimeFrame": time_frame_document(order, "delivery"),
        "lines": [line_document(line, currency=order.currency) for line in lines],
        "collis": [collo_document(collo) for collo in collis],
        "totalWeight": _decimal(sum((Decimal(c.weight) for c in collis), Decimal(0))),
        "cancelReason": order.cancel_reason,
        "cancelledAt": iso_local(order.cancelled_at, zone),
        # Seed 001: picked up, and the shipper's POS no longer knows it (answered 404).
        "goneFromPosAt": iso_local(order.gone_from_pos_at, zone),
        "createdAt": iso_local(order.created_at, zone),
        "updatedAt": iso_local(order.updated_at, zone),
        "trackingUrl": tracking_url(order),
    }
    if cost is not WITHOUT_COST:
        from finance.documents import cost_document  # finance builds on orders, not back

        document["cost"] = cost_document(cost)
    return document


# --- from the API's names to the model's columns -------------------------------------------

# Top-level keys of an order spec and the columns they set (lines and collis are rows).
SCALAR_COLUMNS = {
    "creatorOrderId": "creator_order_id",
    "relationalId": "relational_id",
    "tags": "tags",
    "notes": "notes",
    "currency": "currency",
    "customFields": "custom_fields",
    "pickupContact": "pickup_contact",
    "deliveryContact": "delivery_contact",
}


def location_columns(kind: str, location: dict[str, Any] | None) -> dict[str, Any]:
    location = location or {}
    address = location.get("address") or {}
    position = location.get("position") or {}
    columns = {
        f"{kind}_address_primary": address.get("primary", ""),
        f"{kind}_address_secondary": address.get("secondary", ""),
        f"{kind}_postal_code": address.get("postalCode", ""),
        f"{kind}_country_code": address.get("countryCode", ""),
        f"{kind}_latitude": position.get("latitude"),
        f"{kind}_longitude": position.get("longitude"),
    }
    if location.get("timeZone"):
        columns[f"{kind}_time_zone"] = location["timeZone"]
    return columns


def time_frame_columns(kind: str, frame: dict[str, Any] | None) -> dict[str, Any]:
    frame = frame or {}
    return {f"{kind}_from": frame.get("from"), f"{kind}_to": frame.get("to")}


def order_columns(spec: dict[str, Any]) -> dict[str, Any]:
    """Model columns for the keys present in ``spec`` (a validated order document)."""
    columns: dict[str, Any] = {}
    for key, column in SCALAR_COLUMNS.items():
        if key in spec:
            value = spec[key]
            columns[column] = (
                "" if value is None and column in ("relational_id", "notes") else value
            )
    for kind in LOCATION_KINDS:
        if f"{kind}Location" in spec:
            columns.update(location_columns(kind, spec[f"{kind}Location"]))
        if f"{kind}TimeFrame" in spec:
            columns.update(time_frame_columns(kind, spec[f"{kind}TimeFrame"]))
    return columns


def line_rows(order: Order, lines: list[dict[str, Any]]) -> list[OrderLine]:
    return [
        OrderLine(
            order=order,
            position=index,
            reference=line.get("reference", ""),
            description=line.get("description", ""),
            quantity=line["quantity"],
            price=line["price"],
            tax_rate=line.get("taxRate") or 0,
        )
        for index, line in enumerate(lines, start=1)
    ]


def collo_rows(order: Order, collis: list[dict[str, Any]]) -> list[Collo]:
    rows = []
    for index, collo in enumerate(collis, start=1):
        dimensions = collo.get("dimensions") or {}
        rows.append(
            Collo(
                order=order,
                position=index,
                barcode=collo.get("barcode", ""),
                description=collo.get("description", ""),
                weight=collo["weight"],
                volume=collo.get("volume"),
                length=dimensions.get("length"),
                width=dimensions.get("width"),
                height=dimensions.get("height"),
                tags=collo.get("tags", []),
            )
        )
    return rows
