"""The receiver's tracking page /t/<token> through Django's test client: every status, the
timeline in words, the signature once delivered, no personal data but the first name,
nothing fetched from elsewhere, and a 404 page for an unknown token."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from orders.models import Order, OrderStatus
from tests.carriers.conftest import plannable_payload
from tests.tracking.pod_helpers import (
    carried_order,
    event,
    image_bytes,
    local,
    move,
    moved_to,
    upload,
)

pytestmark = pytest.mark.django_db

HEADLINES = {
    OrderStatus.CREATED: "Order received",
    OrderStatus.PLANNED: "Order received",
    OrderStatus.ON_ROUTE: "Ready for pickup",
    OrderStatus.PICKED_UP: "On its way",
    OrderStatus.PARTIALLY_DELIVERED: "Partly delivered",
    OrderStatus.DELIVERED: "Delivered",
    OrderStatus.DELIVERY_FAILED: "Delivery attempt failed",
    OrderStatus.RETURNED: "Returned to sender",
    OrderStatus.CANCELLED: "Cancelled",
}
# What the order holds about people and places; none of it may show on the page.
PERSONAL = ["Doe", "Artillerivej", "Søtorvet", "2300", "22345678", "32121212", "@example.dk"]


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def order_in(status: str, client_a, carrier) -> Order:
    if status == OrderStatus.CREATED:
        response = client_a.post("/api/v1/orders", plannable_payload(), format="json")
        return Order.objects.get(id=response.json()["id"])
    return moved_to(carried_order(client_a, carrier), status)


def page(order: Order):
    return Client().get(f"/t/{order.tracking_token}")


@pytest.mark.parametrize("status", list(HEADLINES))
def test_the_page_renders_each_status_without_personal_data(status, client_a, carrier):
    order = order_in(status, client_a, carrier)
    event(order, "OrderPickupCompleted", local(2026, 11, 24, 10, 20), latitude=55.6, longitude=12.5)

    response = page(order)

    assert response.status_code == 200
    html = response.content.decode()
    assert f'data-status="{status}"' in html
    assert HEADLINES[status] in html
    assert "Hi Jane," in html  # the receiver's first name, and only that
    assert "Picked up" in html and "Tue 24 Nov, 10:20 CET" in html
    for text in PERSONAL:
        assert text not in html, text
    assert "55.6" not in html  # no positions either
    assert response["Cache-Control"] == "no-store"
    assert response["Referrer-Policy"] == "no-referrer"


def test_the_page_fetches_nothing_from_elsewhere(client_a, carrier):
    html = page(carried_order(client_a, carrier)).content.decode()
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)
    assert "@import" not in html and "<script" not in html and "<link" not in html


def test_the_eta_window_shows_on_the_delivery_places_clock(client_a, carrier):
    order = moved_to(carried_order(client_a, carrier), OrderStatus.PICKED_UP)
    event(
        order,
        "EtaUpdated",
        local(2026, 11, 24, 9, 0),
        eta_from=local(2026, 11, 24, 13, 0),
        eta_to=local(2026, 11, 24, 15, 0),
    )
    html = page(order).content.decode()
    assert "Expected delivery" in html
    assert "Tue 24 Nov, 13:00–15:00 CET" in html


def test_a_delivered_order_shows_the_signature_through_an_expiring_link(
    client_a, carrier, carrier_client
):
    order = moved_to(carried_order(client_a, carrier), OrderStatus.PICKED_UP)
    signature = image_bytes()
    carrier_client.post(
        f"/api/v1/carrier/orders/{order.id}/pod",
        {
            "signatureName": "Jane Doe",
            "signatureTime": "2026-11-24T14:05:00+01:00",
            "signature": upload("s.png", signature),
        },
        format="multipart",
    )
    assert "Proof of delivery" not in page(order).content.decode()  # not before delivered

    order = move(order, OrderStatus.DELIVERED)
    html = page(order).content.decode()

    assert "Proof of delivery" in html
    assert "Signed by Jane, Tue 24 Nov, 14:05 CET" in html
    link = re.search(r'<img src="(/pod/images/[^"]+)"', html).group(1)
    served = Client().get(link)
    assert served.status_code == 200
    assert b"".join(served.streaming_content) == signature


def test_an_unknown_token_is_a_404_page(db):
    response = Client().get("/t/no-such-token")
    assert response.status_code == 404
    assert "We could not find this delivery" in response.content.decode()
