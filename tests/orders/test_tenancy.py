import pytest

from tests.factories import order_payload

pytestmark = pytest.mark.django_db


@pytest.fixture
def order_of_a(client_a) -> dict:
    response = client_a.post("/api/v1/orders", order_payload(creatorOrderId="A-1"), format="json")
    assert response.status_code == 201
    return response.json()


def test_it_hides_one_shippers_order_from_another(client_b, order_of_a):
    oid = order_of_a["id"]

    assert client_b.get(f"/api/v1/orders/{oid}").status_code == 404
    assert client_b.get("/api/v1/orders/ref/A-1").status_code == 404
    assert client_b.patch(f"/api/v1/orders/{oid}", {"notes": "x"}, format="json").status_code == 404
    assert (
        client_b.post(f"/api/v1/orders/{oid}/cancel", {"reason": "x"}, format="json").status_code
        == 404
    )
    assert client_b.get("/api/v1/orders").json()["results"] == []
    assert client_b.get("/api/v1/orders?creatorOrderId=A-1").json()["results"] == []


def test_it_keeps_creator_order_ids_apart_per_shipper(client_b, order_of_a):
    response = client_b.post("/api/v1/orders", order_payload(creatorOrderId="A-1"), format="json")

    assert response.status_code == 201
    assert response.json()["id"] != order_of_a["id"]


def test_it_hides_test_orders_from_live_keys_and_back(client_a_live, order_of_a):
    assert client_a_live.get(f"/api/v1/orders/{order_of_a['id']}").status_code == 404
    assert client_a_live.get("/api/v1/orders").json()["results"] == []

    live = client_a_live.post("/api/v1/orders", order_payload(creatorOrderId="A-1"), format="json")
    assert live.status_code == 201
    assert live.json()["liveMode"] is True


def test_it_refuses_carrier_keys_on_shipper_endpoints(carrier_client, order_of_a):
    response = carrier_client.get("/api/v1/orders")

    assert response.status_code == 403
    assert response.json()["type"] == "permission_denied"


def test_it_refuses_missing_wrong_and_revoked_keys(anonymous_client, client_a):
    from accounts.services import api_key_revoke

    assert anonymous_client.get("/api/v1/orders").status_code == 401
    anonymous_client.credentials(HTTP_AUTHORIZATION="Bearer wb_test_nope")
    assert anonymous_client.get("/api/v1/orders").json()["type"] == "authentication_failed"
    anonymous_client.credentials(HTTP_AUTHORIZATION="Basic dXNlcjpwYXNz")
    assert anonymous_client.get("/api/v1/orders").status_code == 401

    api_key_revoke(api_key=client_a.api_key)
    assert client_a.get("/api/v1/orders").status_code == 401
