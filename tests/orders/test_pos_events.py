from datetime import timedelta

import pytest
from django.utils import timezone

from orders import pos
from orders.models import Order, OrderStatus, PosFetch, PosFetchStatus, PosIntegration
from tests.factories import order_payload

pytestmark = pytest.mark.django_db


@pytest.fixture
def integration_a(shipper_a, httpserver):
    return PosIntegration.objects.create(
        shipper=shipper_a,
        live_mode=False,
        base_url=httpserver.url_for("/pos"),
        auth_header_name="X-Pos-Token",
        auth_header_value="secret-a",
    )


def _submit(client, entity_id: str, event_type: str = "OrderUpdated"):
    return client.post(
        "/api/v1/pos/events", {"eventType": event_type, "entityId": entity_id}, format="json"
    )


def _run(fetch_id: str) -> PosFetch:
    pos.pos_fetch_run(fetch_id=fetch_id)
    return PosFetch.objects.get(id=fetch_id)


def test_it_fetches_the_order_from_the_pos_and_creates_it(client_a, integration_a, httpserver):
    body = order_payload(creatorOrderId="POS-1")
    httpserver.expect_request(
        "/pos/orders/POS-1", method="GET", headers={"X-Pos-Token": "secret-a"}
    ).respond_with_json(body)

    response = _submit(client_a, "POS-1")
    assert response.status_code == 202
    fetch = _run(response.json()["id"])

    assert fetch.status == PosFetchStatus.DONE
    assert fetch.outcome == "created"
    order = Order.objects.get(creator_order_id="POS-1")
    assert fetch.order == order
    assert order.live_mode is False
    assert order.collis.count() == 2
    assert order.history.get().actor == "pos:OrderUpdated:POS-1"


def test_it_updates_the_order_when_the_pos_has_changed_it(client_a, integration_a, httpserver):
    body = order_payload(creatorOrderId="POS-2")
    client_a.post("/api/v1/orders", body, format="json")
    httpserver.expect_request("/pos/orders/POS-2").respond_with_json({**body, "notes": "New note"})

    fetch = _run(_submit(client_a, "POS-2").json()["id"])

    assert fetch.outcome == "updated"
    assert Order.objects.get(creator_order_id="POS-2").notes == "New note"


def test_it_takes_the_entity_id_as_creator_order_id_when_the_pos_leaves_it_out(
    client_a, integration_a, httpserver
):
    body = order_payload()
    del body["creatorOrderId"]
    httpserver.expect_request("/pos/orders/POS-3").respond_with_json(body)

    _run(_submit(client_a, "POS-3").json()["id"])

    assert Order.objects.filter(creator_order_id="POS-3").exists()


def test_it_cancels_the_order_when_the_pos_answers_404(client_a, integration_a, httpserver):
    client_a.post("/api/v1/orders", order_payload(creatorOrderId="POS-4"), format="json")
    httpserver.expect_request("/pos/orders/POS-4").respond_with_data("gone", status=404)

    fetch = _run(_submit(client_a, "POS-4").json()["id"])

    assert fetch.status == PosFetchStatus.DONE
    order = Order.objects.get(creator_order_id="POS-4")
    assert order.status == OrderStatus.CANCELLED
    assert order.cancel_reason == "The order no longer exists in the POS."


def test_it_marks_a_picked_up_order_gone_instead_of_cancelling(client_a, integration_a, httpserver):
    client_a.post("/api/v1/orders", order_payload(creatorOrderId="POS-5"), format="json")
    Order.objects.filter(creator_order_id="POS-5").update(status=OrderStatus.PICKED_UP)
    httpserver.expect_request("/pos/orders/POS-5").respond_with_data("", status=404)

    fetch = _run(_submit(client_a, "POS-5").json()["id"])

    order = Order.objects.get(creator_order_id="POS-5")
    assert order.status == OrderStatus.PICKED_UP
    assert order.gone_from_pos_at is not None
    assert "marked gone" in fetch.outcome


def test_it_retries_a_failing_pos_with_backoff_then_succeeds(client_a, integration_a, httpserver):
    httpserver.expect_ordered_request("/pos/orders/POS-6").respond_with_data("boom", status=500)
    httpserver.expect_ordered_request("/pos/orders/POS-6").respond_with_json(
        order_payload(creatorOrderId="POS-6")
    )
    fetch_id = _submit(client_a, "POS-6").json()["id"]

    fetch = _run(fetch_id)
    assert fetch.status == PosFetchStatus.RETRYING
    assert fetch.attempts == 1
    assert fetch.last_status_code == 500
    assert "500" in fetch.last_error
    assert fetch.next_attempt_at > timezone.now() + timedelta(seconds=5)

    assert pos.pos_fetch_run(fetch_id=fetch_id) is None  # not due yet: nothing happens
    PosFetch.objects.filter(id=fetch_id).update(next_attempt_at=timezone.now())
    fetch = _run(fetch_id)

    assert fetch.status == PosFetchStatus.DONE
    assert fetch.attempts == 2
    assert Order.objects.filter(creator_order_id="POS-6").exists()


def test_it_gives_up_after_the_last_retry(client_a, integration_a, httpserver):
    httpserver.expect_request("/pos/orders/POS-7").respond_with_data("down", status=503)
    fetch_id = _submit(client_a, "POS-7").json()["id"]
    PosFetch.objects.filter(id=fetch_id).update(attempts=len(pos.POS_RETRY_SCHEDULE))

    fetch = _run(fetch_id)

    assert fetch.status == PosFetchStatus.FAILED
    assert fetch.outcome == "failed after retries"


def test_it_fails_without_retrying_when_the_pos_returns_an_invalid_order(
    client_a, integration_a, httpserver
):
    httpserver.expect_request("/pos/orders/POS-8").respond_with_json({"deliveryLocation": {}})

    fetch = _run(_submit(client_a, "POS-8").json()["id"])

    assert fetch.status == PosFetchStatus.FAILED
    assert "deliveryLocation.address" in fetch.last_error


def test_it_retries_when_the_pos_answers_200_with_a_body_that_is_not_json(
    client_a, integration_a, httpserver
):
    httpserver.expect_request("/pos/orders/POS-8b").respond_with_data("<html>Maintenance</html>")

    fetch = _run(_submit(client_a, "POS-8b").json()["id"])

    assert fetch.status == PosFetchStatus.RETRYING
    assert fetch.last_error.startswith(
        "The POS answered 200 with a body that is not JSON: Malformed JSON at line 1, column 1"
    )


def test_it_retries_when_the_pos_cannot_be_reached(client_a, shipper_a):
    PosIntegration.objects.create(shipper=shipper_a, live_mode=False, base_url="http://127.0.0.1:9")

    fetch = _run(_submit(client_a, "POS-9").json()["id"])

    assert fetch.status == PosFetchStatus.RETRYING
    assert "ConnectionError" in fetch.last_error


def test_it_refuses_private_pos_addresses_unless_allowed(client_a, integration_a, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False

    fetch = _run(_submit(client_a, "POS-10").json()["id"])

    assert fetch.status == PosFetchStatus.FAILED
    assert "non-public" in fetch.last_error


def test_it_lists_the_supported_types_for_an_unknown_one(client_a, integration_a):
    response = _submit(client_a, "X", event_type="ReservationUpdated")

    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["field"] == "eventType"
    assert "OrderUpdated" in error["message"]


def test_it_answers_409_when_no_pos_is_configured(client_a):
    response = _submit(client_a, "X")

    assert response.status_code == 409
    assert response.json()["type"] == "pos_not_configured"


def test_it_folds_repeated_events_into_the_waiting_fetch(client_a, integration_a):
    first = _submit(client_a, "POS-11").json()["id"]
    second = _submit(client_a, "POS-11").json()["id"]

    assert first == second
    assert PosFetch.objects.count() == 1


def test_it_uses_only_the_calling_shippers_pos_and_orders(
    client_a, client_b, shipper_b, integration_a, httpserver
):
    client_a.post("/api/v1/orders", order_payload(creatorOrderId="SHARED"), format="json")
    PosIntegration.objects.create(
        shipper=shipper_b, live_mode=False, base_url=httpserver.url_for("/pos-b")
    )
    httpserver.expect_request("/pos-b/orders/SHARED").respond_with_data("", status=404)

    fetch = _run(_submit(client_b, "SHARED").json()["id"])

    assert fetch.outcome == "unknown to the POS and to Waybill: nothing to do"
    assert Order.objects.get(creator_order_id="SHARED").status == OrderStatus.CREATED


def test_the_sweeper_requeues_due_and_abandoned_fetches(client_a, integration_a):
    due = _submit(client_a, "POS-12").json()["id"]
    PosFetch.objects.create(
        shipper=integration_a.shipper,
        live_mode=False,
        event_type="OrderUpdated",
        entity_id="LATER",
        status=PosFetchStatus.RETRYING,
        next_attempt_at=timezone.now() + timedelta(hours=1),
    )
    abandoned = PosFetch.objects.create(
        shipper=integration_a.shipper,
        live_mode=False,
        event_type="OrderUpdated",
        entity_id="STUCK",
        status=PosFetchStatus.RUNNING,
        next_attempt_at=timezone.now(),
    )
    PosFetch.objects.filter(id=abandoned.id).update(updated_at=timezone.now() - timedelta(hours=1))
    # Queued an hour ago and never taken: its message is lost.
    PosFetch.objects.filter(id=due).update(queued_at=timezone.now() - timedelta(hours=1))

    assert pos.pos_fetch_sweep() == 2
    assert {str(f.id) for f in PosFetch.objects.filter(entity_id__in=["POS-12", "STUCK"])} == {
        due,
        str(abandoned.id),
    }
