import pytest

from orders.models import Order
from routing import services
from routing.models import JobStatus, OptimizationJob, Route, Stop
from tests.routing.conftest import DAY, routed_payload
from webhooks.models import Event
from webhooks.payloads import (
    OrderAddedToRouteV2,
    RouteOptimizationJobApprovedV1,
    RouteOptimizationOrderUnscheduledV1,
)

pytestmark = pytest.mark.django_db

FAST = {"maxIterations": 300}


def _orders(client, count: int, **overrides) -> list[dict]:
    created = []
    for i in range(count):
        response = client.post("/api/v1/orders", routed_payload(i, **overrides), format="json")
        assert response.status_code == 201, response.json()
        created.append(response.json())
    return created


def _create_job(dispatcher_api, vans, gate, **extra) -> dict:
    body = {
        "name": "Monday Copenhagen",
        "date": DAY.isoformat(),
        "vehicleGroups": [str(vans.id)],
        "gates": [str(gate.id)],
        "timeBudgetS": 5,
        "settings": FAST,
        **extra,
    }
    response = dispatcher_api.post("/api/v1/routing/jobs", body, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def test_a_job_takes_the_days_orders_solves_and_shows_its_routes(
    client_a, dispatcher_api, vans, gate
):
    orders = _orders(client_a, 6)
    job = _create_job(dispatcher_api, vans, gate)
    assert job["status"] == "queued" and job["ordersInScope"] == 6

    services.job_run(job_id=job["id"])

    body = dispatcher_api.get(f"/api/v1/routing/jobs/{job['id']}").json()
    assert body["status"] == "solved" and body["progress"] == 1
    stops = [s["orderId"] for r in body["routes"] for s in r["stops"]]
    assert sorted(stops) == sorted(o["id"] for o in orders)
    assert body["meta"]["routesCount"] == len(body["routes"]) >= 1
    assert body["meta"]["shipmentsCount"] == 6 and body["meta"]["unscheduledTasks"] == 0


def test_approving_creates_routes_and_stops_and_emits_the_seed_events(
    client_a, dispatcher_api, vans, gate
):
    orders = _orders(client_a, 5)
    frozen = _orders(client_a, 1, tags=["Temperature:Frozen"])[0]
    job = _create_job(dispatcher_api, vans, gate)
    services.job_run(job_id=job["id"])

    response = dispatcher_api.post(f"/api/v1/routing/jobs/{job['id']}/approve")

    assert response.status_code == 200, response.json()
    routes = list(Route.objects.all())
    assert routes and routes[0].slug.startswith(f"M{response.json()['number']}-")
    assert Stop.objects.count() == 5
    assert set(
        Order.objects.filter(id__in=[o["id"] for o in orders]).values_list("status", flat=True)
    ) == {"on_route"}
    approved = Event.objects.get(type="RouteOptimizationJobApproved")
    payload = RouteOptimizationJobApprovedV1.model_validate(approved.data)
    assert payload.meta.routesCount == len(routes)
    assert payload.meta.unscheduledTasks == 1
    added = Event.objects.filter(type="OrderAddedToRoute")
    assert added.count() == 5
    for event in added:
        OrderAddedToRouteV2.model_validate(event.data)
    unscheduled = Event.objects.get(type="RouteOptimizationOrderUnscheduled")
    data = RouteOptimizationOrderUnscheduledV1.model_validate(unscheduled.data)
    assert data.order.id == frozen["id"]
    assert data.reasons == ["no-routes-can-handle-tag"]


def test_approving_twice_is_refused_and_an_approved_job_does_not_run_again(
    client_a, dispatcher_api, vans, gate
):
    _orders(client_a, 2)
    job = _create_job(dispatcher_api, vans, gate)
    services.job_run(job_id=job["id"])
    assert dispatcher_api.post(f"/api/v1/routing/jobs/{job['id']}/approve").status_code == 200

    again = dispatcher_api.post(f"/api/v1/routing/jobs/{job['id']}/approve")

    assert again.status_code == 409
    with pytest.raises(Exception, match="approved"):
        services.job_rerun(job=OptimizationJob.objects.get(id=job["id"]))
    assert Event.objects.filter(type="RouteOptimizationJobApproved").count() == 1


def test_a_rerun_replaces_an_unapproved_solution(client_a, dispatcher_api, vans, gate):
    _orders(client_a, 3)
    job = _create_job(dispatcher_api, vans, gate)
    services.job_run(job_id=job["id"])
    first = OptimizationJob.objects.get(id=job["id"]).solution

    services.job_rerun(job=OptimizationJob.objects.get(id=job["id"]))
    assert OptimizationJob.objects.get(id=job["id"]).solution == {}
    services.job_run(job_id=job["id"])

    # Same job, same seed, same iterations: the same plan.
    assert OptimizationJob.objects.get(id=job["id"]).solution["routes"] == first["routes"]


def test_cancelling_a_queued_job_stops_it_before_it_runs(client_a, dispatcher_api, vans, gate):
    _orders(client_a, 2)
    job = _create_job(dispatcher_api, vans, gate)

    response = dispatcher_api.post(f"/api/v1/routing/jobs/{job['id']}/cancel")
    services.job_run(job_id=job["id"])

    assert response.json()["status"] == "cancelled"
    assert OptimizationJob.objects.get(id=job["id"]).status == JobStatus.CANCELLED


def test_a_cancel_while_running_stops_the_solver(client_a, dispatcher_api, vans, gate):
    _orders(client_a, 3)
    job = _create_job(dispatcher_api, vans, gate, timeBudgetS=60, settings={})
    OptimizationJob.objects.filter(id=job["id"]).update(cancel_requested=True)

    services.job_run(job_id=job["id"])

    stored = OptimizationJob.objects.get(id=job["id"])
    assert stored.status == JobStatus.CANCELLED
    assert stored.progress < 1


def test_shippers_see_their_stops_in_full_and_others_only_counted(
    client_a, client_b, dispatcher_api, vans, gate
):
    mine = _orders(client_a, 2)
    theirs = _orders(client_b, 2)
    job = _create_job(dispatcher_api, vans, gate)
    services.job_run(job_id=job["id"])
    dispatcher_api.post(f"/api/v1/routing/jobs/{job['id']}/approve")
    route = Stop.objects.get(order_id=mine[0]["id"]).route

    listed = client_a.get("/api/v1/routes").json()["results"]
    body = client_a.get(f"/api/v1/routes/{route.id}").json()

    assert str(route.id) in [r["id"] for r in listed]
    own = {s["order"]["id"] for s in body["stops"]}
    assert own <= {o["id"] for o in mine}
    assert body["otherStops"] == route.stops.count() - len(own)
    assert not {o["id"] for o in theirs} & own
    assert theirs[0]["creatorOrderId"] not in str(body)
    plan = client_a.get(f"/api/v1/orders/{mine[0]['id']}/plan").json()
    assert plan["route"]["slug"] == route.slug
    assert plan["stop"]["eta"]
    on_route = route.stops.exclude(order_id=mine[0]["id"])
    assert (
        plan["sharedWith"]["otherOrders"]
        == on_route.exclude(order__shipper=mine_shipper(mine)).count()
    )
    assert set(plan["sharedWith"]["orders"]) <= {o["creatorOrderId"] for o in mine}


def test_a_route_without_the_shippers_orders_is_not_found(
    client_a, client_b, dispatcher_api, vans, gate
):
    _orders(client_a, 2)
    job = _create_job(dispatcher_api, vans, gate)
    services.job_run(job_id=job["id"])
    dispatcher_api.post(f"/api/v1/routing/jobs/{job['id']}/approve")
    route = Route.objects.first()

    assert client_b.get(f"/api/v1/routes/{route.id}").status_code == 404
    assert client_b.get("/api/v1/routes").json()["results"] == []


def test_bad_job_input_is_a_400_naming_each_field(dispatcher_api, vans, gate):
    response = dispatcher_api.post(
        "/api/v1/routing/jobs",
        {
            "name": 7,
            "date": "2030-02-30",
            "vehicleGroups": ["not-a-uuid"],
            "gates": [str(gate.id)],
            "timeBudgetS": "30",
            "colour": "red",
        },
        format="json",
    )

    assert response.status_code == 400
    fields = {e["field"] for e in response.json()["errors"]}
    assert {"name", "date", "vehicleGroups[0]", "timeBudgetS", "colour"} <= fields


def test_an_unknown_vehicle_group_is_named(dispatcher_api, gate):
    response = dispatcher_api.post(
        "/api/v1/routing/jobs",
        {
            "name": "x",
            "date": DAY.isoformat(),
            "vehicleGroups": ["00000000-0000-0000-0000-000000000000"],
            "gates": [str(gate.id)],
        },
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "vehicleGroups"


def test_the_staff_api_is_not_for_api_keys(client_a):
    assert client_a.post("/api/v1/routing/jobs", {}, format="json").status_code in (401, 403)


def mine_shipper(orders):
    return Order.objects.get(id=orders[0]["id"]).shipper
