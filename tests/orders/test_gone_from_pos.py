"""Seed 001's "gone" case: a picked-up order the POS answers 404 for is kept, marked gone,
shown so in its document, and told to subscribers with an OrderGoneFromPos event."""

from datetime import datetime

import pytest

from orders.events import OrderGoneFromPosV1
from orders.models import Order, OrderStatus
from tests.factories import order_payload
from tests.orders.test_pos_events import _run, _submit, integration_a  # noqa: F401
from webhooks.catalogue import CATALOGUE
from webhooks.models import Event

pytestmark = pytest.mark.django_db


def test_a_picked_up_order_gone_from_the_pos_shows_it_and_emits_an_event(
    client_a,
    integration_a,  # noqa: F811
    httpserver,
):
    created = client_a.post("/api/v1/orders", order_payload(creatorOrderId="POS-G"), format="json")
    order_id = created.json()["id"]
    assert created.json()["goneFromPosAt"] is None
    Order.objects.filter(id=order_id).update(status=OrderStatus.PICKED_UP)
    httpserver.expect_request("/pos/orders/POS-G").respond_with_data("", status=404)

    _run(_submit(client_a, "POS-G").json()["id"])
    _run(_submit(client_a, "POS-G").json()["id"])  # a second 404 tells nobody again

    document = client_a.get(f"/api/v1/orders/{order_id}").json()
    order = Order.objects.get(id=order_id)
    assert datetime.fromisoformat(document["goneFromPosAt"]) == order.gone_from_pos_at
    assert document["status"] == OrderStatus.PICKED_UP
    event = Event.objects.get(type="OrderGoneFromPos", entity_id=order_id)
    data = OrderGoneFromPosV1.model_validate(event.data)
    assert data.goneFromPosAt == document["goneFromPosAt"]
    assert data.order.creatorOrderId == "POS-G" and data.status == "picked_up"
    assert CATALOGUE["OrderGoneFromPos"].source == "Waybill"


def test_an_order_still_in_the_pos_shows_no_gone_time(client_a):
    order = client_a.post("/api/v1/orders", order_payload(), format="json").json()

    assert client_a.get(f"/api/v1/orders/{order['id']}").json()["goneFromPosAt"] is None
    assert not Event.objects.filter(type="OrderGoneFromPos").exists()
