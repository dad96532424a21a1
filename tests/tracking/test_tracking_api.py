"""The Go API for shippers: an order's tracking (status, timeline, last position, ETA window,
POD link) and a collo's, read from TrackingEvent rows; and the order document's trackingUrl."""

from __future__ import annotations

import pytest

from config.times import iso_local
from tests.tracking.pod_helpers import (
    carried_order,
    event,
    image_bytes,
    local,
    move,
    upload,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def order(client_a, carrier):
    return carried_order(client_a, carrier)


def test_an_orders_tracking_shows_its_timeline_position_eta_and_pod(
    client_a, carrier, carrier_client, order
):
    collo = order.collis.order_by("position").first()
    event(
        order,
        "OrderPickupCompleted",
        local(2026, 11, 24, 10, 20),
        carrier=carrier,
        latitude=55.68,
        longitude=12.56,
        driver={"name": "Ole"},
        executor={"id": "van-7"},
    )
    event(
        order,
        "ColloDeliveryFailed",
        local(2026, 11, 24, 13, 30),
        carrier=carrier,
        collo=collo,
        latitude=55.66,
        longitude=12.58,
        deviation={"code": "NOT_HOME", "text": "Nobody home"},
        images=["https://carrier.example/d.jpg"],
        source="seed-004",
    )
    event(  # after the failed attempt: the next try
        order,
        "EtaUpdated",
        local(2026, 11, 24, 13, 45),
        carrier=carrier,
        eta_from=local(2026, 11, 24, 15, 0),
        eta_to=local(2026, 11, 24, 16, 0),
    )
    order = move(order, "picked_up")

    body = client_a.get(f"/api/v1/orders/{order.id}/tracking").json()

    assert body["status"] == "picked_up"
    assert body["order"]["creatorOrderId"] == order.creator_order_id
    assert [e["type"] for e in body["timeline"]] == [
        "OrderPickupCompleted",
        "ColloDeliveryFailed",
        "EtaUpdated",
    ]
    pickup, failed, _ = body["timeline"]
    assert pickup["timeOfEvent"] == "2026-11-24T10:20:00+01:00"
    assert pickup["driver"] == {"name": "Ole"} and pickup["executor"] == {"id": "van-7"}
    assert pickup["deviation"] is None and pickup["colloBarcode"] is None
    assert failed["colloBarcode"] == collo.barcode
    assert failed["deviation"] == {
        "code": "NOT_HOME",
        "text": "Nobody home",
        "images": ["https://carrier.example/d.jpg"],
    }
    assert failed["source"] == "seed-004" and failed["applied"] is True
    assert body["lastPosition"] == {
        "latitude": 55.66,
        "longitude": 12.58,
        "at": "2026-11-24T13:30:00+01:00",
    }
    assert body["eta"] == {
        "from": "2026-11-24T15:00:00+01:00",
        "to": "2026-11-24T16:00:00+01:00",
        "source": "carrier",
    }
    assert body["pod"] is None
    assert body["trackingUrl"] == f"/t/{order.tracking_token}"

    carrier_client.post(
        f"/api/v1/carrier/orders/{order.id}/pod",
        {"signature": upload("s.png", image_bytes())},
        format="multipart",
    )
    order = move(order, "delivered")
    body = client_a.get(f"/api/v1/orders/{order.id}/tracking").json()
    assert body["pod"] == {
        "url": f"/api/v1/orders/{order.id}/pod",
        "pdfUrl": f"/api/v1/orders/{order.id}/pod.pdf",
    }
    assert body["eta"] is None  # delivered: nothing left to expect
    assert body["deliveredAt"] is not None


def test_without_an_eta_update_the_eta_is_the_promised_window(client_a, order):
    plan = order.plans.get(is_current=True)
    body = client_a.get(f"/api/v1/orders/{order.id}/tracking").json()
    assert body["timeline"] == [] and body["lastPosition"] is None
    assert body["eta"]["source"] == "promise"
    assert body["eta"]["from"] == iso_local(plan.promised_delivery_from, "Europe/Copenhagen")
    assert body["eta"]["to"] == iso_local(plan.promised_delivery_to, "Europe/Copenhagen")


def test_a_collos_tracking_by_barcode(client_a, client_b, carrier, order):
    first, second = order.collis.order_by("position")
    event(order, "OrderPickupCompleted", local(2026, 11, 24, 10, 0), carrier=carrier)
    event(order, "ColloDeliveryCompleted", local(2026, 11, 24, 13, 0), collo=first)
    event(order, "ColloDeliveryFailed", local(2026, 11, 24, 13, 5), collo=second)

    response = client_a.get(f"/api/v1/collis/{second.barcode}/tracking")

    assert response.status_code == 200
    body = response.json()
    assert body["barcode"] == second.barcode
    assert body["order"]["id"] == str(order.id)
    # Its order's facts and its own, not its sibling's.
    assert [e["type"] for e in body["timeline"]] == ["OrderPickupCompleted", "ColloDeliveryFailed"]
    assert client_b.get(f"/api/v1/collis/{second.barcode}/tracking").status_code == 404
    assert client_a.get("/api/v1/collis/NO-SUCH-BARCODE/tracking").status_code == 404


def test_another_shippers_order_has_no_tracking(client_b, order):
    assert client_b.get(f"/api/v1/orders/{order.id}/tracking").status_code == 404


def test_the_order_document_links_the_tracking_page(client_a, order, settings):
    body = client_a.get(f"/api/v1/orders/{order.id}").json()
    assert body["trackingUrl"] == f"/t/{order.tracking_token}"
    settings.TRACKING_PAGE_BASE_URL = "https://track.example.com"
    body = client_a.get(f"/api/v1/orders/{order.id}").json()
    assert body["trackingUrl"] == f"https://track.example.com/t/{order.tracking_token}"


def test_an_eta_given_before_a_failed_attempt_is_stale(client_a, carrier, order):
    window = {"eta_from": local(2026, 11, 24, 13, 0), "eta_to": local(2026, 11, 24, 14, 0)}
    event(order, "EtaUpdated", local(2026, 11, 24, 9, 0), carrier=carrier, **window)
    event(order, "OrderDeliveryFailed", local(2026, 11, 24, 13, 30), carrier=carrier)
    assert client_a.get(f"/api/v1/orders/{order.id}/tracking").json()["eta"] is None

    window = {"eta_from": local(2026, 11, 25, 9, 0), "eta_to": local(2026, 11, 25, 11, 0)}
    event(order, "EtaUpdated", local(2026, 11, 24, 16, 0), carrier=carrier, **window)
    eta = client_a.get(f"/api/v1/orders/{order.id}/tracking").json()["eta"]
    assert eta["from"] == "2026-11-25T09:00:00+01:00"
