"""End to end: an order event posted over the API triggers a staff workflow; a real Celery
worker, on Redis, runs its actions (a tag, a post to a real receiver) and audits them."""

import json

import pytest

from orders.models import Order
from tests.e2e.conftest import broker_of_this_process, wait_for
from tests.factories import order_payload
from tests.workflows.conftest import order_event_post, workflow_make
from webhooks.models import Event
from workflows.engine import triggers_forget
from workflows.models import WorkflowRun

pytestmark = pytest.mark.e2e


def test_a_worker_runs_the_workflow_an_order_event_triggers(
    worker_factory, private_redis, client_a, httpserver
):
    httpserver.expect_request("/erp").respond_with_data("ok")
    triggers_forget()
    workflow_make(
        name="Delivered to the ERP",
        trigger=("order_event", "delivered"),
        actions=[
            ("add_tag", {"tag": "delivered-seen"}),
            ("post_url", {"url": httpserver.url_for("/erp")}),
        ],
    )
    worker_factory(broker_url=private_redis.url)

    with broker_of_this_process(private_redis.url):
        payload = {**order_payload(), "tags": []}
        created = client_a.post("/api/v1/orders", payload, format="json").json()
        order = Order.objects.get(id=created["id"])
        order_event_post(client_a, order)

        run = wait_for(lambda: WorkflowRun.objects.filter(status="done").first(), timeout=60)

    order.refresh_from_db()
    assert "delivered-seen" in order.tags
    [(request, _)] = httpserver.log
    assert json.loads(request.data)["creatorOrderId"] == order.creator_order_id
    audits = Event.objects.filter(category="ORCHESTRATION_AUDIT", data__run=str(run.id))
    assert audits.count() == 3  # two actions and the run
