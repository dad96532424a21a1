import pytest

from tests.factories import order_payload


def plannable_payload(**overrides) -> dict:
    """An order any all-Denmark service can take: no time frames, no handling tags."""
    payload = order_payload(pickupTimeFrame=None, deliveryTimeFrame=None, **overrides)
    for collo in payload["collis"]:
        collo["tags"] = []
    return payload


@pytest.fixture
def create_order(client_a):
    def create(client=None, **overrides) -> dict:
        response = (client or client_a).post(
            "/api/v1/orders", plannable_payload(**overrides), format="json"
        )
        assert response.status_code == 201, response.json()
        return response.json()

    return create
