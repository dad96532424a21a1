import json

import pytest

from orders.models import Order
from tests.factories import order_payload

pytestmark = pytest.mark.django_db


def _fields(response) -> list[str]:
    body = response.json()
    assert set(body) >= {"type", "detail", "errors"}
    return [e["field"] for e in body["errors"]]


def _post_raw(client, body: bytes | str, path="/api/v1/orders"):
    return client.generic("POST", path, body, content_type="application/json")


@pytest.mark.parametrize(
    "body",
    [
        '{"creatorOrderId": "A" "deliveryLocation": {}}',  # missing comma
        '{"creatorOrderId": "A", // comment\n}',
        '{{"creatorOrderId": "A"}',
        '{"creatorOrderId": "A"',
        "[1, 2",
        b"\xff\xfe\x00",
        '{"weight": NaN}',
    ],
)
def test_it_answers_malformed_json_with_a_400_naming_the_body(client_a, body):
    response = _post_raw(client_a, body)

    assert response.status_code == 400
    assert response.json()["type"] == "malformed_request"
    assert _fields(response) == ["body"]


def test_it_refuses_a_body_over_1_mb(client_a):
    payload = order_payload(notes="x" * 1_100_000)

    response = _post_raw(client_a, json.dumps(payload))

    assert response.status_code == 400
    assert "larger than" in response.json()["detail"]


def test_it_refuses_a_json_document_that_is_not_an_object(client_a):
    response = _post_raw(client_a, "[]")

    assert response.status_code == 400
    assert _fields(response) == ["body"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"creatorOrderId": None}, "creatorOrderId"),
        ({"creatorOrderId": 123}, "creatorOrderId"),
        ({"creatorOrderId": ""}, "creatorOrderId"),
        ({"deliveryLocation": None}, "deliveryLocation"),
        ({"deliveryLocation": {"address": {"secondary": "x"}}}, "deliveryLocation.address.primary"),
        ({"deliveryLocation": {"address": "Vesterbrogade 1"}}, "deliveryLocation.address"),
        (
            {"deliveryLocation": {"address": {"primary": "V 1"}, "timeZone": "Mars/Olympus"}},
            "deliveryLocation.timeZone",
        ),
        (
            {
                "deliveryLocation": {
                    "address": {"primary": "V 1"},
                    "position": {"latitude": 91, "longitude": 0},
                }
            },
            "deliveryLocation.position.latitude",
        ),
        (
            {
                "pickupLocation": {
                    "address": {"primary": "V 1"},
                    "position": {"latitude": 0, "longitude": -181},
                }
            },
            "pickupLocation.position.longitude",
        ),
        (
            {
                "pickupLocation": {
                    "address": {"primary": "V 1"},
                    "position": {"latitude": "north", "longitude": 1},
                }
            },
            "pickupLocation.position.latitude",
        ),
        (
            {"deliveryLocation": {"address": {"primary": "V 1", "countryCode": "XX"}}},
            "deliveryLocation.address.countryCode",
        ),
        (
            {"deliveryLocation": {"address": {"primary": "V 1", "postalCode": 2300}}},
            "deliveryLocation.address.postalCode",
        ),
        ({"tags": "Express"}, "tags"),
        ({"tags": [1]}, "tags[0]"),
        ({"lines": [{"quantity": 1, "price": "-1"}]}, "lines[0].price"),
        ({"lines": [{"quantity": 0, "price": "1"}]}, "lines[0].quantity"),
        ({"lines": [{"quantity": "many", "price": "1"}]}, "lines[0].quantity"),
        ({"lines": [{"quantity": 1, "price": "1", "taxRate": 101}]}, "lines[0].taxRate"),
        ({"collis": [{"weight": -2}]}, "collis[0].weight"),
        ({"collis": [{"weight": 1, "volume": -0.1}]}, "collis[0].volume"),
        (
            {"collis": [{"weight": 1, "dimensions": {"length": -1, "width": 1, "height": 1}}]},
            "collis[0].dimensions.length",
        ),
        ({"collis": [{"weight": 1, "barcode": "A"}, {"weight": 1, "barcode": "A"}]}, "collis"),
        ({"deliveryTimeFrame": {"from": "2026-02-30T10:00:00+01:00"}}, "deliveryTimeFrame.from"),
        ({"deliveryTimeFrame": {"from": "tomorrow"}}, "deliveryTimeFrame.from"),
        ({"deliveryTimeFrame": {"from": 1700000000}}, "deliveryTimeFrame.from"),
        ({"deliveryTimeFrame": {"to": "2026-11-24T25:00:00+01:00"}}, "deliveryTimeFrame.to"),
        (
            {
                "deliveryTimeFrame": {
                    "from": "2026-11-24T15:00:00+01:00",
                    "to": "2026-11-24T13:00:00+01:00",
                }
            },
            "deliveryTimeFrame.from",
        ),
        (
            {"deliveryContact": {"phone": {"countrycallingCode": "45", "nationalNumber": "12"}}},
            "deliveryContact.phone.nationalNumber",
        ),
        ({"deliveryContact": {"email": "not-an-email"}}, "deliveryContact.email"),
        ({"currency": "EURO"}, "currency"),
        ({"customFields": ["a"]}, "customFields"),
        ({"deliveryLocaton": {}}, "deliveryLocaton"),
    ],
)
def test_it_answers_bad_fields_with_a_400_naming_the_field(client_a, change, field):
    payload = {**order_payload(), **change}

    response = client_a.post("/api/v1/orders", payload, format="json")

    assert response.status_code == 400, response.json()
    assert response.json()["type"] == "validation_error"
    assert field in _fields(response)
    assert not Order.objects.exists()


def test_it_reports_every_bad_field_at_once(client_a):
    response = client_a.post(
        "/api/v1/orders",
        {
            "creatorOrderId": 5,
            "deliveryLocation": {"address": {}},
            "collis": [{"weight": -1}],
            "foo": 1,
        },
        format="json",
    )

    assert response.status_code == 400
    assert set(_fields(response)) == {
        "creatorOrderId",
        "deliveryLocation.address.primary",
        "collis[0].weight",
        "foo",
    }


@pytest.mark.parametrize(
    "query",
    [
        "?status=lost",
        "?createdFrom=yesterday",
        "?updatedTo=2026-13-01",
        "?limit=0",
        "?limit=abc",
        "?cursor=notacursor",
    ],
)
def test_it_answers_bad_list_parameters_with_a_400(client_a, query):
    response = client_a.get(f"/api/v1/orders{query}")

    assert response.status_code == 400
    assert query[1:].split("=")[0] in _fields(response)


def test_it_answers_an_unknown_order_id_with_a_404_in_the_error_shape(client_a):
    response = client_a.get("/api/v1/orders/00000000-0000-0000-0000-000000000000")
    unknown_path = client_a.get("/api/v1/nowhere")

    assert response.status_code == 404
    assert response.json()["type"] == "not_found"
    assert unknown_path.status_code == 404
    assert unknown_path.json()["type"] == "not_found"


def test_it_requires_a_reason_to_cancel(client_a):
    order = client_a.post("/api/v1/orders", order_payload(), format="json").json()

    response = client_a.post(f"/api/v1/orders/{order['id']}/cancel", {}, format="json")

    assert response.status_code == 400
    assert _fields(response) == ["reason"]
