"""The receiver's tracking page in a real browser (headless Chromium): each status on a phone
(390×844) and a desktop, what a receiver sees, no sideways scrolling, nothing fetched from
anywhere but Waybill, and the signature image loaded once delivered.

Screenshots land in ``$WAYBILL_VAR_DIR/screenshots``."""

from __future__ import annotations

import pytest

from orders.models import OrderStatus
from tests.tracking.pod_helpers import carried_order, event, image_bytes, local, moved_to, upload

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SIZES = {"phone": (390, 844), "desktop": (1280, 800)}
SEEN = {
    OrderStatus.PLANNED: ("Order received", "Expected delivery"),
    OrderStatus.PICKED_UP: ("On its way", "Expected delivery"),
    OrderStatus.PARTIALLY_DELIVERED: ("Partly delivered", "Parcel delivered"),
    OrderStatus.DELIVERED: ("Delivered", "Proof of delivery"),
    OrderStatus.DELIVERY_FAILED: ("Delivery attempt failed", "Parcel could not be delivered"),
    OrderStatus.RETURNED: ("Returned to sender", "Returned to the sender"),
    OrderStatus.CANCELLED: ("Cancelled", "What happened"),
}


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def _order(status, client_a, carrier, carrier_client):
    order = carried_order(client_a, carrier)
    collo = order.collis.order_by("position").first()
    if status != OrderStatus.PLANNED and status != OrderStatus.CANCELLED:
        event(order, "OrderPickupCompleted", local(2026, 11, 24, 10, 20))
        event(
            order,
            "EtaUpdated",
            local(2026, 11, 24, 11, 0),
            eta_from=local(2026, 11, 24, 13, 0),
            eta_to=local(2026, 11, 24, 15, 0),
        )
    if status == OrderStatus.PARTIALLY_DELIVERED:
        event(order, "ColloDeliveryCompleted", local(2026, 11, 24, 13, 20), collo=collo)
    if status in (OrderStatus.DELIVERY_FAILED, OrderStatus.RETURNED):
        event(order, "ColloDeliveryFailed", local(2026, 11, 24, 13, 25), collo=collo)
    if status == OrderStatus.RETURNED:
        event(order, "OrderReturnCompleted", local(2026, 11, 25, 9, 0))
    if status == OrderStatus.DELIVERED:
        event(order, "OrderDeliveryCompleted", local(2026, 11, 24, 14, 5))
        response = carrier_client.post(
            f"/api/v1/carrier/orders/{order.id}/pod",
            {
                "signatureName": "Jane Doe",
                "signatureTime": "2026-11-24T14:05:00+01:00",
                "signature": upload("s.png", image_bytes("PNG", (480, 160), (255, 255, 255))),
            },
            format="multipart",
        )
        assert response.status_code == 201, response.json()
    order = moved_to(order, status)
    if status == OrderStatus.DELIVERED:  # as the carrier reported it, not the test's clock
        type(order).objects.filter(id=order.id).update(delivered_at=local(2026, 11, 24, 14, 5))
    return order


@pytest.mark.parametrize("status", list(SEEN))
def test_the_receiver_sees_the_status_on_a_phone_and_a_desktop(
    status, client_a, carrier, carrier_client, anonymous_page, screenshot
):
    order = _order(status, client_a, carrier, carrier_client)
    headline, detail = SEEN[status]
    for size, (width, height) in SIZES.items():
        page = anonymous_page(f"/t/{order.tracking_token}", width, height)
        screenshot(page, f"{status}-{size}")
        assert page.locator("h1").inner_text() == headline
        text = page.locator("body").inner_text()
        assert detail in text
        assert "Hi Jane," in text and "Doe" not in text and "Artillerivej" not in text
        # Nothing wider than the screen: no sideways scrolling on a phone.
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        if status == OrderStatus.DELIVERY_FAILED:  # the ETA before the attempt is stale
            assert "Expected delivery" not in text
        if status == OrderStatus.DELIVERED:
            assert "Tue 24 Nov, 14:05 CET" in page.locator(".eta-card").inner_text()
            loaded = page.locator(".signature img").evaluate("img => img.naturalWidth")
            assert loaded == 480
    assert all(url.startswith(anonymous_page.base_url) for url in anonymous_page.requests)


def test_an_unknown_link_shows_a_not_found_page(db, anonymous_page, screenshot):
    page = anonymous_page("/t/no-such-token", *SIZES["phone"])
    screenshot(page, "not-found")
    assert "We could not find this delivery" in page.locator("h1").inner_text()
