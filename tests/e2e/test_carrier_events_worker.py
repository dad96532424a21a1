"""End to end: a carrier posts the seed 004 payloads as its platform sends them, and a real
worker delivers the shipper's OrderDeliveryCompleted, signed, to a real receiver."""

import json
from pathlib import Path

import pytest
from rest_framework.test import APIClient
from standardwebhooks.webhooks import Webhook

from accounts.services import api_key_create
from orders.models import Order, OrderStatus
from tests.carriers.conftest import plannable_payload
from tests.e2e.conftest import wait_for
from tests.factories import ServiceFactory, ShipperFactory
from webhooks import services

pytestmark = pytest.mark.e2e

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "seed-events"


def _client(**tenant) -> APIClient:
    client = APIClient()
    key = api_key_create(mode="test", **tenant).raw_key
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


def _seed(name: str, order: dict, time_of_event: str, event_id: str) -> dict:
    envelope = json.loads((FIXTURES / name).read_text())
    envelope["id"] = event_id
    envelope["data"]["order"].update({"id": order["id"], "creatorOrderId": order["creatorOrderId"]})
    envelope["data"]["timeOfEvent"] = time_of_event
    return envelope


def test_a_delivery_the_carrier_reports_reaches_the_shipper_signed(worker_factory, httpserver):
    shipper = ShipperFactory()
    service = ServiceFactory()
    shipper_api, carrier_api = _client(shipper=shipper), _client(carrier=service.carrier)
    subscription = services.subscription_create(
        shipper=shipper,
        live_mode=False,
        url=httpserver.url_for("/hooks"),
        event_types=["OrderDeliveryCompleted"],
    )
    httpserver.expect_request("/hooks").respond_with_data("ok")
    worker_factory()

    order = shipper_api.post("/api/v1/orders", plannable_payload(), format="json").json()
    wait_for(lambda: Order.objects.get(id=order["id"]).status == OrderStatus.PLANNED)

    for name, at, event_id in [
        ("OrderPickupCompleted.v2.0.json", "2030-06-03T09:00:00+02:00", "e2e-pickup-1"),
        ("OrderDeliveryCompleted.v1.0.json", "2030-06-03T14:30:00+02:00", "e2e-delivery-1"),
    ]:
        response = carrier_api.post(
            "/api/v1/carrier/events", _seed(name, order, at, event_id), format="json"
        )
        assert response.status_code in (200, 201, 202), response.json()

    wait_for(lambda: httpserver.log)
    request, _ = httpserver.log[0]
    envelope = Webhook(subscription.secret).verify(
        request.get_data(as_text=True), dict(request.headers)
    )
    assert envelope["type"] == "OrderDeliveryCompleted"
    assert envelope["data"]["order"]["id"] == order["id"]
    delivered = Order.objects.get(id=order["id"])
    assert delivered.status == OrderStatus.DELIVERED and delivered.delivered_at is not None
