"""The receiver's tracking page, ``/t/<token>``: no login, the unguessable token is the grant.

It shows what a receiver needs and nothing more of anyone: the order's status, the expected
delivery window, a timeline in words, and once delivered the signature (through an expiring
link). The only personal data is the receiver's first name; no address, phone, e-mail, driver
or position is rendered (a signer's name is cut to its first word too).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.shortcuts import render
from django.views.decorators.http import require_GET

from config.times import DELIVERY, PICKUP, local, order_zone
from orders.models import OrderStatus
from tracking import selectors
from tracking.models import PodImageKind
from tracking.pod import image_link

S = OrderStatus
# Status → (headline, sentence, step reached: 1 received, 2 on its way, 3 delivered, tone).
STATUS_TEXT = {
    S.CREATED: ("Order received", "We are preparing your delivery.", 1, "progress"),
    S.UNPLANNED: ("Order received", "We are preparing your delivery.", 1, "progress"),
    S.PLANNED: ("Order received", "A carrier has been booked for your delivery.", 1, "progress"),
    S.ON_ROUTE: ("Ready for pickup", "Your order is planned on a route.", 1, "progress"),
    S.PICKED_UP: ("On its way", "Your order has been picked up and is on its way.", 2, "progress"),
    S.PARTIALLY_DELIVERED: (
        "Partly delivered",
        "Some of your parcels have been delivered; the rest are on their way.",
        2,
        "progress",
    ),
    S.DELIVERED: ("Delivered", "Your order has been delivered.", 3, "done"),
    S.DELIVERY_FAILED: (
        "Delivery attempt failed",
        "We could not deliver your order. The carrier will try again or be in touch.",
        2,
        "problem",
    ),
    S.RETURNED: ("Returned to sender", "Your order was returned to the sender.", 2, "problem"),
    S.CANCELLED: ("Cancelled", "This order was cancelled.", 1, "problem"),
}
STEPS = ("Received", "On its way", "Delivered")
EVENT_TEXT = {
    "OrderPickupArrived": "The carrier arrived to pick up your order",
    "OrderPickupCompleted": "Picked up",
    "OrderPickupFailed": "Pickup did not succeed",
    "OrderDeliveryArrived": "The driver has arrived",
    "OrderDeliveryCompleted": "Delivered",
    "OrderDeliveryFailed": "Delivery attempt failed",
    "OrderReturnCompleted": "Returned to the sender",
    "ColloPickupCompleted": "Parcel picked up",
    "ColloLoadedOnLinehaul": "Parcel on its way to your area",
    "ColloDeliveryArrived": "Parcel arrived",
    "ColloDeliveryCompleted": "Parcel delivered",
    "ColloDeliveryFailed": "Parcel could not be delivered",
    "CollectionPointColloCollected": "Collected from the collection point",
    "CollectionPointColloNotCollected": "Not collected from the collection point",
    "CollectionPointColloRejected": "Refused at the collection point",
    "EtaUpdated": "Delivery time updated",
}


@dataclass
class TimelineEntry:
    text: str
    when: str
    problem: bool


def when(moment: datetime | None) -> str:
    """A time for a person, on the place's clock: ``Tue 24 Nov, 13:05 CET``."""
    if moment is None:
        return ""
    return f"{moment:%a} {moment.day} {moment:%b}, {moment:%H:%M %Z}".strip()


def window(start: datetime | None, end: datetime | None) -> str:
    """``Tue 24 Nov, 13:00–15:00 CET``; the day again when the window spans two."""
    if start is None or end is None:
        return when(start or end)
    if start.date() == end.date():
        return f"{start:%a} {start.day} {start:%b}, {start:%H:%M}–{end:%H:%M %Z}".strip()
    return f"{when(start)} – {when(end)}"


def first_name(contact: dict | None) -> str:
    """The receiver's first name, or nothing."""
    contact = contact if isinstance(contact, dict) else {}
    for key in ("preferredName", "fullName", "name"):
        value = contact.get(key)
        if isinstance(value, str) and value.strip():
            return value.split()[0][:40]
    return ""


def _timeline(order, events) -> list[TimelineEntry]:
    entries = []
    for event in events:
        text = EVENT_TEXT.get(event.type)
        if text is None:
            continue
        kind = PICKUP if "Pickup" in event.type else DELIVERY
        entries.append(
            TimelineEntry(
                text=text,
                when=when(local(event.time_of_event, order_zone(order, kind))),
                problem=event.type.endswith(("Failed", "Rejected", "NotCollected")),
            )
        )
    return list(reversed(entries))  # newest first: what a receiver looks for


def _signature(order) -> dict | None:
    if order.status != S.DELIVERED:
        return None
    pod = selectors.pod_of(order)
    if pod is None:
        return None
    image = next((i for i in pod.images.all() if i.kind == PodImageKind.SIGNATURE), None)
    return {
        "signer": pod.signed_by.split()[0][:40] if pod.signed_by.strip() else "",
        "at": when(local(pod.signed_at, order_zone(order, DELIVERY))),
        "image": image_link(image)["path"] if image else None,
    }


@require_GET
def tracking_page(request, token: str):
    order = selectors.order_by_tracking_token(token)
    if order is None:
        response = render(request, "tracking/not_found.html", status=404)
    else:
        response = render(request, "tracking/page.html", _context(order))
    # The token is the grant: keep it out of caches, referrers and search engines.
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _context(order) -> dict:
    events = selectors.order_timeline(order)
    headline, sentence, step, tone = STATUS_TEXT[order.status]
    eta = selectors.eta_window(order, events)
    zone = order_zone(order, DELIVERY)
    return {
        "receiver": first_name(order.delivery_contact),
        "reference": order.creator_order_id,
        "status": order.status,
        "headline": headline,
        "sentence": sentence,
        "tone": tone,
        "steps": [
            {"label": label, "reached": index < step, "current": index == step - 1}
            for index, label in enumerate(STEPS)
        ],
        "eta": window(local(eta.start, zone), local(eta.end, zone)) if eta else "",
        "delivered_at": when(local(order.delivered_at, zone)),
        "timeline": _timeline(order, events),
        "signature": _signature(order),
    }
