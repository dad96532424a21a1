"""Tracking as the API shows it to shippers: timelines, ETA windows, proofs of delivery.

Pure: no queries beyond the rows the caller passes (see ``tracking.selectors``). Times carry
the offset of their place (``config.times``): a pickup fact the pickup location's, every
other fact the delivery location's; a POD's signature the delivery location's.
"""

from __future__ import annotations

from typing import Any

from config.times import DELIVERY, PICKUP, iso_local, order_zone
from orders.documents import order_reference, tracking_url
from tracking.models import PodImageKind, ProofOfDelivery, TrackingEvent
from tracking.pod import image_link
from tracking.selectors import EtaWindow


def event_zone(order, event_type: str) -> str:
    """The zone a timeline fact is shown in: where it happened."""
    return order_zone(order, PICKUP if "Pickup" in event_type else DELIVERY)


def tracking_event_document(event: TrackingEvent, order) -> dict[str, Any]:
    zone = event_zone(order, event.type)
    has_position = event.latitude is not None and event.longitude is not None
    return {
        "id": str(event.id),
        "type": event.type,
        "timeOfEvent": iso_local(event.time_of_event, zone),
        "colloBarcode": event.collo.barcode if event.collo_id else None,
        "position": (
            {"latitude": event.latitude, "longitude": event.longitude} if has_position else None
        ),
        "driver": event.driver or None,
        "executor": event.executor or None,
        "deviation": (
            {
                "code": event.deviation.get("code"),
                "text": event.deviation.get("text"),
                "images": list(event.images),
            }
            if event.deviation
            else None
        ),
        "images": list(event.images),
        "eta": _window(event.eta_from, event.eta_to, order_zone(order, DELIVERY)),
        "source": event.source,
        # False: older than a fact already applied, so it moved no status.
        "applied": event.applied,
        "receivedAt": iso_local(event.received_at, zone),
    }


def _window(start, end, zone: str) -> dict[str, str | None] | None:
    if start is None and end is None:
        return None
    return {"from": iso_local(start, zone), "to": iso_local(end, zone)}


def last_position(order, timeline: list[TrackingEvent]) -> dict[str, Any] | None:
    placed = [e for e in timeline if e.latitude is not None and e.longitude is not None]
    if not placed:
        return None
    last = placed[-1]
    return {
        "latitude": last.latitude,
        "longitude": last.longitude,
        "at": iso_local(last.time_of_event, event_zone(order, last.type)),
    }


def eta_document(order, eta: EtaWindow | None) -> dict[str, Any] | None:
    if eta is None:
        return None
    window = _window(eta.start, eta.end, order_zone(order, DELIVERY))
    return {**window, "source": eta.source}


def order_tracking_document(
    order, *, timeline: list[TrackingEvent], eta: EtaWindow | None, has_pod: bool
) -> dict[str, Any]:
    """``GET /orders/{id}/tracking``: where the order is, what happened, what comes next."""
    return {
        "order": order_reference(order),
        "status": order.status,
        "deliveredAt": iso_local(order.delivered_at, order_zone(order, DELIVERY)),
        "timeline": [tracking_event_document(event, order) for event in timeline],
        "lastPosition": last_position(order, timeline),
        "eta": eta_document(order, eta),
        "pod": (
            {
                "url": f"/api/v1/orders/{order.id}/pod",
                "pdfUrl": f"/api/v1/orders/{order.id}/pod.pdf",
            }
            if has_pod
            else None
        ),
        "trackingUrl": tracking_url(order),
    }


def collo_tracking_document(collo, *, timeline: list[TrackingEvent]) -> dict[str, Any]:
    """``GET /collis/{barcode}/tracking``: the collo's facts and its order's."""
    order = collo.order
    return {
        "barcode": collo.barcode,
        "colloId": str(collo.id),
        "order": order_reference(order),
        "orderStatus": order.status,
        "timeline": [tracking_event_document(event, order) for event in timeline],
        "lastPosition": last_position(order, timeline),
    }


def pod_image_document(image) -> dict[str, Any]:
    link = image_link(image)
    return {
        "id": str(image.id),
        "kind": image.kind,
        "contentType": image.content_type,
        "width": image.width,
        "height": image.height,
        "bytes": image.size,
        "url": link["path"],
        "expiresAt": link["expiresAt"],
    }


def pod_document(pod: ProofOfDelivery) -> dict[str, Any]:
    """``GET /orders/{id}/pod``: the signature and photos, each behind an expiring link."""
    order = pod.order
    images = list(pod.images.all())
    signature = next((i for i in images if i.kind == PodImageKind.SIGNATURE), None)
    zone = order_zone(order, DELIVERY)
    return {
        "order": order_reference(order),
        "status": order.status,
        "carrier": {"id": str(pod.carrier.id), "name": pod.carrier.name, "slug": pod.carrier.slug},
        "signature": {
            "name": pod.signed_by or None,
            "signedAt": iso_local(pod.signed_at, zone),
            "image": pod_image_document(signature) if signature else None,
        },
        "photos": [pod_image_document(i) for i in images if i.kind == PodImageKind.PHOTO],
        "deviationImages": [
            pod_image_document(i) for i in images if i.kind == PodImageKind.DEVIATION
        ],
        "pdfUrl": f"/api/v1/orders/{order.id}/pod.pdf",
        "createdAt": iso_local(pod.created_at, zone),
        "updatedAt": iso_local(pod.updated_at, zone),
    }
