import json
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, User

from carriers.models import Plan
from carriers.services import orders_plan
from orders.models import Order
from tests.carriers.conftest import plannable_payload
from tests.factories import ServiceFactory

pytestmark = pytest.mark.django_db


def _staff(client, group: str):
    user = User.objects.create_user(group, password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    client.force_login(user)
    return client


@pytest.fixture
def dispatcher(client):
    return _staff(client, "dispatcher")


def test_the_dispatcher_manages_carriers_services_areas_and_rate_cards(dispatcher):
    service = ServiceFactory()

    for url in (
        "/admin/carriers/carrier/",
        f"/admin/carriers/carrier/{service.carrier_id}/change/",
        "/admin/carriers/service/",
        f"/admin/carriers/service/{service.id}/change/",
        "/admin/carriers/plan/",
        "/admin/carriers/capacityload/",
        "/admin/carriers/unplannedorder/",
    ):
        assert dispatcher.get(url).status_code == 200, url


def test_the_quote_tool_shows_every_option_and_rejection(dispatcher, shipper_a):
    ServiceFactory(name="Cheap bike", rate={"per_collo": Decimal("1")})
    ServiceFactory(name="Tiny van", max_collis=1)

    response = dispatcher.post(
        "/admin/carriers/service/quote/",
        {"shipper": shipper_a.id, "policy": "cheapest", "order": json.dumps(plannable_payload())},
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert "Cheap bike" in page and "too-many-collis" in page
    assert not Plan.objects.exists()


def test_the_quote_tool_names_the_bad_field(dispatcher, shipper_a):
    payload = plannable_payload()
    payload["collis"][0]["weight"] = "-3"

    response = dispatcher.post(
        "/admin/carriers/service/quote/",
        {"shipper": shipper_a.id, "policy": "cheapest", "order": json.dumps(payload)},
    )

    assert "collis[0].weight" in response.content.decode()


def test_the_order_page_explains_the_plan_and_the_override_changes_it(dispatcher, create_order):
    ServiceFactory(name="Cheap bike", rate={"per_collo": Decimal("1")})
    van = ServiceFactory(name="Big van", rate={"per_collo": Decimal("9")})
    order = create_order()
    orders_plan(order_ids=[order["id"]])

    page = dispatcher.get(f"/admin/orders/order/{order['id']}/change/").content.decode()
    assert "Cheap bike" in page and "lowest price" in page

    url = f"/admin/carriers/plan/override/{order['id']}/"
    assert "This field is required" in dispatcher.post(url, {"service": van.id}).content.decode()
    response = dispatcher.post(url, {"service": van.id, "reason": "Needs a tail lift"})

    assert response.status_code == 302
    plan = Plan.objects.get(order_id=order["id"], is_current=True)
    assert plan.service == van and plan.overridden
    assert "Needs a tail lift" in plan.reason


def test_finance_may_not_override(client, create_order):
    finance = _staff(client, "finance")
    order = create_order()

    assert finance.get(f"/admin/carriers/plan/override/{order['id']}/").status_code == 403


def test_the_unplanned_queue_lists_reasons_and_plans_again(dispatcher, create_order):
    service = ServiceFactory(max_collis=1)
    order = create_order()
    orders_plan(order_ids=[order["id"]])

    page = dispatcher.get("/admin/carriers/unplannedorder/").content.decode()
    assert order["creatorOrderId"] in page and "too-many-collis" in page

    service.max_collis = 5
    service.save()
    dispatcher.post(
        "/admin/carriers/unplannedorder/",
        {"action": "plan_again", "_selected_action": [order["id"]]},
    )

    assert Order.objects.get(id=order["id"]).status == "planned"
