"""The seed 004 events an applied carrier fact sends to the shipper's subscribers, and their
builders (attached to the catalogue here)."""

from __future__ import annotations

from config.times import iso_local, order_zone
from orders.documents import order_reference
from webhooks.catalogue import EventName, builders_attach
from webhooks.services import PendingEvent


def seed_events_for(*, tracking_event) -> list[PendingEvent]:
    """The outgoing events of one applied ``TrackingEvent``: built from Waybill's state (the
    order, collo, route as they are after the fact), in the seed's shape."""
    return []


# --- OrderGeoLocationFailed (h/geo's minimal builder; the tracking engineer's replaces it) ---


def order_geo_location_failed_v1(*, order, time_of_event, reason: str) -> dict:
    """The order and its delivery location; a place that has no position is shown at (0, 0),
    as the seed does. ``reason`` is Waybill's own and not in the seed's shape."""
    latitude, longitude = order.delivery_latitude, order.delivery_longitude
    return {
        "order": order_reference(order),
        "location": {
            "address": {
                "primary": order.delivery_address_primary,
                "secondary": order.delivery_address_secondary or None,
            },
            "position": {"latitude": latitude or 0.0, "longitude": longitude or 0.0},
            "timeZone": order.delivery_time_zone,
        },
        "correlationId": "",
        "timeOfEvent": iso_local(time_of_event, order_zone(order)),
    }


builders_attach(EventName.ORDER_GEO_LOCATION_FAILED, {"1.0": order_geo_location_failed_v1})
