"""End to end: orders written through the API reach a real receiver through a real worker."""

import json
import threading
import time

import pytest
from pytest_httpserver import HTTPServer
from rest_framework.test import APIClient
from standardwebhooks.webhooks import Webhook
from werkzeug import Response

from accounts.services import api_key_create
from tests.e2e.conftest import broker_of_this_process, free_port, wait_for
from tests.factories import ShipperFactory, order_payload
from webhooks import services
from webhooks.models import Delivery, DeliveryStatus, Event

pytestmark = pytest.mark.e2e

FAST_RETRIES = {"WEBHOOK_RETRY_SCHEDULE_S": "0,1,1,1,1,1,1,1", "WEBHOOK_RETRY_JITTER": "0"}
# A dead worker's claim runs out quickly and the sweeper looks every second.
QUICK_RECOVERY = {
    "WEBHOOK_CLAIM_LEASE_S": "4",
    "WEBHOOK_SWEEP_INTERVAL_S": "1",
    # Messages lost with a restarted Redis count as lost after this.
    "WEBHOOK_QUEUE_LEASE_S": "3",
}


# What the shipper's POS writes, not what planning adds after it.
ORDER_EVENTS = ["OrderCreated", "OrderUpdated", "OrderCancelled"]


@pytest.fixture
def tenant():
    shipper = ShipperFactory()
    client = APIClient()
    client.credentials(
        HTTP_AUTHORIZATION=f"Bearer {api_key_create(shipper=shipper, mode='test').raw_key}"
    )
    return shipper, client


def _subscribe(shipper, url):
    return services.subscription_create(
        shipper=shipper, live_mode=False, url=url, event_types=ORDER_EVENTS
    )


def _post_orders(client, count: int) -> None:
    response = client.post(
        "/api/v1/orders/bulk", {"orders": [order_payload() for _ in range(count)]}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["created"] == count


def _received_ids(httpserver) -> set[str]:
    # Delivery is at least once: a legal duplicate must never fail a comparison.
    return {json.loads(request.get_data())["id"] for request, _ in list(httpserver.log)}


def _delivered(count: int):
    return lambda: Delivery.objects.filter(status=DeliveryStatus.DELIVERED).count() >= count


def test_it_delivers_a_new_orders_event_signed(worker_factory, tenant, httpserver):
    shipper, client = tenant
    subscription = _subscribe(shipper, httpserver.url_for("/hooks?token=t0k"))
    httpserver.expect_request("/hooks", query_string="token=t0k").respond_with_data("ok")
    worker_factory()

    order = client.post("/api/v1/orders", order_payload(), format="json").json()

    wait_for(lambda: httpserver.log)
    request, _ = httpserver.log[0]
    envelope = Webhook(subscription.secret).verify(
        request.get_data(as_text=True), dict(request.headers)
    )
    assert envelope["type"] == "OrderCreated"
    assert envelope["data"]["order"]["id"] == order["id"]
    assert request.headers["webhook-id"] == str(Event.objects.get(type="OrderCreated").id)
    wait_for(_delivered(1))


def test_it_retries_a_failing_receiver_until_it_answers(worker_factory, tenant, httpserver):
    shipper, client = tenant
    _subscribe(shipper, httpserver.url_for("/hooks"))
    answers = iter([500, 500, 500, 200])
    httpserver.expect_request("/hooks").respond_with_handler(
        lambda request: Response("", status=next(answers))
    )
    worker_factory(**FAST_RETRIES)

    client.post("/api/v1/orders", order_payload(), format="json")

    delivery = wait_for(
        lambda: Delivery.objects.filter(status=DeliveryStatus.DELIVERED).first(), timeout=60
    )
    assert delivery.attempts == 4
    assert [a.status_code for a in delivery.attempt_log.all()] == [500, 500, 500, 200]


def test_it_delivers_once_a_receiver_that_was_down_is_back(worker_factory, tenant):
    shipper, client = tenant
    port = free_port()
    _subscribe(shipper, f"http://127.0.0.1:{port}/hooks")
    worker_factory(**FAST_RETRIES)

    client.post("/api/v1/orders", order_payload(), format="json")
    wait_for(lambda: Delivery.objects.filter(attempts__gte=2).exists())
    receiver = HTTPServer(host="127.0.0.1", port=port)
    receiver.expect_request("/hooks").respond_with_data("back")
    receiver.start()
    try:
        delivery = wait_for(
            lambda: Delivery.objects.filter(status=DeliveryStatus.DELIVERED).first(), timeout=60
        )
    finally:
        receiver.clear()
        receiver.stop()
    errors = [a.error for a in delivery.attempt_log.all()][:-1]
    assert errors and all("Connect" in e for e in errors)


def test_no_event_is_lost_when_the_worker_is_killed_mid_run(worker_factory, tenant, httpserver):
    shipper, client = tenant
    _subscribe(shipper, httpserver.url_for("/hooks"))
    received: list[str] = []
    lock = threading.Lock()

    def slow_receiver(request):
        time.sleep(0.05)
        with lock:
            received.append(request.headers["webhook-id"])
        return Response("ok")

    httpserver.expect_request("/hooks").respond_with_handler(slow_receiver)
    first = worker_factory(**QUICK_RECOVERY)

    _post_orders(client, 200)
    wait_for(lambda: len(received) >= 10, interval=0.05)
    first.kill()  # SIGKILL, in the middle of a batch
    assert len(set(received)) < 200
    worker_factory(beat=True, **QUICK_RECOVERY)

    event_ids = {str(i) for i in Event.objects.values_list("id", flat=True)}
    wait_for(lambda: event_ids <= set(received), timeout=120)
    assert len(event_ids) == 200
    wait_for(_delivered(200))


def test_events_written_while_redis_is_down_are_delivered_by_the_sweeper(
    worker_factory, tenant, httpserver, private_redis
):
    shipper, client = tenant
    _subscribe(shipper, httpserver.url_for("/hooks"))
    httpserver.expect_request("/hooks").respond_with_data("ok")
    worker_factory(beat=True, broker_url=private_redis.url, **QUICK_RECOVERY)

    with broker_of_this_process(private_redis.url):
        _post_orders(client, 5)
        # The batch in flight settles before Redis goes away.
        wait_for(_delivered(5))
        private_redis.stop()
        _post_orders(client, 5)  # queueing fails; the rows wait in the outbox
        assert Delivery.objects.filter(status=DeliveryStatus.PENDING).count() == 5
        private_redis.start()

        sent = {
            str(i) for i in Event.objects.filter(type__in=ORDER_EVENTS).values_list("id", flat=True)
        }
        wait_for(lambda: sent <= _received_ids(httpserver), timeout=120)
    assert _received_ids(httpserver) == sent


def test_the_same_worker_delivers_on_after_redis_restarts_mid_batch(
    worker_factory, tenant, httpserver, private_redis
):
    shipper, client = tenant
    _subscribe(shipper, httpserver.url_for("/hooks"))

    def slow_receiver(request):
        time.sleep(0.05)
        return Response("ok")

    httpserver.expect_request("/hooks").respond_with_handler(slow_receiver)
    worker = worker_factory(beat=True, broker_url=private_redis.url, **QUICK_RECOVERY)
    pid = worker.process.pid

    with broker_of_this_process(private_redis.url):
        _post_orders(client, 300)
        wait_for(lambda: len(httpserver.log) >= 20, interval=0.05)
        private_redis.stop()  # with batches claimed, in flight and still queued
        private_redis.start()

        sent = {
            str(i) for i in Event.objects.filter(type__in=ORDER_EVENTS).values_list("id", flat=True)
        }
        wait_for(lambda: sent <= _received_ids(httpserver), timeout=180)
        wait_for(_delivered(300), timeout=60)
    assert worker.process.pid == pid and worker.process.poll() is None
    assert "Unrecoverable error" not in worker.log()
