"""A dispatcher previews a customer email in a real browser (headless Chromium driven by
Playwright): subject, text and the HTML in its sandboxed frame, filled in for the latest
order; a receiver's script in the HTML never runs.

Screenshots land in ``$WAYBILL_VAR_DIR/screenshots``."""

from __future__ import annotations

import pytest

from notifications.models import Channel, NotificationTemplate
from tests.factories import order_payload

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_dispatcher_previews_an_email_for_the_latest_order(client_a, admin_page, screenshot):
    payload = order_payload()
    payload["notes"] = "Gate code <script>alert(1)</script>"
    order = client_a.post("/api/v1/orders", payload, format="json").json()
    template = NotificationTemplate.objects.create(
        code="order-shipped",
        channel=Channel.EMAIL,
        name="Order shipped",
        subject="Your order {{ order.reference }} is on its way",
        text_body="Hi {{ receiver.firstName }}: {{ order.notes }}. Track it: {{ trackingUrl }}",
        html_body=(
            "<h1>Hi {{ receiver.firstName }}</h1><p>Order {{ order.reference }}</p>"
            "<p class='notes'>{{ order.notes }}</p>"
        ),
    )
    dialogs: list[str] = []

    page = admin_page(f"/admin/notifications/notificationtemplate/{template.pk}/preview/")
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    screenshot(page, "email-preview")

    assert order["creatorOrderId"] in page.locator(".preview-subject").inner_text()
    text = page.locator(".preview-text").inner_text()
    assert "Hi Jane: Gate code <script>alert(1)</script>. Track it: " in text  # shown, not run
    frame = page.frame_locator("iframe.preview-html")
    assert "Hi Jane" in frame.locator("h1").inner_text()
    assert order["creatorOrderId"] in frame.locator("p").first.inner_text()
    assert "<script>" in frame.locator("p.notes").inner_text()  # escaped in the HTML too
    assert dialogs == []
