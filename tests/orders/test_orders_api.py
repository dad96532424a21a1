from datetime import datetime
from urllib.parse import quote

import pytest
from django.db import DatabaseError

from orders.api.serializers import order_spec_from
from orders.models import Collo, Order, OrderHistory, OrderLine, OrderStatus
from orders.services import order_create
from tests.factories import order_payload
from webhooks.models import Event

pytestmark = pytest.mark.django_db


def _create(client, **overrides) -> dict:
    response = client.post("/api/v1/orders", order_payload(**overrides), format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def test_it_creates_an_order_in_the_seeds_shape(client_a, shipper_a):
    payload = order_payload()
    response = client_a.post("/api/v1/orders", payload, format="json")

    assert response.status_code == 201
    body = response.json()
    assert response["Location"] == f"/api/v1/orders/{body['id']}"
    assert body["creatorOrderId"] == payload["creatorOrderId"]
    assert body["creatorId"] == str(shipper_a.id)
    assert body["liveMode"] is False
    assert body["status"] == "created"
    assert body["pickupLocation"]["timeZone"] == "Europe/Copenhagen"  # sent as europe/copenhagen
    assert body["deliveryLocation"]["position"] == {"latitude": 55.662128, "longitude": 12.577972}
    assert body["deliveryContact"]["phone"] == {
        "countrycallingCode": "45",
        "nationalNumber": "22345678",
        "countryCode": "DK",
    }
    assert body["deliveryTimeFrame"] == {
        "from": "2026-11-24T13:00:00+01:00",
        "to": "2026-11-24T15:00:00+01:00",
    }
    assert [line["total"] for line in body["lines"]] == ["6243.75", "4495.00"]
    assert [c["weight"] for c in body["collis"]] == ["38.5", "22"]
    assert body["collis"][0]["dimensions"] == {"length": "180", "width": "90", "height": "12"}
    assert body["totalWeight"] == "60.5"


def test_it_writes_the_created_event_and_history_in_the_same_transaction(client_a):
    body = _create(client_a)

    event = Event.objects.get(type="OrderCreated", entity_id=body["id"])
    assert event.version == "1.0"
    assert event.live_mode is False
    assert event.entity_ref == body["creatorOrderId"]
    assert event.data["order"] == {
        "id": body["id"],
        "creatorOrderId": body["creatorOrderId"],
        "creatorId": body["creatorId"],
        "relationalId": body["relationalId"],
        "tags": body["tags"],
    }
    assert event.data["collis"][0]["barcode"] == body["collis"][0]["barcode"]
    envelope = event.envelope()
    assert set(envelope) == {"id", "type", "version", "liveMode", "dateTime", "data"}
    history = OrderHistory.objects.filter(order_id=body["id"])
    assert [h.action for h in history] == ["created"]
    assert history[0].actor.startswith("api-key:wb_test_")


def test_it_writes_no_order_or_history_when_its_event_cannot_be_written(shipper_a, failing_inserts):
    failing_inserts(Event)

    with pytest.raises(DatabaseError):
        order_create(
            shipper=shipper_a,
            live_mode=False,
            spec=order_spec_from(order_payload(creatorOrderId="TXN-1")),
            actor="test",
        )

    assert not Order.objects.exists()
    assert not OrderLine.objects.exists() and not Collo.objects.exists()
    assert not OrderHistory.objects.exists()
    assert not Event.objects.exists()


def test_it_answers_409_naming_the_existing_order_for_a_duplicate_creator_order_id(client_a):
    body = _create(client_a, creatorOrderId="DUP-1")

    response = client_a.post("/api/v1/orders", order_payload(creatorOrderId="DUP-1"), format="json")

    assert response.status_code == 409
    assert response.json()["existingOrderId"] == body["id"]
    assert response.json()["errors"][0]["field"] == "creatorOrderId"
    assert Order.objects.filter(creator_order_id="DUP-1").count() == 1


def test_it_reads_an_order_by_id_and_by_reference(client_a):
    body = _create(client_a)

    by_id = client_a.get(f"/api/v1/orders/{body['id']}")
    by_ref = client_a.get(f"/api/v1/orders/ref/{body['creatorOrderId']}")

    assert by_id.status_code == by_ref.status_code == 200
    assert by_id.json() == by_ref.json() == body


def test_it_upserts_by_reference(client_a):
    payload = order_payload()
    ref = payload.pop("creatorOrderId")

    created = client_a.put(f"/api/v1/orders/ref/{ref}", payload, format="json")
    payload["notes"] = "Leave at the back door."
    updated = client_a.put(f"/api/v1/orders/ref/{ref}", payload, format="json")
    unchanged = client_a.put(f"/api/v1/orders/ref/{ref}", payload, format="json")

    assert created.status_code == 201
    assert updated.status_code == 200
    assert updated.json()["id"] == created.json()["id"]
    assert updated.json()["notes"] == "Leave at the back door."
    assert unchanged.status_code == 200
    # Resending the same order changes nothing and emits nothing.
    types = list(
        Event.objects.filter(entity_id=created.json()["id"]).values_list("type", flat=True)
    )
    assert sorted(types) == ["OrderCreated", "OrderUpdated"]
    # Collo ids stay stable while their barcodes do.
    assert [c["id"] for c in updated.json()["collis"]] == [
        c["id"] for c in created.json()["collis"]
    ]


def test_it_refuses_an_upsert_whose_body_names_another_reference(client_a):
    response = client_a.put(
        "/api/v1/orders/ref/A-1", order_payload(creatorOrderId="B-2"), format="json"
    )

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "creatorOrderId"


def test_it_patches_only_the_keys_given_and_records_what_changed(client_a):
    body = _create(client_a)

    response = client_a.patch(
        f"/api/v1/orders/{body['id']}",
        {
            "tags": ["Express"],
            "deliveryTimeFrame": {"from": "2026-11-25T09:00:00", "to": "2026-11-25T11:00"},
        },
        format="json",
    )

    assert response.status_code == 200
    patched = response.json()
    assert patched["tags"] == ["Express"]
    # A time without offset is read in the delivery location's zone.
    assert patched["deliveryTimeFrame"]["from"] == "2026-11-25T09:00:00+01:00"
    assert patched["lines"] == body["lines"]
    event = Event.objects.get(type="OrderUpdated", entity_id=body["id"])
    assert sorted(event.data["changes"]) == ["deliveryTimeFrame", "tags"]
    history = OrderHistory.objects.get(order_id=body["id"], action="updated")
    assert history.changes["tags"] == [["Outbound", "Mainland"], ["Express"]]


def test_it_replaces_lines_and_collis_as_a_whole(client_a):
    body = _create(client_a)

    response = client_a.patch(
        f"/api/v1/orders/{body['id']}",
        {"lines": [{"reference": "X", "quantity": 2, "price": "10.00"}], "collis": [{"weight": 5}]},
        format="json",
    )

    assert response.status_code == 200
    assert [(line["reference"], line["total"]) for line in response.json()["lines"]] == [
        ("X", "20.00")
    ]
    assert response.json()["totalWeight"] == "5"


def test_it_cancels_until_pickup_and_not_after(client_a):
    body = _create(client_a)
    other = _create(client_a)
    Order.objects.filter(id=other["id"]).update(status=OrderStatus.PICKED_UP)

    cancelled = client_a.post(
        f"/api/v1/orders/{body['id']}/cancel", {"reason": "Customer changed mind"}, format="json"
    )
    again = client_a.post(f"/api/v1/orders/{body['id']}/cancel", {"reason": "Twice"}, format="json")
    refused = client_a.post(
        f"/api/v1/orders/{other['id']}/cancel", {"reason": "Too late"}, format="json"
    )

    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["cancelReason"] == "Customer changed mind"
    assert again.status_code == 200
    assert Event.objects.filter(type="OrderCancelled", entity_id=body["id"]).count() == 1
    assert refused.status_code == 409
    assert refused.json()["type"] == "order_not_cancellable"
    assert "picked_up" in refused.json()["detail"]


def test_it_refuses_logistics_changes_after_pickup_but_allows_contacts_and_notes(client_a):
    body = _create(client_a)
    Order.objects.filter(id=body["id"]).update(status=OrderStatus.PICKED_UP)

    refused = client_a.patch(
        f"/api/v1/orders/{body['id']}",
        {"deliveryLocation": {"address": {"primary": "Vesterbrogade 1"}}, "notes": "hi"},
        format="json",
    )
    allowed = client_a.patch(
        f"/api/v1/orders/{body['id']}",
        {
            "notes": "Call first",
            "deliveryContact": {"preferredName": "Jane", "email": "j@example.dk"},
        },
        format="json",
    )

    assert refused.status_code == 409
    assert refused.json()["type"] == "order_picked_up"
    assert [e["field"] for e in refused.json()["errors"]] == ["deliveryLocation"]
    assert allowed.status_code == 200
    assert allowed.json()["notes"] == "Call first"
    assert Order.objects.get(id=body["id"]).delivery_address_primary == "Artillerivej 86"


def test_it_refuses_changes_to_a_cancelled_order(client_a):
    body = _create(client_a)
    client_a.post(f"/api/v1/orders/{body['id']}/cancel", {"reason": "x"}, format="json")

    response = client_a.patch(f"/api/v1/orders/{body['id']}", {"notes": "late"}, format="json")

    assert response.status_code == 409
    assert response.json()["type"] == "order_cancelled"


def test_it_uses_the_shippers_default_pickup_address(client_a, shipper_a):
    payload = order_payload()
    del payload["pickupLocation"]

    response = client_a.post("/api/v1/orders", payload, format="json")

    assert response.status_code == 201
    assert response.json()["pickupLocation"]["address"] == {
        "primary": shipper_a.default_pickup_address_primary,
        "secondary": shipper_a.default_pickup_address_secondary,
        "postalCode": "2600",
        "countryCode": "DK",
    }


def test_it_requires_a_pickup_location_when_the_shipper_has_no_default(client_a, shipper_a):
    shipper_a.default_pickup_address_primary = ""
    shipper_a.save()
    payload = order_payload()
    del payload["pickupLocation"]

    response = client_a.post("/api/v1/orders", payload, format="json")

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "pickupLocation"


def test_it_lists_with_filters_and_cursor_paging(client_a):
    first = _create(client_a, tags=["Express"], relationalId="SO-1")
    second = _create(client_a, tags=["Outbound"])
    third = _create(client_a, tags=["Express", "Outbound"])
    client_a.post(f"/api/v1/orders/{second['id']}/cancel", {"reason": "x"}, format="json")

    def ids(query):
        response = client_a.get(f"/api/v1/orders{query}")
        assert response.status_code == 200, response.json()
        return [o["id"] for o in response.json()["results"]]

    assert ids("?tag=Express") == [third["id"], first["id"]]
    assert ids("?status=cancelled") == [second["id"]]
    assert ids("?status=created&status=cancelled") == [third["id"], second["id"], first["id"]]
    assert ids("?relationalId=SO-1") == [first["id"]]
    assert ids(f"?creatorOrderId={third['creatorOrderId']}") == [third["id"]]
    assert ids(f"?barcode={first['collis'][1]['barcode']}") == [first["id"]]
    # createdAt carries its place's offset; a "+" in a query string must be encoded.
    assert ids(f"?createdFrom={quote(third['createdAt'])}") == [third["id"]]
    assert ids("?createdTo=2000-01-01T00:00:00Z") == []
    assert len(ids("?updatedFrom=2000-01-01T00:00:00Z")) == 3

    page1 = client_a.get("/api/v1/orders?limit=2").json()
    page2 = client_a.get(page1["next"]).json()
    assert [o["id"] for o in page1["results"]] == [third["id"], second["id"]]
    assert [o["id"] for o in page2["results"]] == [first["id"]]
    assert page2["next"] is None


def test_it_bulk_upserts_with_a_result_per_item(client_a):
    existing = _create(client_a)
    changed = {**order_payload(), "creatorOrderId": existing["creatorOrderId"], "notes": "changed"}
    bad = order_payload(deliveryLocation={"address": {}})
    new = order_payload()

    response = client_a.post(
        "/api/v1/orders/bulk", {"orders": [new, bad, changed, new, "not an order"]}, format="json"
    )

    assert response.status_code == 200, response.json()
    body = response.json()
    assert [r["outcome"] for r in body["results"]] == [
        "created",
        "error",
        "updated",
        "error",
        "error",
    ]
    assert (body["created"], body["updated"], body["failed"]) == (1, 1, 3)
    assert body["results"][1]["error"]["errors"][0]["field"] == "deliveryLocation.address.primary"
    assert body["results"][3]["error"]["type"] == "duplicate_in_request"
    assert Order.objects.get(creator_order_id=new["creatorOrderId"]).collis.count() == 2
    assert Event.objects.filter(type="OrderCreated", entity_ref=new["creatorOrderId"]).count() == 1
    assert Order.objects.get(id=existing["id"]).notes == "changed"


def test_it_refuses_a_bulk_of_more_than_1000(client_a):
    response = client_a.post("/api/v1/orders/bulk", {"orders": [{}] * 1001}, format="json")

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "orders"


def test_it_stores_time_frames_as_instants(client_a):
    body = _create(
        client_a, pickupTimeFrame={"from": "2026-11-24T09:00:00Z", "to": "2026-11-24T10:00:00Z"}
    )

    order = Order.objects.get(id=body["id"])
    assert order.pickup_from == datetime.fromisoformat("2026-11-24T09:00:00+00:00")
    assert body["pickupTimeFrame"]["from"] == "2026-11-24T10:00:00+01:00"


def test_it_resets_a_nulled_pickup_location_to_the_shippers_default(client_a, shipper_a):
    body = _create(client_a)

    response = client_a.patch(
        f"/api/v1/orders/{body['id']}", {"pickupLocation": None}, format="json"
    )

    assert response.status_code == 200
    assert (
        response.json()["pickupLocation"]["address"]["primary"]
        == shipper_a.default_pickup_address_primary
    )
