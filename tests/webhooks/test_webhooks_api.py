from datetime import timedelta

import pytest
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from tests.factories import order_payload
from webhooks import sending
from webhooks.catalogue import CATALOGUE
from webhooks.models import Delivery, DeliveryStatus, Event

pytestmark = pytest.mark.django_db


def _subscribe(client, url, **extra):
    return client.post(
        "/api/v1/webhooks/subscriptions", {"url": url, "eventTypes": ["*"], **extra}, format="json"
    )


@pytest.fixture
def subscription(client_a, httpserver) -> dict:
    response = _subscribe(
        client_a, httpserver.url_for("/hooks?token=abc"), description="ERP", versions={}
    )
    assert response.status_code == 201, response.json()
    return response.json()


# --- event types --------------------------------------------------------------------------


def test_it_publishes_every_event_type_with_a_schema_per_version(client_a):
    response = client_a.get("/api/v1/webhooks/event-types")

    assert response.status_code == 200
    types = {t["type"]: t for t in response.json()["eventTypes"]}
    assert set(types) == set(CATALOGUE)
    assert len(types) == 30  # seed 004, seed 000 and Waybill's own
    sms = types["NotificationOrderSmsSent"]
    assert [v["version"] for v in sms["versions"]] == ["1.0", "2.0"]
    schema = types["OrderAddedToRoute"]["versions"][0]["schema"]
    assert schema["properties"]["type"] == {"const": "OrderAddedToRoute"}
    assert "route" in schema["properties"]["data"]["properties"]
    assert types["OrderCreated"]["versions"][0]["available"] is True


# --- subscriptions ------------------------------------------------------------------------


def test_it_creates_a_subscription_and_shows_its_secret_once(client_a, subscription):
    assert subscription["secret"].startswith("whsec_")
    assert subscription["url"].endswith("/hooks?token=abc")  # the query token is kept as given
    assert subscription["liveMode"] is False
    assert subscription["active"] is True

    read = client_a.get(f"/api/v1/webhooks/subscriptions/{subscription['id']}").json()
    assert "secret" not in read
    assert (
        client_a.get("/api/v1/webhooks/subscriptions").json()["results"][0]["id"]
        == subscription["id"]
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"eventTypes": ["Nope"]}, "eventTypes[0]"),
        ({"eventTypes": []}, "eventTypes"),
        ({"eventTypes": "OrderCreated"}, "eventTypes"),
        ({"versions": {"OrderCreated": "9.0"}}, "versions.OrderCreated"),
        ({"versions": {"Nope": "1.0"}}, "versions.Nope"),
        ({"url": "not a url"}, "url"),
        ({"url": "ftp://example.com/x"}, "url"),
        ({"secret": "mine"}, "secret"),
    ],
)
def test_it_answers_bad_subscriptions_with_a_400_naming_the_field(
    client_a, httpserver, body, field
):
    payload = {"url": httpserver.url_for("/hooks"), "eventTypes": ["*"], **body}

    response = client_a.post("/api/v1/webhooks/subscriptions", payload, format="json")

    assert response.status_code == 400, response.json()
    assert field in [e["field"] for e in response.json()["errors"]]


def test_it_refuses_private_and_plain_http_urls_unless_allowed(client_a, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False

    for url, code in [
        ("http://example.com/hooks", "https_required"),
        ("https://127.0.0.1/hooks", "unsafe_target"),
        ("https://10.0.0.8/hooks", "unsafe_target"),
        ("https://169.254.169.254/latest/meta-data", "unsafe_target"),
        ("https://[::1]/hooks", "unsafe_target"),
    ]:
        response = _subscribe(client_a, url)
        assert response.status_code == 400, url
        assert response.json()["errors"][0]["code"] == code, url


def test_it_updates_and_deletes_a_subscription(client_a, subscription):
    url = f"/api/v1/webhooks/subscriptions/{subscription['id']}"

    updated = client_a.patch(
        url, {"eventTypes": ["OrderCancelled"], "active": False}, format="json"
    )
    assert updated.status_code == 200
    assert updated.json()["eventTypes"] == ["OrderCancelled"]
    assert updated.json()["active"] is False

    assert client_a.delete(url).status_code == 204
    assert client_a.get(url).status_code == 404


def test_it_rotates_the_secret(client_a, subscription):
    response = client_a.post(f"/api/v1/webhooks/subscriptions/{subscription['id']}/rotate-secret")

    assert response.status_code == 200
    assert response.json()["secret"] != subscription["secret"]


def test_it_sends_a_signed_test_event_and_returns_the_answer(client_a, subscription, httpserver):
    httpserver.expect_request("/hooks").respond_with_data("thanks", status=202)

    response = client_a.post(f"/api/v1/webhooks/subscriptions/{subscription['id']}/test")

    assert response.status_code == 200
    assert response.json()["statusCode"] == 202
    assert response.json()["responseBody"] == "thanks"
    assert response.json()["succeeded"] is True
    request, _ = httpserver.log[0]
    payload = Webhook(subscription["secret"]).verify(
        request.get_data(as_text=True), dict(request.headers)
    )
    assert payload["type"] == "WebhookTest"


def test_it_keeps_subscriptions_apart_per_tenant_and_mode(
    client_a, client_b, client_a_live, subscription
):
    url = f"/api/v1/webhooks/subscriptions/{subscription['id']}"

    for other in (client_b, client_a_live):
        assert other.get(url).status_code == 404
        assert other.patch(url, {"active": False}, format="json").status_code == 404
        assert other.delete(url).status_code == 404
        assert other.post(f"{url}/test").status_code == 404
        assert other.post(f"{url}/rotate-secret").status_code == 404
        assert other.get("/api/v1/webhooks/subscriptions").json()["results"] == []


# --- deliveries ---------------------------------------------------------------------------


def _failed_delivery(client_a, httpserver) -> Delivery:
    httpserver.expect_request("/hooks").respond_with_data("no", status=500)
    client_a.post("/api/v1/orders", order_payload(), format="json")
    delivery = Delivery.objects.get()
    sending.deliveries_send(delivery_ids=[str(delivery.id)])
    delivery.refresh_from_db()
    return delivery


def test_it_lists_and_filters_deliveries_with_their_attempts(client_a, subscription, httpserver):
    delivery = _failed_delivery(client_a, httpserver)

    listed = client_a.get(
        f"/api/v1/webhooks/deliveries?subscription={subscription['id']}&status=retrying&type=OrderCreated"
    )
    empty = client_a.get("/api/v1/webhooks/deliveries?status=delivered")
    detail = client_a.get(f"/api/v1/webhooks/deliveries/{delivery.id}")

    assert [d["id"] for d in listed.json()["results"]] == [str(delivery.id)]
    assert empty.json()["results"] == []
    assert detail.json()["attemptLog"][0]["statusCode"] == 500
    assert detail.json()["eventType"] == "OrderCreated"


def test_it_replays_one_delivery(client_a, subscription, httpserver):
    delivery = _failed_delivery(client_a, httpserver)

    response = client_a.post(f"/api/v1/webhooks/deliveries/{delivery.id}/replay")

    assert response.status_code == 202
    assert response.json()["replayOf"] == str(delivery.id)
    assert response.json()["status"] == "pending"
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.CANCELLED  # the replay takes over its retries


def test_it_replays_failed_deliveries_of_a_subscription_in_a_time_range(
    client_a, subscription, httpserver
):
    _failed_delivery(client_a, httpserver)
    now = timezone.now()
    url = f"/api/v1/webhooks/subscriptions/{subscription['id']}/replay"

    replayed = client_a.post(
        url,
        {
            "from": (now - timedelta(hours=1)).isoformat(),
            "to": (now + timedelta(hours=1)).isoformat(),
        },
        format="json",
    )
    outside = client_a.post(
        url,
        {
            "from": (now - timedelta(days=2)).isoformat(),
            "to": (now - timedelta(days=1)).isoformat(),
        },
        format="json",
    )
    backwards = client_a.post(url, {"from": now.isoformat(), "to": now.isoformat()}, format="json")

    assert replayed.status_code == 202
    assert replayed.json()["replayed"] == 1
    assert outside.json()["replayed"] == 0
    assert backwards.status_code == 400


def test_it_hides_deliveries_of_other_tenants(client_a, client_b, subscription, httpserver):
    delivery = _failed_delivery(client_a, httpserver)

    assert client_b.get(f"/api/v1/webhooks/deliveries/{delivery.id}").status_code == 404
    assert client_b.post(f"/api/v1/webhooks/deliveries/{delivery.id}/replay").status_code == 404
    assert client_b.get("/api/v1/webhooks/deliveries").json()["results"] == []
    assert (
        client_b.post(
            f"/api/v1/webhooks/subscriptions/{subscription['id']}/replay",
            {"from": "2026-01-01T00:00:00Z", "to": "2027-01-01T00:00:00Z"},
            format="json",
        ).status_code
        == 404
    )


# --- the Event API ------------------------------------------------------------------------


def test_it_reads_events_with_filters_range_sort_and_paging(client_a):
    first = client_a.post("/api/v1/orders", order_payload(), format="json").json()
    second = client_a.post("/api/v1/orders", order_payload(), format="json").json()
    client_a.post(f"/api/v1/orders/{first['id']}/cancel", {"reason": "x"}, format="json")
    Event.objects.create(
        type="OrderCreated",
        version="1.0",
        live_mode=False,
        shipper=None,  # no tenant: never listed
        date_time=timezone.now(),
        data={},
        entity_type="ORDER",
        entity_id="x",
        root_entity_type="ORDER",
        root_entity_id="x",
    )

    def types(query: str) -> list[str]:
        response = client_a.get(f"/api/v1/events{query}")
        assert response.status_code == 200, response.json()
        return [e["type"] for e in response.json()["results"]]

    assert types("") == ["OrderCancelled", "OrderCreated", "OrderCreated"]
    assert types("?sort=asc") == ["OrderCreated", "OrderCreated", "OrderCancelled"]
    assert types("?type=OrderCancelled") == ["OrderCancelled"]
    assert types("?name=OrderCancelled") == ["OrderCancelled"]
    assert types(f"?entityId={second['id']}") == ["OrderCreated"]
    assert types(f"?rootEntityRef={first['creatorOrderId']}") == ["OrderCancelled", "OrderCreated"]
    assert types("?entityType=ORDER&category=ORCHESTRATION_AUDIT") == [
        "OrderCancelled",
        "OrderCreated",
        "OrderCreated",
    ]
    assert types("?to=2000-01-01T00:00:00Z") == []
    page = client_a.get("/api/v1/events?limit=2").json()
    assert len(page["results"]) == 2
    assert [e["type"] for e in client_a.get(page["next"]).json()["results"]] == ["OrderCreated"]

    event = Event.objects.filter(type="OrderCancelled").get()
    detail = client_a.get(f"/api/v1/events/{event.id}").json()
    assert detail["id"] == str(event.id)
    assert detail["data"]["reason"] == "x"
    assert detail["rootEntityRef"] == first["creatorOrderId"]


def test_it_defaults_the_event_range_to_the_last_30_days(client_a):
    client_a.post("/api/v1/orders", order_payload(), format="json")
    Event.objects.update(date_time=timezone.now() - timedelta(days=31))

    assert client_a.get("/api/v1/events").json()["results"] == []
    assert len(client_a.get("/api/v1/events?from=2000-01-01T00:00:00Z").json()["results"]) == 1


@pytest.mark.parametrize(
    "query", ["?sort=sideways", "?from=yesterday", "?limit=5000", "?category=NOPE"]
)
def test_it_answers_bad_event_queries_with_a_400(client_a, query):
    response = client_a.get(f"/api/v1/events{query}")

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == query[1:].split("=")[0]


def test_it_hides_other_tenants_events(client_a, client_b, client_a_live):
    client_a.post("/api/v1/orders", order_payload(), format="json")
    event = Event.objects.get()

    for other in (client_b, client_a_live):
        assert other.get(f"/api/v1/events/{event.id}").status_code == 404
        assert other.get("/api/v1/events").json()["results"] == []
