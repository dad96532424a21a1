from decimal import Decimal

import pytest

from carriers.events import OrderPlannedV1, OrderPlanningFailedV1
from carriers.models import CapacityLoad, Plan, PlanStatus
from carriers.services import orders_plan, plan_override, planning_sweep
from config.api.errors import Conflict, InvalidInput
from orders.models import Order, OrderHistory
from tests.factories import CarrierFactory, ServiceFactory
from webhooks.models import Event

pytestmark = pytest.mark.django_db


def _plan(order_id) -> Plan:
    return Plan.objects.get(order_id=order_id, is_current=True)


def test_it_plans_a_new_order_on_the_cheapest_service(create_order):
    ServiceFactory(rate={"per_collo": Decimal("9")})
    cheap = ServiceFactory(rate={"per_collo": Decimal("1")})
    order = create_order()

    assert orders_plan(order_ids=[order["id"]]) == 1

    plan = _plan(order["id"])
    assert plan.service == cheap
    assert plan.status == PlanStatus.PLANNED
    assert plan.decided_by == "waybill:planner"
    assert len(plan.options) == 2 and plan.rejections == []
    assert Order.objects.get(id=order["id"]).status == "planned"
    assert OrderHistory.objects.filter(order_id=order["id"], action="planned").exists()


def test_it_emits_order_planned_in_the_published_shape(create_order):
    ServiceFactory()
    order = create_order()

    orders_plan(order_ids=[order["id"]])

    event = Event.objects.get(type="OrderPlanned", entity_id=order["id"])
    data = OrderPlannedV1.model_validate(event.data)
    assert data.plan.id == str(_plan(order["id"]).id)
    assert data.plan.optionsConsidered == 1
    assert event.carrier_id == _plan(order["id"]).carrier_id


def test_it_leaves_an_order_nothing_can_carry_unplanned_with_reasons(create_order):
    ServiceFactory(max_total_weight_kg=Decimal("1"))
    order = create_order()

    orders_plan(order_ids=[order["id"]])

    plan = _plan(order["id"])
    assert plan.status == PlanStatus.UNPLANNED
    assert plan.unplanned_reasons == ["over-weight"]
    assert Order.objects.get(id=order["id"]).status == "unplanned"
    event = Event.objects.get(type="OrderPlanningFailed", entity_id=order["id"])
    payload = OrderPlanningFailedV1.model_validate(event.data)
    assert payload.model_dump(mode="json", by_alias=True) == event.data
    assert payload.reasons == ["over-weight"]
    assert [(r.service.code, r.reasons) for r in payload.ruledOut] == [
        (plan.rejections[0]["service"]["code"], ["over-weight"])
    ]
    assert "kg" in payload.ruledOut[0].explanation
    # Route optimisation's event, with its own vocabulary, is not carrier selection's to send.
    assert not Event.objects.filter(type="RouteOptimizationOrderUnscheduled").exists()


def test_an_order_with_no_services_at_all_is_unplanned_for_that_reason(create_order):
    order = create_order()

    orders_plan(order_ids=[order["id"]])

    assert _plan(order["id"]).unplanned_reasons == ["no-active-services"]


def test_planning_again_without_a_change_decides_nothing_new(create_order):
    ServiceFactory()
    order = create_order()
    orders_plan(order_ids=[order["id"]])
    Order.objects.filter(id=order["id"]).update(needs_planning=True)

    assert orders_plan(order_ids=[order["id"]]) == 0

    assert Plan.objects.filter(order_id=order["id"]).count() == 1
    assert Event.objects.filter(type="OrderPlanned").count() == 1
    assert CapacityLoad.objects.get().orders == 1


def test_it_plans_again_when_the_delivery_moves_and_releases_the_old_booking(
    create_order, client_a
):
    local = ServiceFactory()
    local.areas.update(kind="range", country_code="DK", postcode_from="1000", postcode_to="2999")
    national = ServiceFactory(rate={"per_collo": Decimal("20")})
    order = create_order()
    orders_plan(order_ids=[order["id"]])
    assert _plan(order["id"]).service == local

    moved = {**order["deliveryLocation"]}
    moved["address"] = {**moved["address"], "postalCode": "8000", "secondary": "8000 Aarhus C"}
    response = client_a.patch(
        f"/api/v1/orders/{order['id']}", {"deliveryLocation": moved}, format="json"
    )
    assert response.status_code == 200
    assert Order.objects.get(id=order["id"]).needs_planning is True
    orders_plan(order_ids=[order["id"]])

    assert _plan(order["id"]).service == national
    assert Plan.objects.filter(order_id=order["id"], is_current=False).count() == 1
    loads = {load.service_id: load.orders for load in CapacityLoad.objects.all()}
    assert loads == {local.id: 0, national.id: 1}


def test_a_contact_change_does_not_ask_for_planning(create_order, client_a):
    ServiceFactory()
    order = create_order()
    orders_plan(order_ids=[order["id"]])

    response = client_a.patch(
        f"/api/v1/orders/{order['id']}", {"notes": "Ring twice"}, format="json"
    )

    assert response.status_code == 200
    assert Order.objects.get(id=order["id"]).needs_planning is False


def test_cancelling_gives_the_capacity_back(create_order, client_a):
    ServiceFactory(daily_capacity_orders=1)
    first = create_order()
    orders_plan(order_ids=[first["id"]])

    client_a.post(f"/api/v1/orders/{first['id']}/cancel", {"reason": "x"}, format="json")
    second = create_order()
    orders_plan(order_ids=[second["id"]])

    assert CapacityLoad.objects.get().orders == 1
    assert _plan(second["id"]).status == PlanStatus.PLANNED


def test_a_full_day_sends_the_order_to_the_next_best_service(create_order):
    cheap = ServiceFactory(daily_capacity_orders=1, rate={"per_collo": Decimal("1")})
    dear = ServiceFactory(rate={"per_collo": Decimal("9")})
    first, second = create_order(), create_order()

    orders_plan(order_ids=[first["id"], second["id"]])

    assert _plan(first["id"]).service == cheap
    assert _plan(second["id"]).service == dear
    assert any(
        r["service"]["code"] == cheap.code and r["reasons"][0]["code"] == "capacity-full"
        for r in _plan(second["id"]).rejections
    )


def test_a_dispatcher_override_needs_a_reason_and_is_kept_in_the_history(create_order):
    ServiceFactory(rate={"per_collo": Decimal("1")})
    dear = ServiceFactory(rate={"per_collo": Decimal("9")})
    order = create_order()
    orders_plan(order_ids=[order["id"]])
    instance = Order.objects.get(id=order["id"])

    with pytest.raises(InvalidInput):
        plan_override(order=instance, service=dear, reason=" ", actor="user:ops")
    plan = plan_override(order=instance, service=dear, reason="Customer asked", actor="user:ops")

    assert plan.overridden and plan.service == dear and plan.decided_by == "user:ops"
    history = OrderHistory.objects.filter(order=instance, action="overridden").get()
    assert "Customer asked" in history.note
    assert Event.objects.filter(type="OrderPlanned", entity_id=order["id"]).count() == 2


def test_an_override_stands_when_the_order_changes_while_its_service_still_fits(
    create_order, client_a
):
    ServiceFactory(rate={"per_collo": Decimal("1")})
    dear = ServiceFactory(rate={"per_collo": Decimal("9")})
    order = create_order()
    orders_plan(order_ids=[order["id"]])
    plan_override(
        order=Order.objects.get(id=order["id"]), service=dear, reason="VIP", actor="user:ops"
    )

    client_a.patch(f"/api/v1/orders/{order['id']}", {"tags": ["Rush"]}, format="json")
    orders_plan(order_ids=[order["id"]])

    assert _plan(order["id"]).service == dear


def test_an_override_may_waive_the_area_but_not_a_missing_rate_card(create_order):
    elsewhere = ServiceFactory()
    elsewhere.areas.update(country_code="SE")
    unpriced = ServiceFactory(rate=False)
    order = Order.objects.get(id=create_order()["id"])

    plan = plan_override(order=order, service=elsewhere, reason="Agreed by phone", actor="u")
    with pytest.raises(Conflict):
        plan_override(order=order, service=unpriced, reason="Try", actor="u")

    assert plan.options[0]["waived"][0]["code"] == "outside-area"
    assert "waived: outside-area" in plan.reason


def test_an_order_past_pickup_is_not_planned_again(create_order):
    ServiceFactory()
    order = create_order()
    Order.objects.filter(id=order["id"]).update(status="picked_up", needs_planning=True)

    assert orders_plan(order_ids=[order["id"]]) == 0
    assert not Plan.objects.exists()
    assert Order.objects.get(id=order["id"]).needs_planning is False


def test_the_sweeper_finds_orders_whose_planning_task_was_lost(create_order, settings):
    ServiceFactory()
    fresh = create_order()
    waiting = create_order()
    long_ago = Order.objects.get(id=waiting["id"]).updated_at.replace(year=2020)
    Order.objects.filter(id=waiting["id"]).update(updated_at=long_ago, planning_queued_at=long_ago)
    settings.CELERY_TASK_ALWAYS_EAGER = True
    from config.celery_app import app

    app.conf.task_always_eager = True
    try:
        assert planning_sweep() == 1
    finally:
        app.conf.task_always_eager = False

    assert Order.objects.get(id=waiting["id"]).status == "planned"
    assert Order.objects.get(id=fresh["id"]).status == "created"


def test_balanced_prefers_the_carrier_that_delivers_on_time(create_order, shipper_a):
    shipper_a.planning_policy = "balanced"
    shipper_a.save()
    late_carrier, punctual = CarrierFactory(slug="aaa-late"), CarrierFactory(slug="zzz-punctual")
    late = ServiceFactory(carrier=late_carrier)
    ServiceFactory(carrier=punctual)
    # Thirty deliveries of the late carrier's in the last month, all a day late.
    history = [create_order() for _ in range(30)]
    orders_plan(order_ids=[o["id"] for o in history])
    Plan.objects.filter(order_id__in=[o["id"] for o in history]).update(
        carrier=late_carrier, service=late
    )
    from datetime import timedelta

    from django.utils import timezone

    now = timezone.now()
    Plan.objects.filter(order_id__in=[o["id"] for o in history]).update(
        promised_delivery_to=now - timedelta(days=3)
    )
    Order.objects.filter(id__in=[o["id"] for o in history]).update(
        status="delivered", delivered_at=now - timedelta(days=2)
    )

    order = create_order()
    orders_plan(order_ids=[order["id"]])

    assert _plan(order["id"]).carrier == punctual
