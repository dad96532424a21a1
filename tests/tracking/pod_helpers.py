"""What the POD, tracking API and tracking page tests share: an order a carrier carries,
images made in memory, status moves through the one status writer and timeline rows made
directly (the carrier events intake has its own tests)."""

from __future__ import annotations

import io
from datetime import datetime
from zoneinfo import ZoneInfo

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from PIL import Image

from carriers.services import orders_plan
from orders.models import Order, OrderStatus
from orders.services import order_status_move
from tests.carriers.conftest import plannable_payload
from tests.factories import ServiceFactory
from tracking.models import TrackingEvent

CPH = ZoneInfo("Europe/Copenhagen")
S = OrderStatus
# How each status is reached from ``planned``, through the one status writer.
PATHS = {
    S.CREATED: [],
    S.PLANNED: [],
    S.ON_ROUTE: [S.ON_ROUTE],
    S.PICKED_UP: [S.PICKED_UP],
    S.PARTIALLY_DELIVERED: [S.PICKED_UP, S.PARTIALLY_DELIVERED],
    S.DELIVERED: [S.PICKED_UP, S.DELIVERED],
    S.DELIVERY_FAILED: [S.PICKED_UP, S.DELIVERY_FAILED],
    S.RETURNED: [S.PICKED_UP, S.DELIVERY_FAILED, S.RETURNED],
    S.CANCELLED: [S.CANCELLED],
}


def carried_order(client, carrier, **overrides) -> Order:
    """A shipper's order (created through the API) planned on ``carrier``'s service."""
    if not carrier.services.exists():
        ServiceFactory(carrier=carrier)
    response = client.post("/api/v1/orders", plannable_payload(**overrides), format="json")
    assert response.status_code == 201, response.json()
    order = Order.objects.get(id=response.json()["id"])
    orders_plan(order_ids=[order.id])
    order.refresh_from_db()
    assert order.plans.get(is_current=True).carrier_id == carrier.id
    return order


def move(order: Order, *statuses: str) -> Order:
    for status in statuses:
        with transaction.atomic():  # a move's events are written in its transaction
            order = order_status_move(order=order, to=status, actor="test", reason="test")
    order.refresh_from_db()
    return order


def moved_to(order: Order, status: str) -> Order:
    return move(order, *PATHS[status])


def local(*args) -> datetime:
    return datetime(*args, tzinfo=CPH)


def event(order: Order, type_: str, at: datetime, carrier=None, **fields) -> TrackingEvent:
    return TrackingEvent.objects.create(
        order=order,
        carrier=carrier,
        type=type_,
        time_of_event=at,
        source=fields.pop("source", "canonical"),
        **fields,
    )


def image_bytes(fmt: str = "PNG", size=(240, 120), color=(30, 60, 200)) -> bytes:
    buffer = io.BytesIO()
    picture = Image.new("RGB", size, color)
    for x in range(0, size[0], 8):  # a stroke, so a signature looks like one
        picture.putpixel((x, size[1] // 2), (0, 0, 0))
    picture.save(buffer, format=fmt)
    return buffer.getvalue()


def upload(name: str, content: bytes, content_type: str = "image/png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)
