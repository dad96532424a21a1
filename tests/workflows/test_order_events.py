"""Order events (seed 002): the seed's example as written, upserts, lines, bad input, tenancy."""

import copy

import pytest

from orders.models import Order
from tests.factories import order_payload
from workflows.models import OrderEvent

pytestmark = pytest.mark.django_db

# Seed 002's example request, as its curl sends it (list of lines) …
SEED_REQUEST = {
    "id": "492a93255ab449008e42200a23a81522",
    "order_id": "113bd4e26ab14d049c931a30eaf7b8c4",
    "event_type": "delivered",
    "event_reference": "abc",
    "event_date": "2020-03-26T16:00:00Z",
    "message": "",
    "order_event_lines": [
        {
            "order_line_id": "abc123",
            "product_price_tax": 1.00,
            "product_original_price": 2.00,
            "product_price": 3.00,
            "product_price_inc_tax": 4.00,
            "quantity": 5,
            "row_total": 6.00,
            "row_total_inc_tax": 7.00,
            "row_total_discount": 8.00,
        }
    ],
    "custom_fields": {
        "tracking_reference": "aaaa-bbbb-cccc",
        "tracking_url": "https://mytrackingsite.com/ordertracking/login",
    },
}
# … and as its JavaScript example sends it: one line object, not a list.
SEED_REQUEST_JS = {**SEED_REQUEST, "order_event_lines": SEED_REQUEST["order_event_lines"][0]}


@pytest.fixture
def seed_order(client_a) -> Order:
    """The order the seed's example names, with the line it names."""
    payload = order_payload()
    payload["creatorOrderId"] = SEED_REQUEST["order_id"]
    payload["lines"][0]["reference"] = "abc123"
    response = client_a.post("/api/v1/orders", payload, format="json")
    assert response.status_code == 201, response.json()
    return Order.objects.get(id=response.json()["id"])


def test_the_seed_example_works_as_written_in_both_forms(client_a, seed_order):
    created = client_a.post("/api/v1/CreateOrderEvent", SEED_REQUEST, format="json")

    assert created.status_code == 201, created.json()
    assert created.json() == {
        "id": "492a9325-5ab4-4900-8e42-200a23a81522",
        "status": 201,
        "message": "Order event created.",
    }
    updated = client_a.post("/api/v1/order-events", SEED_REQUEST_JS, format="json")
    assert updated.status_code == 200, updated.json()
    assert updated.json()["status"] == 200
    event = OrderEvent.objects.get()
    assert event.order == seed_order
    assert event.lines == [
        {
            "order_line_id": "abc123",
            "product_price_tax": "1.0000",
            "product_original_price": "2.0000",
            "product_price": "3.0000",
            "product_price_inc_tax": "4.0000",
            "quantity": "5",
            "row_total": "6.0000",
            "row_total_inc_tax": "7.0000",
            "row_total_discount": "8.0000",
        }
    ]
    seed_order.refresh_from_db()
    assert seed_order.status == "created"  # a fact about the order, not a move


def test_it_upserts_by_event_reference_and_lists_by_order(client_a, seed_order):
    body = {k: v for k, v in SEED_REQUEST.items() if k != "id"}
    first = client_a.post("/api/v1/order-events", body, format="json").json()
    again = client_a.post(
        "/api/v1/order-events", {**body, "event_type": "fullfilled"}, format="json"
    ).json()

    assert (first["status"], again["status"], again["id"]) == (201, 200, first["id"])
    listed = client_a.get(f"/api/v1/order-events?order_id={seed_order.creator_order_id}").json()
    [document] = listed["results"]
    assert document["event_type"] == "fulfilled"  # the seed's spelling, read as meant
    assert document["order_id"] == str(seed_order.id)
    assert document["event_date"] == "2020-03-26T17:00:00+01:00"  # the delivery location's zone
    detail = client_a.get(f"/api/v1/order-events/{first['id']}").json()
    assert detail == document


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"event_type": "shipped"}, "event_type"),
        ({"event_type": 3}, "event_type"),
        ({"event_date": "2020-03-32T16:00:00Z"}, "event_date"),
        ({"event_date": "yesterday"}, "event_date"),
        ({"order_event_lines": [{"order_line_id": "nope"}]}, "order_event_lines[0].order_line_id"),
        ({"order_event_lines": [{"order_line_id": "abc123", "quantity": "many"}]}, None),
        ({"order_event_lines": "abc123"}, "order_event_lines"),
        ({"custom_fields": {"a": {"nested": 1}}}, "custom_fields"),
        ({"id": 12}, "id"),
        ({"id": "not-an-id"}, "id"),
        ({"event_reference": ""}, "event_reference"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_input_is_a_400_naming_the_field_in_the_seed_s_answer(
    client_a, seed_order, change, field
):
    response = client_a.post("/api/v1/order-events", {**SEED_REQUEST, **change}, format="json")

    assert response.status_code == 400, response.json()
    body = response.json()
    assert body["status"] == 400 and body["error"] and body["message"]
    fields = {e["field"] for e in body["errors"]}
    assert field in fields if field else any(f.startswith("order_event_lines") for f in fields)
    assert not OrderEvent.objects.exists()


def test_an_unknown_order_is_a_404_naming_order_id(client_a, seed_order):
    response = client_a.post(
        "/api/v1/order-events", {**SEED_REQUEST, "order_id": "NO-SUCH"}, format="json"
    )

    assert response.status_code == 404
    assert [e["field"] for e in response.json()["errors"]] == ["order_id"]


def test_another_shipper_can_neither_read_nor_overwrite_an_order_event(
    client_a, client_b, seed_order
):
    created = client_a.post("/api/v1/order-events", SEED_REQUEST, format="json").json()
    other = order_payload()
    other["lines"][0]["reference"] = "abc123"
    theirs = client_b.post("/api/v1/orders", other, format="json").json()

    assert client_b.get(f"/api/v1/order-events/{created['id']}").status_code == 404
    assert client_b.get("/api/v1/order-events").json()["results"] == []
    hijack = {**SEED_REQUEST, "order_id": theirs["id"]}
    assert client_b.post("/api/v1/order-events", hijack, format="json").status_code == 404
    assert OrderEvent.objects.get().order == seed_order


def test_an_id_of_another_order_s_event_is_a_conflict(client_a, seed_order):
    client_a.post("/api/v1/order-events", SEED_REQUEST, format="json")
    other = copy.deepcopy(order_payload())
    other["lines"][0]["reference"] = "abc123"
    second = client_a.post("/api/v1/orders", other, format="json").json()

    response = client_a.post(
        "/api/v1/order-events", {**SEED_REQUEST, "order_id": second["id"]}, format="json"
    )

    assert response.status_code == 409
    assert response.json()["status"] == 409
