"""End to end: the API queues, a real Celery worker fetches from a real POS server."""

import json

import pytest
from rest_framework.test import APIClient
from werkzeug import Response

from accounts.services import api_key_create
from orders.models import Order, OrderStatus, PosFetch, PosFetchStatus, PosIntegration
from tests.e2e.conftest import wait_for
from tests.factories import ShipperFactory, order_payload

pytestmark = pytest.mark.e2e


def test_it_fetches_pos_orders_through_a_real_worker_with_retries(
    celery_worker_process, httpserver
):
    shipper = ShipperFactory()
    PosIntegration.objects.create(
        shipper=shipper, live_mode=False, base_url=httpserver.url_for("/pos")
    )
    client = APIClient()
    client.credentials(
        HTTP_AUTHORIZATION=f"Bearer {api_key_create(shipper=shipper, mode='test').raw_key}"
    )
    existing = client.post(
        "/api/v1/orders", order_payload(creatorOrderId="E2E-GONE"), format="json"
    )
    assert existing.status_code == 201
    httpserver.expect_request("/pos/orders/E2E-GONE").respond_with_data("", status=404)
    calls = []

    def busy_once(request):
        calls.append(request.path)
        if len(calls) == 1:
            return Response("busy", status=500)
        return Response(
            json.dumps(order_payload(creatorOrderId="E2E-1")), content_type="application/json"
        )

    httpserver.expect_request("/pos/orders/E2E-1").respond_with_handler(busy_once)

    gone = client.post(
        "/api/v1/pos/events", {"eventType": "OrderUpdated", "entityId": "E2E-GONE"}, format="json"
    )
    fresh = client.post(
        "/api/v1/pos/events", {"eventType": "OrderUpdated", "entityId": "E2E-1"}, format="json"
    )
    assert gone.status_code == fresh.status_code == 202

    def done(fetch_id):
        return lambda: PosFetch.objects.filter(id=fetch_id, status=PosFetchStatus.DONE).first()

    wait_for(done(gone.json()["id"]))
    fetched = wait_for(done(fresh.json()["id"]), timeout=90)

    assert Order.objects.get(creator_order_id="E2E-GONE").status == OrderStatus.CANCELLED
    assert fetched.attempts == 2  # a 500, then the retry after back-off
    assert len(calls) == 2
    assert Order.objects.get(creator_order_id="E2E-1").collis.count() == 2
