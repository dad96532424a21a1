from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, User
from rest_framework.test import APIClient

from carriers.models import Plan
from carriers.services import orders_plan
from orders.models import Order
from tests.carriers.conftest import plannable_payload
from tests.conftest import _client
from tests.factories import CarrierFactory, ServiceFactory

PRICE = Decimal("100.00")


def staff_api(group: str, username: str | None = None) -> APIClient:
    user = User.objects.create_user(username or group, password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def finance_api(db) -> APIClient:
    """A staff user of the finance group, on the staff API."""
    return staff_api("finance", "fin")


@pytest.fixture
def carrier_api(carrier):
    ServiceFactory(carrier=carrier)
    return _client(carrier=carrier)


@pytest.fixture
def other_carrier(db):
    carrier = CarrierFactory(slug="other-carrier")
    return carrier


@pytest.fixture
def other_carrier_api(other_carrier):
    return _client(carrier=other_carrier)


def order_on(carrier, client, *, price: Decimal = PRICE) -> Order:
    """An order of ``client``'s shipper, planned on ``carrier``'s only service at ``price``."""
    response = client.post("/api/v1/orders", plannable_payload(), format="json")
    assert response.status_code == 201, response.json()
    order = Order.objects.get(id=response.json()["id"])
    orders_plan(order_ids=[order.id])
    plan = Plan.objects.get(order=order, is_current=True)
    assert plan.carrier_id == carrier.id, "the order must be on the carrier"
    # A round price, so the expected amounts in these tests read plainly.
    Plan.objects.filter(id=plan.id).update(price=price, currency="DKK")
    order.refresh_from_db()
    return order


@pytest.fixture
def carried_order(carrier_api, carrier, client_a):
    def make(client=None, price: Decimal = PRICE) -> Order:
        return order_on(carrier, client or client_a, price=price)

    return make


def cost_addition_body(order_id: str, **overrides) -> dict:
    return {
        "reference": f"CA-{order_id[:8]}",
        "orderId": order_id,
        "amount": "45.00",
        "currency": "DKK",
        "reasonCode": "waiting-time",
        "reason": "Waited 40 minutes at the gate.",
        **overrides,
    }


def invoice_body(lines: list[dict], **overrides) -> dict:
    return {
        "number": "INV-1001",
        "issueDate": "2030-07-01",
        "period": {"from": "2030-06-01", "to": "2030-06-30"},
        "currency": "DKK",
        "lines": lines,
        **overrides,
    }


def order_line(order: Order, amount: str = "100.00", **overrides) -> dict:
    return {"kind": "order", "reference": str(order.id), "amount": amount, **overrides}
