"""End to end: an async event posted to /event/async is run by a real Celery worker, and
its audit is read back through the Event API."""

import pytest
from rest_framework.test import APIClient

from accounts.services import api_key_create
from orders.models import Order, OrderStatus
from tests.e2e.conftest import wait_for
from tests.factories import ShipperFactory, order_payload
from webhooks.models import Event, EventCategory

pytestmark = pytest.mark.e2e


def test_a_worker_runs_a_cancel_request_and_audits_it(celery_worker_process):
    shipper = ShipperFactory()
    client = APIClient()
    client.credentials(
        HTTP_AUTHORIZATION=f"Bearer {api_key_create(shipper=shipper, mode='test').raw_key}"
    )
    order = client.post("/api/v1/orders", order_payload(), format="json").json()

    accepted = client.post(
        "/api/v1/event/async",
        {
            "name": "OrderCancelRequested",
            "rootEntityType": "ORDER",
            "rootEntityRef": order["creatorOrderId"],
            "attributes": {"reason": "Out of stock"},
        },
        format="json",
    )
    assert accepted.status_code == 202, accepted.json()

    def audited():
        return Event.objects.filter(
            category=EventCategory.ORCHESTRATION_AUDIT, correlation_id=accepted.json()["id"]
        ).first()

    audit = wait_for(audited)

    assert audit.data["outcome"] == "done", audit.data
    assert Order.objects.get(id=order["id"]).status == OrderStatus.CANCELLED
    listed = client.get(
        "/api/v1/event?category=ORCHESTRATION_AUDIT&name=OrderCancelRequested"
        f"&rootEntityRef={order['creatorOrderId']}"
    )
    assert [e["id"] for e in listed.json()["results"]] == [str(audit.id)]
