"""End to end: a new order is planned by a real worker and the plan reaches the subscriber."""

import pytest
from rest_framework.test import APIClient
from standardwebhooks.webhooks import Webhook

from accounts.services import api_key_create
from carriers.models import Plan
from orders.models import Order
from tests.carriers.conftest import plannable_payload
from tests.e2e.conftest import broker_of_this_process, wait_for
from tests.factories import ServiceFactory, ShipperFactory
from webhooks import services

pytestmark = pytest.mark.e2e


@pytest.fixture
def tenant():
    shipper = ShipperFactory()
    client = APIClient()
    client.credentials(
        HTTP_AUTHORIZATION=f"Bearer {api_key_create(shipper=shipper, mode='test').raw_key}"
    )
    return shipper, client


def test_a_new_order_is_planned_and_the_plan_is_sent_signed(worker_factory, tenant, httpserver):
    shipper, client = tenant
    service = ServiceFactory()
    subscription = services.subscription_create(
        shipper=shipper,
        live_mode=False,
        url=httpserver.url_for("/hooks"),
        event_types=["OrderPlanned"],
    )
    httpserver.expect_request("/hooks").respond_with_data("ok")
    worker_factory()

    order = client.post("/api/v1/orders", plannable_payload(), format="json").json()

    wait_for(lambda: httpserver.log)
    request, _ = httpserver.log[0]
    envelope = Webhook(subscription.secret).verify(
        request.get_data(as_text=True), dict(request.headers)
    )
    assert envelope["type"] == "OrderPlanned"
    assert envelope["data"]["order"]["id"] == order["id"]
    assert envelope["data"]["plan"]["service"]["code"] == service.code
    assert Order.objects.get(id=order["id"]).status == "planned"


def test_an_order_queued_while_the_broker_was_down_is_planned_by_the_sweeper(
    worker_factory, tenant, private_redis
):
    _, client = tenant
    ServiceFactory()
    worker_factory(
        beat=True,
        broker_url=private_redis.url,
        PLANNING_SWEEP_INTERVAL_S="1",
    )
    with broker_of_this_process(private_redis.url):
        private_redis.stop()
        order = client.post("/api/v1/orders", plannable_payload(), format="json")
        assert order.status_code == 201  # queueing failed; the order waits with needs_planning
        assert not Plan.objects.exists()
        private_redis.start()

        plan = wait_for(
            lambda: Plan.objects.filter(order_id=order.json()["id"], is_current=True).first(),
            timeout=60,
        )
    assert plan.status == "planned"
