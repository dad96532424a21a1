from decimal import Decimal

import pytest

from finance.models import CostAddition, CostAdditionStatus
from orders.models import OrderHistory, OrderStatus
from tests.conftest import _client
from tests.finance.conftest import cost_addition_body, staff_api
from tests.tracking.conftest import route_for
from tests.tracking.pod_helpers import image_bytes, upload

pytestmark = pytest.mark.django_db


def _request(carrier_api, order, **overrides):
    response = carrier_api.post(
        "/api/v1/carrier/cost-additions",
        cost_addition_body(str(order.id), **overrides),
        format="json",
    )
    return response


def _asked(carrier_api, order, **overrides) -> dict:
    response = _request(carrier_api, order, **overrides)
    assert response.status_code == 201, response.json()
    return response.json()


def test_a_carrier_asks_and_reads_its_cost_addition_pending(carrier_api, carried_order):
    order = carried_order()

    asked = _asked(carrier_api, order)

    assert asked["status"] == "pending"
    assert asked["amount"] == {"amount": "45.00", "currency": "DKK"}
    assert asked["reasonCode"] == "waiting-time"
    assert asked["order"]["id"] == str(order.id)
    listed = carrier_api.get("/api/v1/carrier/cost-additions").json()["results"]
    assert [a["id"] for a in listed] == [asked["id"]]
    history = OrderHistory.objects.filter(order=order, action="cost_addition_requested")
    assert history.count() == 1


def test_it_is_idempotent_on_the_carriers_reference(carrier_api, carried_order):
    order = carried_order()
    first = _asked(carrier_api, order)

    again = _request(carrier_api, order)
    changed = _request(carrier_api, order, amount="99.00")

    assert again.status_code == 200
    assert again.json()["id"] == first["id"]
    assert changed.status_code == 409
    assert changed.json()["existingId"] == first["id"]
    assert CostAddition.objects.count() == 1


def test_it_takes_the_creator_order_id_and_refuses_an_order_not_carried(
    carrier_api, carried_order, client_b, other_carrier_api
):
    order = carried_order()

    by_ref = _request(carrier_api, order, orderId=order.creator_order_id, reference="R-2")
    not_ours = _request(other_carrier_api, order, reference="R-3")

    assert by_ref.status_code == 201, by_ref.json()
    assert not_ours.status_code == 404


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"reasonCode": "coffee"}, "reasonCode"),
        ({"amount": "0"}, "amount"),
        ({"amount": "1.234"}, "amount"),
        ({"currency": "EUR"}, "currency"),  # the order's price is in DKK: never mixed
        ({"currency": "dkk1"}, "currency"),
        ({"orderId": None}, "orderId"),
        ({"unknown": 1}, "unknown"),
    ],
)
def test_it_refuses_bad_input_naming_the_field(carrier_api, carried_order, overrides, field):
    order = carried_order()
    body = cost_addition_body(str(order.id), **overrides)
    if overrides.get("orderId", "") is None:
        del body["orderId"]

    response = carrier_api.post("/api/v1/carrier/cost-additions", body, format="json")

    assert response.status_code == 400, response.json()
    assert field in {e["field"] for e in response.json()["errors"]}


def test_a_route_the_carrier_drives_takes_a_cost_addition(carrier, carrier_api, carried_order):
    order = carried_order()
    route = route_for([order], carrier)

    response = carrier_api.post(
        "/api/v1/carrier/cost-additions",
        {
            "reference": "TOLL-1",
            "routeId": route.slug,
            "amount": "120.00",
            "currency": "DKK",
            "reasonCode": "toll",
        },
        format="json",
    )

    assert response.status_code == 201, response.json()
    assert response.json()["route"]["slug"] == route.slug
    assert response.json()["order"] is None


def test_evidence_images_are_checked_and_kept(carrier_api, carried_order):
    order = carried_order()
    asked = _asked(carrier_api, order)
    url = f"/api/v1/carrier/cost-additions/{asked['id']}/evidence"

    images = [upload("a.png", image_bytes()), upload("b.png", image_bytes())]
    stored = carrier_api.post(url, {"evidence": images}, format="multipart")
    lying = upload("c.png", b"not an image at all")
    refused = carrier_api.post(url, {"evidence": [lying]}, format="multipart")

    assert stored.status_code == 201, stored.json()
    assert [e["contentType"] for e in stored.json()["evidence"]] == ["image/png"] * 2
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["field"] == "evidence[0]"


def test_finance_approves_a_lower_amount_and_the_order_costs_more(
    carrier_api, carried_order, finance_api, client_a
):
    order = carried_order()
    asked = _asked(carrier_api, order)

    response = finance_api.post(
        f"/api/v1/finance/cost-additions/{asked['id']}/approve",
        {"amount": "30.00", "note": "Thirty minutes are billable."},
        format="json",
    )

    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "approved"
    assert response.json()["approvedAmount"] == {"amount": "30.00", "currency": "DKK"}
    assert response.json()["decidedBy"] == "user:fin"
    cost = {
        "planned": {"amount": "100.00", "currency": "DKK"},
        "additions": {"amount": "30.00", "currency": "DKK"},
        "current": {"amount": "130.00", "currency": "DKK"},
    }
    assert client_a.get(f"/api/v1/orders/{order.id}/plan").json()["cost"] == cost
    assert client_a.get(f"/api/v1/orders/{order.id}").json()["cost"] == cost
    assert client_a.get("/api/v1/orders").json()["results"][0]["cost"] == cost
    shipper_view = client_a.get("/api/v1/cost-additions").json()["results"]
    assert [a["orderCost"] for a in shipper_view] == [cost]
    entry = OrderHistory.objects.get(order=order, action="cost_addition_approved")
    assert entry.actor == "user:fin" and entry.changes["amount"] == "30.00"
    order.refresh_from_db()
    assert order.status == OrderStatus.PLANNED  # finance never moves an order


def test_approving_more_than_asked_is_a_400(carrier_api, carried_order, finance_api):
    asked = _asked(carrier_api, carried_order())

    response = finance_api.post(
        f"/api/v1/finance/cost-additions/{asked['id']}/approve", {"amount": "45.01"}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "amount"


def test_rejection_needs_a_reason_and_the_carrier_reads_it(
    carrier_api, carried_order, finance_api, client_a
):
    asked = _asked(carrier_api, carried_order())
    url = f"/api/v1/finance/cost-additions/{asked['id']}/reject"

    without = finance_api.post(url, {}, format="json")
    blank = finance_api.post(url, {"reason": "  "}, format="json")
    rejected = finance_api.post(url, {"reason": "No waiting time was booked."}, format="json")

    assert without.status_code == 400 and without.json()["errors"][0]["field"] == "reason"
    assert blank.status_code == 400 and blank.json()["errors"][0]["field"] == "reason"
    assert rejected.status_code == 200, rejected.json()
    [seen] = carrier_api.get("/api/v1/carrier/cost-additions").json()["results"]
    assert seen["status"] == "rejected"
    assert seen["decisionNote"] == "No waiting time was booked."
    # A rejected request never becomes the shipper's cost.
    assert client_a.get("/api/v1/cost-additions").json()["results"] == []


def test_a_decision_is_final(carrier_api, carried_order, finance_api):
    asked = _asked(carrier_api, carried_order())
    base = f"/api/v1/finance/cost-additions/{asked['id']}"
    assert finance_api.post(f"{base}/approve", {}, format="json").status_code == 200

    again = finance_api.post(f"{base}/approve", {}, format="json")
    reject = finance_api.post(f"{base}/reject", {"reason": "Changed my mind"}, format="json")

    assert again.status_code == 409
    assert reject.status_code == 409
    addition = CostAddition.objects.get(id=asked["id"])
    assert addition.status == CostAdditionStatus.APPROVED
    assert addition.approved_amount == Decimal("45.00")


def test_only_finance_approves_money(carrier_api, carried_order, dispatcher_api, client_a):
    asked = _asked(carrier_api, carried_order())
    url = f"/api/v1/finance/cost-additions/{asked['id']}/approve"

    as_dispatcher = dispatcher_api.post(url, {}, format="json")
    as_shipper = client_a.post(url, {}, format="json")
    as_carrier = carrier_api.post(url, {}, format="json")
    as_other_staff = staff_api("dispatcher", "another").post(url, {}, format="json")

    assert as_dispatcher.status_code == 403
    assert as_shipper.status_code in (401, 403)
    assert as_carrier.status_code in (401, 403)
    assert as_other_staff.status_code == 403
    assert CostAddition.objects.get(id=asked["id"]).status == CostAdditionStatus.PENDING


def test_a_shipper_sees_only_approved_additions_on_its_own_orders(
    carrier, carrier_api, carried_order, finance_api, client_a, client_b
):
    mine = _asked(carrier_api, carried_order(), reference="A-1")
    theirs = _asked(carrier_api, carried_order(client_b), reference="B-1")
    for asked in (mine, theirs):
        finance_api.post(f"/api/v1/finance/cost-additions/{asked['id']}/approve", {}, format="json")

    seen_a = [a["id"] for a in client_a.get("/api/v1/cost-additions").json()["results"]]
    seen_b = [a["id"] for a in client_b.get("/api/v1/cost-additions").json()["results"]]
    live = _client(shipper=client_a.api_key.shipper, mode="live")

    assert seen_a == [mine["id"]]
    assert seen_b == [theirs["id"]]
    assert live.get("/api/v1/cost-additions").json()["results"] == []
