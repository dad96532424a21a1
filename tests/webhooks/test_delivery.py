import json
from datetime import timedelta

import pytest
from django.core import mail
from django.db import DatabaseError
from django.utils import timezone
from standardwebhooks.webhooks import Webhook
from werkzeug import Response

from orders.api.serializers import order_spec_from
from orders.models import Order
from orders.services import order_create
from tests.factories import order_payload
from webhooks import sending, services
from webhooks.models import Delivery, DeliveryStatus, Event, Subscription

pytestmark = pytest.mark.django_db


@pytest.fixture
def subscription_a(shipper_a, httpserver) -> Subscription:
    return services.subscription_create(
        shipper=shipper_a,
        live_mode=False,
        url=httpserver.url_for("/hooks?token=s3cret"),
        event_types=["*"],
    )


def _create_order(client, **overrides) -> dict:
    response = client.post("/api/v1/orders", order_payload(**overrides), format="json")
    assert response.status_code == 201
    return response.json()


def _send_all() -> int:
    ids = [str(i) for i in Delivery.objects.values_list("id", flat=True)]
    return sending.deliveries_send(delivery_ids=ids)


def _due_now() -> None:
    Delivery.objects.update(next_attempt_at=timezone.now())


def test_it_fans_an_event_out_to_each_wanting_subscription_in_the_same_transaction(
    client_a, shipper_a, subscription_a, httpserver
):
    services.subscription_create(
        shipper=shipper_a,
        live_mode=False,
        url=httpserver.url_for("/other"),
        event_types=["OrderCancelled"],
    )
    services.subscription_create(
        shipper=shipper_a, live_mode=True, url=httpserver.url_for("/live"), event_types=["*"]
    )

    order = _create_order(client_a)

    deliveries = list(Delivery.objects.all())
    assert len(deliveries) == 1
    assert deliveries[0].subscription == subscription_a
    assert deliveries[0].event.type == "OrderCreated"
    assert deliveries[0].event.entity_id == order["id"]
    assert deliveries[0].status == DeliveryStatus.PENDING


def test_it_writes_no_order_or_event_when_a_delivery_cannot_be_written(
    shipper_a, subscription_a, failing_inserts
):
    failing_inserts(Delivery)

    with pytest.raises(DatabaseError):
        order_create(
            shipper=shipper_a,
            live_mode=False,
            spec=order_spec_from(order_payload(creatorOrderId="TXN-2")),
            actor="test",
        )

    assert not Order.objects.exists()
    assert not Event.objects.exists()
    assert not Delivery.objects.exists()


def test_it_delivers_a_signed_envelope_that_standard_webhooks_verifies(
    client_a, subscription_a, httpserver
):
    httpserver.expect_request("/hooks", query_string="token=s3cret").respond_with_data("ok")
    order = _create_order(client_a)

    assert _send_all() == 1

    request, _ = httpserver.log[0]
    body = request.get_data(as_text=True)
    verified = Webhook(subscription_a.secret).verify(body, dict(request.headers))
    event = Event.objects.get(type="OrderCreated")
    assert request.headers["webhook-id"] == str(event.id)
    assert verified["id"] == str(event.id)
    assert set(verified) == {"id", "type", "version", "liveMode", "dateTime", "data"}
    assert verified["data"]["order"]["id"] == order["id"]
    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.DELIVERED
    assert delivery.attempts == 1
    attempt = delivery.attempt_log.get()
    assert attempt.status_code == 200
    assert attempt.response_body == "ok"


def test_it_retries_on_the_schedule_and_keeps_the_webhook_id(
    client_a, subscription_a, httpserver, settings
):
    settings.WEBHOOK_RETRY_SCHEDULE_S = [0, 5, 300]
    answers = iter([500, 503, 200])
    httpserver.expect_request("/hooks").respond_with_handler(
        lambda request: Response("x" * 3000, status=next(answers))
    )
    _create_order(client_a)

    _send_all()
    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.RETRYING
    assert timedelta(seconds=4) < delivery.next_attempt_at - timezone.now() < timedelta(seconds=6)
    assert _send_all() == 0  # not due yet
    _due_now()
    _send_all()
    _due_now()
    _send_all()

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED
    attempts = list(delivery.attempt_log.all())
    assert [a.status_code for a in attempts] == [500, 503, 200]
    assert len(attempts[0].response_body) == 1024
    ids = {request.headers["webhook-id"] for request, _ in httpserver.log}
    assert ids == {str(delivery.event_id)}


def test_it_gives_up_after_the_last_attempt(client_a, subscription_a, httpserver, settings):
    settings.WEBHOOK_RETRY_SCHEDULE_S = [0, 1]
    httpserver.expect_request("/hooks").respond_with_data("down", status=500)
    _create_order(client_a)

    for _ in range(3):
        _due_now()
        _send_all()

    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.DEAD
    assert delivery.attempts == 2
    assert delivery.last_error.startswith("HTTP 500")


def test_it_logs_connection_errors_and_timeouts(client_a, shipper_a, settings):
    services.subscription_create(
        shipper=shipper_a, live_mode=False, url="http://127.0.0.1:9/nothing", event_types=["*"]
    )
    _create_order(client_a)

    _send_all()

    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.RETRYING
    assert "Connect" in delivery.attempt_log.get().error


def test_a_410_disables_the_subscription_and_tells_the_shipper(
    client_a, subscription_a, httpserver
):
    httpserver.expect_request("/hooks").respond_with_data("gone", status=410)
    _create_order(client_a)
    _create_order(client_a)
    first = Delivery.objects.order_by("created_at").first()

    sending.deliveries_send(delivery_ids=[str(first.id)])

    subscription_a.refresh_from_db()
    assert subscription_a.active is False
    assert "410" in subscription_a.disabled_reason
    assert Delivery.objects.get(id=first.id).status == DeliveryStatus.DEAD
    assert Delivery.objects.exclude(id=first.id).get().status == DeliveryStatus.CANCELLED
    assert mail.outbox[0].to == [subscription_a.shipper.contact_email]
    assert "disabled" in mail.outbox[0].subject


def test_it_disables_a_subscription_failing_for_five_days(client_a, subscription_a, httpserver):
    httpserver.expect_request("/hooks").respond_with_data("", status=500)
    _create_order(client_a)
    Subscription.objects.update(failing_since=timezone.now() - timedelta(days=5, minutes=1))

    _send_all()

    subscription_a.refresh_from_db()
    assert subscription_a.active is False
    assert "5 days" in subscription_a.disabled_reason
    assert len(mail.outbox) == 1


def test_a_success_clears_the_failure_streak(client_a, subscription_a, httpserver):
    httpserver.expect_request("/hooks").respond_with_data("ok")
    Subscription.objects.update(failing_since=timezone.now() - timedelta(days=1))
    _create_order(client_a)

    _send_all()

    subscription_a.refresh_from_db()
    assert subscription_a.failing_since is None


def test_it_signs_with_both_secrets_while_a_rotation_overlaps(client_a, subscription_a, httpserver):
    httpserver.expect_request("/hooks").respond_with_data("ok")
    old_secret = subscription_a.secret
    rotated = services.subscription_rotate_secret(subscription=subscription_a)
    _create_order(client_a)

    _send_all()

    request, _ = httpserver.log[0]
    body, headers = request.get_data(as_text=True), dict(request.headers)
    assert len(headers["Webhook-Signature"].split(" ")) == 2
    Webhook(old_secret).verify(body, headers)
    Webhook(rotated.secret).verify(body, headers)


def test_it_sends_the_version_a_subscription_pins(client_a, shipper_a, httpserver):
    from webhooks.catalogue import CATALOGUE, EventVersion

    order_created = CATALOGUE["OrderCreated"]
    older = EventVersion(
        order_created.versions["1.0"].data_model,
        lambda **kwargs: {"legacy": True, "orderId": str(kwargs["order"].id)},
    )
    order_created.versions["0.9"] = older
    try:
        services.subscription_create(
            shipper=shipper_a,
            live_mode=False,
            url=httpserver.url_for("/pinned"),
            event_types=["OrderCreated"],
            versions={"OrderCreated": "0.9"},
        )
        httpserver.expect_request("/pinned").respond_with_data("ok")
        order = _create_order(client_a)
        _send_all()
    finally:
        del order_created.versions["0.9"]

    envelope = json.loads(httpserver.log[0][0].get_data())
    assert envelope["version"] == "0.9"
    assert envelope["data"] == {"legacy": True, "orderId": order["id"]}


def test_it_refuses_to_send_to_a_private_address_at_send_time(client_a, subscription_a, settings):
    _create_order(client_a)
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False

    assert _send_all() == 0

    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.RETRYING
    assert "non-public" in delivery.last_error


def test_it_does_not_send_oversized_payloads(client_a, subscription_a, settings):
    settings.WEBHOOK_MAX_PAYLOAD_BYTES = 100
    _create_order(client_a)

    _send_all()

    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.DEAD
    assert "payload over" in delivery.last_error


def test_it_does_not_follow_redirects(client_a, subscription_a, httpserver):
    httpserver.expect_request("/hooks").respond_with_data(
        "", status=302, headers={"Location": "http://169.254.169.254/latest"}
    )
    _create_order(client_a)

    _send_all()

    delivery = Delivery.objects.get()
    assert delivery.last_status_code == 302
    assert delivery.status == DeliveryStatus.RETRYING
    assert len(httpserver.log) == 1


def test_a_claimed_delivery_is_sent_once(client_a, subscription_a, httpserver):
    httpserver.expect_request("/hooks").respond_with_data("ok")
    _create_order(client_a)
    ids = [str(i) for i in Delivery.objects.values_list("id", flat=True)]

    claimed = sending.deliveries_claim(delivery_ids=ids)
    assert sending.deliveries_claim(delivery_ids=ids) == []
    assert len(claimed) == 1
    assert _send_all() == 0
    Delivery.objects.update(claimed_until=timezone.now() - timedelta(seconds=1))
    assert _send_all() == 1  # the lease ran out: another worker takes it over


def test_the_sweeper_queues_overdue_and_abandoned_deliveries(client_a, subscription_a):
    _create_order(client_a)
    _create_order(client_a)
    _create_order(client_a)
    first, second, third = Delivery.objects.order_by("created_at")
    Delivery.objects.filter(id=first.id).update(
        next_attempt_at=timezone.now() - timedelta(minutes=10),
        queued_at=timezone.now() - timedelta(minutes=10),  # its message is lost
    )
    Delivery.objects.filter(id=second.id).update(
        status=DeliveryStatus.SENDING, claimed_until=timezone.now() - timedelta(seconds=1)
    )

    assert sending.deliveries_sweep() == 2  # the third is fresh: its own task will send it


def test_it_replays_a_delivery_as_a_new_one_with_the_same_webhook_id(
    client_a, subscription_a, httpserver
):
    httpserver.expect_request("/hooks").respond_with_data("ok")
    _create_order(client_a)
    _send_all()
    original = Delivery.objects.get()

    replay = services.delivery_replay(delivery=original)
    sending.deliveries_send(delivery_ids=[str(replay.id)])

    replay.refresh_from_db()
    assert replay.replay_of == original
    assert replay.status == DeliveryStatus.DELIVERED
    assert [r.headers["webhook-id"] for r, _ in httpserver.log] == [str(original.event_id)] * 2
