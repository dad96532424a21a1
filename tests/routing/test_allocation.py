"""One allocation per order: a carrier plan or an own-fleet route, never both.

Approving a job releases the carrier booking of each order it routes; cancelling an order on
a route takes its stop off and re-times the route; a route with orders is cancelled through
``route_cancel``, never deleted; a cancelled order's plan is released.
"""

import pytest
from django.contrib.auth.models import User
from django.db.models import ProtectedError

from carriers.events import OrderPlannedV1
from carriers.models import CapacityLoad, Plan, PlanStatus
from carriers.services import orders_plan
from orders.models import Order, OrderHistory, OrderStatus
from routing import services
from routing.events import OrderRemovedFromRouteV1
from routing.models import OptimizationJob, Route, RouteStatus, Stop
from tests.factories import ServiceFactory
from tests.routing.conftest import routed_payload
from tests.routing.test_jobs import _create_job
from webhooks.catalogue import CATALOGUE
from webhooks.models import Event

pytestmark = pytest.mark.django_db


# Picked up the day before DAY, so a next-day carrier service can carry them too.
PICKUP = {"from": "2030-06-02T08:00:00+02:00", "to": "2030-06-02T18:00:00+02:00"}


def _orders(client, count: int) -> list[str]:
    ids = []
    for i in range(count):
        payload = {**routed_payload(i), "pickupTimeFrame": PICKUP}
        response = client.post("/api/v1/orders", payload, format="json")
        assert response.status_code == 201, response.json()
        ids.append(response.json()["id"])
    return ids


def _approved(dispatcher_api, vans, gate) -> OptimizationJob:
    job = _create_job(dispatcher_api, vans, gate)
    services.job_run(job_id=job["id"])
    response = dispatcher_api.post(f"/api/v1/routing/jobs/{job['id']}/approve")
    assert response.status_code == 200, response.json()
    return OptimizationJob.objects.get(id=job["id"])


def _manifest(carrier_client) -> set[str]:
    body = carrier_client.get("/api/v1/carrier/orders").json()
    return {entry["order"]["id"] for entry in body["results"]}


def _valid(event: Event) -> dict:
    model = CATALOGUE[event.type].versions[event.version].data_model
    assert model.model_validate(event.data).model_dump(mode="json", by_alias=True) == event.data
    return event.data


def test_approving_releases_each_routed_orders_carrier_booking(
    client_a, carrier, carrier_client, dispatcher_api, vans, gate
):
    service = ServiceFactory(carrier=carrier)
    ids = _orders(client_a, 4)
    orders_plan(order_ids=ids)
    assert _manifest(carrier_client) == set(ids)
    booked = Plan.objects.filter(order_id__in=ids, is_current=True)
    assert {p.status for p in booked} == {PlanStatus.PLANNED}
    load = CapacityLoad.objects.get(service=service)
    assert load.orders == 4

    _approved(dispatcher_api, vans, gate)

    routed = set(Stop.objects.values_list("order_id", flat=True))
    assert {str(i) for i in routed} == set(ids)
    # Off the manifest, capacity given back, the carrier plan superseded by the route.
    assert _manifest(carrier_client) == set()
    load.refresh_from_db()
    assert (load.orders, load.weight_kg) == (0, 0)
    assert not Plan.objects.filter(order_id__in=ids, capacity_held=True).exists()
    current = Plan.objects.filter(order_id__in=ids, is_current=True)
    assert {p.status for p in current} == {PlanStatus.ROUTED}
    assert all(p.price is None and p.carrier_id is None for p in current)
    # OrderPlanned names the route, not the carrier, in the published shape.
    for order_id in ids:
        stop = Stop.objects.select_related("route").get(order_id=order_id)
        planned = Event.objects.filter(type="OrderPlanned", entity_id=order_id).order_by(
            "date_time", "id"
        )
        data = OrderPlannedV1.model_validate(_valid(planned.last()))
        assert data.plan.route.slug == stop.route.slug
        assert data.plan.carrier is None and data.plan.price is None
        assert data.plan.policy == "own-fleet"


def test_an_order_no_service_could_take_shows_its_route_once_routed(
    client_a, dispatcher_api, vans, gate
):
    ServiceFactory(max_total_weight_kg=1)
    [order_id] = _orders(client_a, 1)
    orders_plan(order_ids=[order_id])
    assert client_a.get(f"/api/v1/orders/{order_id}/plan").json()["status"] == "unplanned"

    _approved(dispatcher_api, vans, gate)

    plan = client_a.get(f"/api/v1/orders/{order_id}/plan").json()
    assert plan["status"] == "routed"
    assert plan["plan"]["unplannedReasons"] == []
    assert plan["route"]["slug"].startswith("M")
    assert plan["stop"]["sequence"] >= 1


def test_cancelling_an_order_on_a_route_takes_its_stop_off_and_re_times_the_route(
    client_a, dispatcher_api, vans, gate
):
    ids = _orders(client_a, 6)
    _approved(dispatcher_api, vans, gate)
    stop = Stop.objects.select_related("route").order_by("route", "sequence").first()
    route = stop.route
    before = {s.order_id: s.eta for s in route.stops.all()}
    assert len(before) >= 2, "the test needs a route with more than one stop"
    order_id = str(stop.order_id)

    response = client_a.post(f"/api/v1/orders/{order_id}/cancel", {"reason": "r"}, format="json")

    assert response.status_code == 200, response.json()
    assert not Stop.objects.filter(order_id=order_id).exists()
    route.refresh_from_db()
    assert route.stops_count == len(before) - 1 == route.stops.count()
    assert route.first_stop_task_time >= 0 and route.duration > 0
    after = {s.order_id: s.eta for s in route.stops.all()}
    # The first stop went: nobody waits for it, so no later stop is due any later.
    assert all(after[key] <= before[key] for key in after)
    event = Event.objects.get(type="OrderRemovedFromRoute", entity_id=order_id)
    data = OrderRemovedFromRouteV1.model_validate(_valid(event))
    assert data.route.slug == route.slug and data.stopSequence == stop.sequence
    assert data.routeAfter.stopsCount == route.stops_count
    plan = client_a.get(f"/api/v1/orders/{order_id}/plan").json()
    assert plan["status"] == "released" and plan["route"] is None
    assert Order.objects.filter(id__in=ids, status=OrderStatus.ON_ROUTE).count() == 5


def test_a_removed_stop_leaves_no_gap_in_the_routes_numbers(client_a, dispatcher_api, vans, gate):
    _orders(client_a, 6)
    _approved(dispatcher_api, vans, gate)
    route = max(Route.objects.all(), key=lambda r: r.stops.count())
    before = list(route.stops.order_by("sequence").values_list("order_id", "sequence"))
    assert len(before) >= 3, "the test needs a route with a stop between two others"
    middle = before[1][0]

    response = client_a.post(f"/api/v1/orders/{middle}/cancel", {"reason": "r"}, format="json")

    assert response.status_code == 200, response.json()
    after = list(route.stops.order_by("sequence").values_list("order_id", "sequence"))
    # The same stops in the same order, numbered 1..n.
    assert [order for order, _ in after] == [order for order, _ in before if order != middle]
    assert [number for _, number in after] == list(range(1, len(before)))


def test_a_route_with_orders_cannot_be_deleted(client_a, dispatcher_api, vans, gate):
    _orders(client_a, 2)
    _approved(dispatcher_api, vans, gate)
    route = Route.objects.first()
    admin_user = User.objects.create_superuser("root", password="pw")
    browser = dispatcher_api.__class__()
    browser.force_login(admin_user)

    page = browser.get(f"/admin/routing/route/{route.id}/delete/")

    assert page.status_code == 403
    changelist = browser.get("/admin/routing/route/")
    assert b"delete_selected" not in changelist.content
    with pytest.raises(ProtectedError):
        route.delete()
    assert Stop.objects.filter(route=route).exists()


def test_route_cancel_puts_its_orders_back_to_planning(client_a, dispatcher_api, vans, gate):
    ids = _orders(client_a, 3)
    _approved(dispatcher_api, vans, gate)
    route = Route.objects.first()
    on_it = [str(i) for i in route.stops.values_list("order_id", flat=True)]

    services.route_cancel(route=route, actor="user:dispatch", reason="Van broke down")

    route.refresh_from_db()
    assert route.status == RouteStatus.CANCELLED and route.stops_count == 0
    assert not route.stops.exists()
    for order in Order.objects.filter(id__in=on_it):
        assert order.status == OrderStatus.UNPLANNED and order.needs_planning
        assert OrderHistory.objects.filter(order=order, action="unrouted").exists()
        plan = Plan.objects.get(order=order, is_current=True)
        assert plan.status == PlanStatus.RELEASED and "Van broke down" in plan.reason
    removed = Event.objects.filter(type="OrderRemovedFromRoute")
    assert sorted(e.entity_id for e in removed) == sorted(on_it)
    for event in removed:
        _valid(event)
    # Cancelling again changes nothing; the orders can be routed by the next job.
    services.route_cancel(route=route, actor="user:dispatch", reason="again")
    assert Event.objects.filter(type="OrderRemovedFromRoute").count() == len(on_it)
    assert set(on_it) <= set(ids)


def test_the_admin_cancels_a_route_for_who_may(client_a, dispatcher_api, vans, gate):
    _orders(client_a, 2)
    _approved(dispatcher_api, vans, gate)
    route = Route.objects.first()
    admin_user = User.objects.create_superuser("root", password="pw")
    browser = dispatcher_api.__class__()
    browser.force_login(admin_user)

    browser.post(
        "/admin/routing/route/", {"action": "cancel_routes", "_selected_action": [route.id]}
    )

    route.refresh_from_db()
    assert route.status == RouteStatus.CANCELLED


def test_a_cancelled_orders_plan_is_released_with_no_price(
    client_a, carrier, carrier_client, create_planned_order
):
    order_id = create_planned_order(carrier)
    assert _manifest(carrier_client) == {order_id}

    client_a.post(f"/api/v1/orders/{order_id}/cancel", {"reason": "r"}, format="json")

    plan = client_a.get(f"/api/v1/orders/{order_id}/plan").json()
    assert plan["status"] == "released"
    assert plan["plan"]["price"] is None and plan["plan"]["carrier"] is None
    assert plan["history"][0]["status"] == "planned"
    assert _manifest(carrier_client) == set()
    assert CapacityLoad.objects.get().orders == 0
    admin_user = User.objects.create_superuser("root", password="pw")
    browser = carrier_client.__class__()
    browser.force_login(admin_user)
    page = browser.get(f"/admin/orders/order/{order_id}/change/").content.decode()
    assert "Released" in page and "carried by nobody" in page


@pytest.fixture
def create_planned_order(client_a):
    def create(carrier) -> str:
        ServiceFactory(carrier=carrier)
        [order_id] = _orders(client_a, 1)
        orders_plan(order_ids=[order_id])
        assert Order.objects.get(id=order_id).status == OrderStatus.PLANNED
        return order_id

    return create
