"""Bad input reaches a 4xx naming what was wrong, never a 500 (issue 10)."""

import base64
import datetime
import json
import re
import unicodedata
import uuid

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError as DjangoValidationError
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

from accounts.models import ApiKeyMode
from accounts.services import api_key_create
from config.api.errors import exception_handler
from orders import pos
from orders.models import Order, PosFetchStatus, PosIntegration
from tests.factories import ShipperFactory, order_payload

pytestmark = pytest.mark.django_db


def _fields(response) -> list[str]:
    body = response.json()
    assert set(body) >= {"type", "detail", "errors"}, body
    return [e["field"] for e in body["errors"]]


def _post_json(client, path: str, document) -> object:
    # json.dumps escapes lone surrogates as \ud800, which is how a client sends them.
    return client.generic("POST", path, json.dumps(document), content_type="application/json")


def _cursor(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@pytest.fixture
def staff_api(db) -> APIClient:
    client = APIClient()
    client.force_authenticate(User.objects.create_superuser("ops", "ops@example.dk", "pw"))
    return client


@pytest.fixture
def subscription(client_a, httpserver) -> dict:
    response = client_a.post(
        "/api/v1/webhooks/subscriptions",
        {"url": httpserver.url_for("/hooks"), "eventTypes": ["*"]},
        format="json",
    )
    assert response.status_code == 201, response.json()
    return response.json()


# --- 1. dates out of range ----------------------------------------------------------------


@pytest.mark.parametrize(
    "frame",
    [
        {"from": "0001-01-01T00:00:00", "to": "0001-01-01T02:00:00"},
        {"from": "9999-12-31T20:00:00", "to": "9999-12-31T23:00:00"},
        {"from": "1969-12-31T10:00:00+01:00", "to": "1969-12-31T12:00:00+01:00"},
        {"from": "2201-01-01T10:00:00Z", "to": "2201-01-01T12:00:00Z"},
    ],
)
def test_it_refuses_order_times_outside_the_accepted_range(client_a, frame):
    response = client_a.post(
        "/api/v1/orders", order_payload(deliveryTimeFrame=frame), format="json"
    )

    assert response.status_code == 400
    assert "deliveryTimeFrame.from" in _fields(response)
    assert not Order.objects.exists()


@pytest.mark.parametrize(
    ("path", "parameter"),
    [
        ("/api/v1/orders", "createdFrom"),
        ("/api/v1/orders", "createdTo"),
        ("/api/v1/orders", "updatedFrom"),
        ("/api/v1/orders", "updatedTo"),
        ("/api/v1/events", "from"),
        ("/api/v1/events", "to"),
        ("/api/v1/webhooks/deliveries", "from"),
        ("/api/v1/webhooks/deliveries", "to"),
    ],
)
def test_it_refuses_time_filters_outside_the_accepted_range(client_a, path, parameter):
    response = client_a.get(path, {parameter: "9999-12-31T23:00:00-05:00"})

    assert response.status_code == 400
    assert _fields(response) == [parameter]


@pytest.mark.parametrize("parameter", ["pickupDay", "pickupDayFrom", "pickupDayTo"])
def test_it_refuses_manifest_days_outside_the_accepted_range(carrier_client, parameter):
    response = carrier_client.get("/api/v1/carrier/orders", {parameter: "0001-01-01"})

    assert response.status_code == 400
    assert _fields(response) == [parameter]


def test_it_refuses_a_replay_range_outside_the_accepted_range(client_a, subscription):
    response = client_a.post(
        f"/api/v1/webhooks/subscriptions/{subscription['id']}/replay",
        {"from": "1969-12-31T00:00:00Z", "to": "2201-01-01T00:00:00Z"},
        format="json",
    )

    assert response.status_code == 400
    assert set(_fields(response)) == {"from", "to"}


def test_it_refuses_a_routing_day_outside_the_accepted_range(staff_api):
    response = staff_api.post(
        "/api/v1/routing/jobs",
        {
            "name": "Far future",
            "date": "9999-12-31",
            "vehicleGroups": [str(uuid.uuid4())],
            "gates": [str(uuid.uuid4())],
        },
        format="json",
    )

    assert response.status_code == 400
    assert _fields(response) == ["date"]


def test_it_reads_stored_times_that_the_place_s_zone_cannot_hold(client_a):
    created = client_a.post("/api/v1/orders", order_payload(), format="json").json()
    # Stored before times were bounded: the order's zone would carry it past year 9999.
    Order.objects.filter(id=created["id"]).update(
        delivery_from=datetime.datetime(9999, 12, 31, 23, tzinfo=datetime.UTC),
        delivery_to=datetime.datetime(9999, 12, 31, 23, 30, tzinfo=datetime.UTC),
        delivery_time_zone="Pacific/Kiritimati",
        pickup_from=datetime.datetime(1, 1, 1, tzinfo=datetime.UTC),
        pickup_time_zone="America/New_York",
    )
    admin = Client()
    admin.force_login(User.objects.create_superuser("root", "root@example.dk", "pw"))

    listed = client_a.get("/api/v1/orders")
    read = client_a.get(f"/api/v1/orders/{created['id']}")
    changelist = admin.get("/admin/orders/order/")

    assert listed.status_code == 200
    assert read.status_code == 200
    assert changelist.status_code == 200
    assert read.json()["deliveryTimeFrame"]["from"] == "9999-12-31T23:00:00+00:00"
    assert read.json()["pickupTimeFrame"]["from"] == "0001-01-01T00:00:00+00:00"


# --- 2. NUL characters and unpaired surrogates --------------------------------------------


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"customFields": {"a": {"b": [1, 2, "x\ud800"]}}}, "customFields.a.b[2]"),
        ({"customFields": {"a": {"b": [1, 2, "x\x00"]}}}, "customFields.a.b[2]"),
        ({"customFields": {"a": {"k\x00": 1}}}, "customFields.a"),
        ({"customFields": {"\udfff": 1}}, "customFields"),
        ({"notes": "ring \udc00 twice"}, "notes"),
        ({"creatorOrderId": "A\ud800"}, "creatorOrderId"),
        ({"relationalId": "SO-\udbff"}, "relationalId"),
    ],
)
def test_it_refuses_nul_and_unpaired_surrogates_naming_the_path(client_a, change, field):
    response = _post_json(client_a, "/api/v1/orders", order_payload(**change))

    assert response.status_code == 400
    assert field in _fields(response)
    assert not Order.objects.exists()


def test_it_fails_only_the_bulk_item_holding_unstorable_text(client_a):
    bad = order_payload(customFields={"a": ["ok", "\ud800"]})
    orders = [order_payload(), bad, order_payload()]

    response = _post_json(client_a, "/api/v1/orders/bulk", {"orders": orders})

    assert response.status_code == 200
    body = response.json()
    assert [r["outcome"] for r in body["results"]] == ["created", "error", "created"]
    assert body["results"][1]["index"] == 1
    assert [e["field"] for e in body["results"][1]["error"]["errors"]] == ["customFields.a[1]"]
    assert Order.objects.count() == 2


def test_it_refuses_nul_in_a_query_parameter_naming_it(client_a):
    response = client_a.get("/api/v1/orders?cursor=%00")

    assert response.status_code == 400
    assert _fields(response) == ["cursor"]


def test_it_fails_a_pos_order_holding_unstorable_text(client_a, shipper_a, httpserver):
    PosIntegration.objects.create(
        shipper=shipper_a, live_mode=False, base_url=httpserver.url_for("/pos")
    )
    body = json.dumps(order_payload(creatorOrderId="POS-1", customFields={"k": "\ud800"}))
    httpserver.expect_request("/pos/orders/POS-1").respond_with_data(
        body, content_type="application/json"
    )
    accepted = client_a.post(
        "/api/v1/pos/events", {"eventType": "OrderUpdated", "entityId": "POS-1"}, format="json"
    )

    fetch = pos.pos_fetch_run(fetch_id=accepted.json()["id"])

    assert fetch.status == PosFetchStatus.FAILED
    assert "'customFields.k'" in fetch.last_error
    assert not Order.objects.exists()


def test_it_never_reads_a_pos_answer_with_a_repeated_key_as_last_one_wins(
    client_a, shipper_a, httpserver
):
    PosIntegration.objects.create(
        shipper=shipper_a, live_mode=False, base_url=httpserver.url_for("/pos")
    )
    body = json.dumps(order_payload(creatorOrderId="POS-2"))[:-1] + ', "creatorOrderId": "X"}'
    httpserver.expect_request("/pos/orders/POS-2").respond_with_data(
        body, content_type="application/json"
    )
    accepted = client_a.post(
        "/api/v1/pos/events", {"eventType": "OrderUpdated", "entityId": "POS-2"}, format="json"
    )

    fetch = pos.pos_fetch_run(fetch_id=accepted.json()["id"])

    assert fetch.status != PosFetchStatus.DONE
    assert "creatorOrderId" in fetch.last_error
    assert not Order.objects.exists()


# --- 3. crafted cursors and page sizes ----------------------------------------------------

PAGINATED = [
    ("shipper", "/api/v1/orders"),
    ("shipper", "/api/v1/events"),
    ("shipper", "/api/v1/webhooks/subscriptions"),
    ("shipper", "/api/v1/webhooks/deliveries"),
    ("carrier", "/api/v1/carrier/orders"),
]


@pytest.mark.parametrize(("who", "path"), PAGINATED)
@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ({"cursor": _cursor("p=x")}, "cursor"),
        ({"cursor": _cursor("o=abc")}, "cursor"),
        ({"cursor": _cursor("p=0001-01-01T00:00:00+05:00")}, "cursor"),
        ({"cursor": "not base64 ☃"}, "cursor"),
        ({"limit": "²"}, "limit"),
        ({"limit": "٣"}, "limit"),
    ],
)
def test_it_refuses_crafted_cursors_and_limits_on_every_list(
    client_a, carrier_client, who, path, query, parameter
):
    client = client_a if who == "shipper" else carrier_client

    response = client.get(path, query)

    assert response.status_code == 400
    assert _fields(response) == [parameter]


def test_it_follows_its_own_cursors_through_the_checks(client_a):
    for _ in range(3):
        client_a.post("/api/v1/orders", order_payload(), format="json")

    first = client_a.get("/api/v1/orders", {"limit": "2"}).json()
    second = client_a.get(first["next"]).json()
    back = client_a.get(second["previous"]).json()

    assert len(first["results"]) == 2
    assert len(second["results"]) == 1
    assert back["results"] == first["results"]


# --- 4. path parameters and OPTIONS -------------------------------------------------------


def test_it_refuses_a_reference_with_a_nul_in_the_path(client_a):
    response = client_a.get("/api/v1/orders/ref/%00")

    assert response.status_code == 400
    assert _fields(response) == ["creatorOrderId"]


def _api_routes() -> list[str]:
    routes: list[str] = []

    def walk(patterns, prefix: str) -> None:
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, route)
            elif isinstance(pattern, URLPattern) and route.startswith("api/v1/"):
                routes.append(route)

    walk(get_resolver().url_patterns, "")
    return sorted(set(routes))


def _filled(route: str) -> str:
    samples = {"uuid": str(uuid.uuid4()), "int": "1"}
    return "/" + re.sub(
        r"<(?:(\w+):)?\w+>", lambda m: samples.get(m.group(1) or "str", "REF-1"), route
    )


def test_it_answers_options_on_every_api_endpoint(client_a, carrier_client, staff_api):
    routes = _api_routes()
    assert "api/v1/orders/ref/<path:creator_order_id>" in routes
    assert "api/v1/webhooks/deliveries/<uuid:delivery_id>/replay" in routes

    for route in routes:
        client = (
            carrier_client
            if route.startswith("api/v1/carrier/")
            else staff_api
            if route.startswith(("api/v1/routing/", "api/v1/finance/"))
            else client_a
        )
        response = client.options(_filled(route))

        assert response.status_code == 200, (route, response.content[:300])
        assert "Allow" in response


# --- 5. Django's ValidationError ----------------------------------------------------------


def test_it_maps_a_model_validation_error_to_the_400_shape():
    response = exception_handler(
        DjangoValidationError({"creator_order_id": ["Already used."], "__all__": ["Broken."]}),
        {},
    )

    assert response.status_code == 400
    assert response.data["type"] == "validation_error"
    assert [(e["field"], e["message"]) for e in response.data["errors"]] == [
        ("creator_order_id", "Already used."),
        ("body", "Broken."),
    ]


# --- 6. repeated keys ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ('{"creatorOrderId": "A", "creatorOrderId": "B"}', "creatorOrderId"),
        ('{"customFields": {"x": 1, "x": 2}}', "customFields.x"),
        ('{"collis": [{"weight": 1, "weight": 2}]}', "collis[0].weight"),
    ],
)
def test_it_refuses_a_key_that_appears_twice(client_a, body, field):
    response = client_a.generic("POST", "/api/v1/orders", body, content_type="application/json")

    assert response.status_code == 400
    assert _fields(response) == [field]


# --- 7. references ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "character",
    ["\x07", "\x7f", "\u202e", "\u2066", "\u200f", "\u061c", "\u200b", "\u2060", "\ufeff"],
)
@pytest.mark.parametrize(
    ("field", "change"),
    [
        ("creatorOrderId", lambda c: {"creatorOrderId": f"A{c}1"}),
        ("relationalId", lambda c: {"relationalId": f"SO{c}1"}),
        (
            "lines[0].reference",
            lambda c: {"lines": [{"reference": f"L{c}1", "quantity": 1, "price": "1"}]},
        ),
        ("collis[0].barcode", lambda c: {"collis": [{"barcode": f"B{c}1", "weight": 1}]}),
    ],
)
def test_it_refuses_invisible_and_control_characters_in_references(
    client_a, character, field, change
):
    response = client_a.post("/api/v1/orders", order_payload(**change(character)), format="json")

    assert response.status_code == 400
    assert field in _fields(response)


def test_it_keeps_one_order_for_two_spellings_of_a_reference(client_a):
    nfd, nfc = unicodedata.normalize("NFD", "CAFÉ-1"), unicodedata.normalize("NFC", "CAFÉ-1")
    assert nfd != nfc
    created = client_a.post("/api/v1/orders", order_payload(creatorOrderId=nfd), format="json")

    replaced = client_a.put(
        f"/api/v1/orders/ref/{nfc}", order_payload(creatorOrderId=nfd, notes="New"), format="json"
    )
    again = client_a.post("/api/v1/orders", order_payload(creatorOrderId=nfc), format="json")

    assert created.status_code == 201
    assert created.json()["creatorOrderId"] == nfc
    assert replaced.status_code == 200
    assert replaced.json()["id"] == created.json()["id"]
    assert again.status_code == 409
    assert Order.objects.count() == 1


def test_it_reaches_a_reference_holding_a_slash(client_a):
    created = client_a.post("/api/v1/orders", order_payload(creatorOrderId="WEB/7"), format="json")

    read = client_a.get("/api/v1/orders/ref/WEB%2F7")
    replaced = client_a.put(
        "/api/v1/orders/ref/WEB%2F7", order_payload(creatorOrderId="WEB/7"), format="json"
    )

    assert read.status_code == 200
    assert read.json()["id"] == created.json()["id"]
    assert replaced.status_code == 200
    assert Order.objects.count() == 1


# --- 8. bulk items fail alone -------------------------------------------------------------


def test_it_fails_only_the_bulk_item_missing_a_pickup_without_a_default(db):
    issued = api_key_create(
        shipper=ShipperFactory(default_pickup_address_primary=""), mode=ApiKeyMode.TEST
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {issued.raw_key}")
    pickup = {"address": {"primary": "Køgevej 120"}}
    orders = [order_payload(pickupLocation=pickup), order_payload(), order_payload()]
    orders[2]["pickupLocation"] = pickup
    del orders[1]["pickupLocation"]
    existing = order_payload(creatorOrderId="KNOWN", pickupLocation=pickup)
    assert client.post("/api/v1/orders", existing, format="json").status_code == 201
    del existing["pickupLocation"]

    response = client.post("/api/v1/orders/bulk", {"orders": [*orders, existing]}, format="json")

    assert response.status_code == 200
    results = response.json()["results"]
    assert [(r["index"], r["outcome"]) for r in results] == [
        (0, "created"),
        (1, "error"),
        (2, "created"),
        (3, "error"),
    ]
    for failed in (results[1], results[3]):
        assert [e["field"] for e in failed["error"]["errors"]] == ["pickupLocation"]
    assert response.json()["failed"] == 2


# --- 9. idempotent replays ----------------------------------------------------------------


def test_it_replays_the_first_answer_s_headers(client_a):
    payload = order_payload()

    first = client_a.post("/api/v1/orders", payload, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    again = client_a.post("/api/v1/orders", payload, format="json", HTTP_IDEMPOTENCY_KEY="k-1")

    assert again["Idempotent-Replayed"] == "true"
    assert again.status_code == first.status_code == 201
    assert again["Location"] == first["Location"]
    assert again["Content-Type"] == first["Content-Type"] == "application/json"
    assert again.json() == first.json()


# --- 10. every /api/ answer is JSON -------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("post", "/api/v1/nope", 404),
        ("get", "/api/v1/", 404),
        ("get", "/api/", 404),
        ("get", "/api/v2/x", 404),
        ("delete", "/api/v2/x", 404),
        ("put", "/api/schema/", 405),
        ("post", "/api/docs/", 405),
    ],
)
def test_it_answers_every_api_path_in_the_json_error_shape(method, path, status):
    client = Client(enforce_csrf_checks=True)

    response = getattr(client, method)(path)

    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert set(body) == {"type", "detail", "errors"}
    assert body["type"] == {404: "not_found", 405: "method_not_allowed"}[status]
