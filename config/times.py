"""One time convention: every time Waybill shows carries the UTC offset of its place.

Stored times are UTC; they are rendered, in the API, in events (their ``data`` and the
envelope's ``dateTime``) and in the admin, in the zone of the place the fact belongs to, as
the seeds do (``2026-12-02T08:00:00+01:00``). Which zone for which fact:

- **Pickup facts** (the pickup time frame, pickup ETA, a pickup stop): the order's pickup
  location (``Order.pickup_time_zone``).
- **Delivery facts** (the delivery time frame, delivery ETA, a delivery stop and a job's
  planned stops, which are deliveries): the order's delivery location
  (``Order.delivery_time_zone``).
- **The order as a whole** (``createdAt``, ``updatedAt``, ``cancelledAt``, a plan's
  ``decidedAt``, an order event's ``timeOfEvent`` and envelope ``dateTime``): the pickup
  location until the order is picked up, the delivery location from then on
  (``order_zone``).
- **Jobs and routes** (a job's times and its routes' start and end, a route's start and end,
  a route event's times): the depot the vehicles leave from (``Depot.time_zone``).
- **A carrier's promise and own facts** (promised pickup and delivery windows in plans,
  options and the manifest, since its service windows are its local clock; later its cost
  additions and invoices): the carrier's zone (``Carrier.time_zone``).

Times that belong to no place (webhook subscriptions, deliveries and their attempts, the
``WebhookTest`` ping) stay in UTC. This module is pure: it reads attributes of the objects
passed in and never queries.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

PICKUP, DELIVERY = "pickup", "delivery"


@cache
def zone(name: str | None) -> ZoneInfo:
    """The zone called ``name``; UTC when it is unknown (stored data must never make a read
    fail)."""
    try:
        return ZoneInfo(name) if name else ZoneInfo("UTC")
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        return ZoneInfo("UTC")


def local(value: datetime | None, zone_name: str | None) -> datetime | None:
    """``value`` as the clock in ``zone_name`` shows it; unchanged where the zone would
    take it out of the representable range."""
    if value is None:
        return None
    if value.tzinfo is None:  # naive values are UTC, as Django stores them
        value = value.replace(tzinfo=UTC)
    try:
        return value.astimezone(zone(zone_name))
    except (OverflowError, ValueError):
        return value


def iso_local(value: datetime | None, zone_name: str | None) -> str | None:
    """``value`` in ISO 8601 with the offset of ``zone_name``: the API's and the events' form."""
    moment = local(value, zone_name)
    return None if moment is None else moment.isoformat()


def admin_local(value: datetime | None, zone_name: str | None) -> str:
    """``value`` for a person: the clock in ``zone_name`` and the zone's name,
    ``2026-12-02 08:00 (Europe/Oslo)``; a dash when there is none."""
    moment = local(value, zone_name)
    if moment is None:
        return "-"
    return f"{moment:%Y-%m-%d %H:%M} ({zone_name or 'UTC'})"


# --- which zone for which fact -----------------------------------------------------------------


def order_zone(order: Any, kind: str | None = None) -> str:
    """The zone of a fact about ``order``: of its ``kind`` (pickup or delivery) location when
    given, else of the order as a whole (pickup until picked up, delivery from then on)."""
    if kind is None:
        from orders.models import PICKED_UP_OR_LATER

        kind = DELIVERY if order.status in PICKED_UP_OR_LATER else PICKUP
    return getattr(order, f"{kind}_time_zone")


def depot_zone(depot: Any) -> str:
    return depot.time_zone if depot is not None else "UTC"


def route_zone(route: Any) -> str:
    """A route's zone: its depot's, through its vehicle group."""
    return depot_zone(route.vehicle_group.depot)


def carrier_zone(carrier: Any) -> str:
    return carrier.time_zone if carrier is not None else "UTC"


def admin_time(field: str, zone_of: Any, description: str | None = None) -> Any:
    """An admin column (or read-only field) showing ``field`` in the zone ``zone_of(obj)``
    names, with the zone's name; sorts by the field. Set it on a ModelAdmin as an attribute."""

    def column(_model_admin: Any, obj: Any) -> str:
        return admin_local(getattr(obj, field), zone_of(obj))

    column.__name__ = f"{field}_local"
    column.short_description = description or field.replace("_", " ").capitalize()
    column.admin_order_field = field
    return column
