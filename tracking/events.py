"""The seed 004 events an applied carrier fact sends to the shipper's subscribers, and their
builders (attached to the catalogue here)."""

from __future__ import annotations

from webhooks.services import PendingEvent


def seed_events_for(*, tracking_event) -> list[PendingEvent]:
    """The outgoing events of one applied ``TrackingEvent``: built from Waybill's state (the
    order, collo, route as they are after the fact), in the seed's shape."""
    return []
