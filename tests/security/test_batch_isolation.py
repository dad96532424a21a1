"""Batch work isolates each item: planning, webhook deliveries, POS fetches and route
optimisation each meet one row that makes its work raise, among good ones. The good rows are
done, the bad one is recorded as failed with its error, and the sweepers do not start it again
and again.

Every poison is written through the ORM, past whatever the API refuses today: stored data
from before a check existed, or mended by hand, must not stop the work of everyone else.
"""

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import Group, User
from django.db import connection
from django.utils import timezone

from carriers.models import Plan, PlanningFailure
from carriers.services import PLANNING_RETRY_SCHEDULE, orders_plan, planning_sweep
from orders import pos
from orders.models import Collo, Order, PosFetch, PosFetchStatus, PosIntegration
from routing import services as routing
from routing.models import Depot, Gate, JobStatus, OptimizationJob, VehicleGroup
from tests.carriers.conftest import plannable_payload
from tests.factories import ServiceFactory, order_payload
from webhooks import sending
from webhooks import services as webhooks
from webhooks.models import Delivery, DeliveryStatus, Event, Subscription

pytestmark = pytest.mark.django_db

# A pickup time in the last hour of the datetime range: read in any zone east of UTC (the
# carriers' Copenhagen), it lies past year 9999, and planning overflows.
OVERFLOWING_PICKUP = datetime(9999, 12, 31, 23, 30, tzinfo=UTC)


def _create(client, payload: dict) -> dict:
    response = client.post("/api/v1/orders", payload, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def _dispatcher(client):
    user = User.objects.create_user("dispatch", password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name="dispatcher"))
    client.force_login(user)
    return client


@pytest.fixture
def eager_tasks(settings):
    from config.celery_app import app

    settings.CELERY_TASK_ALWAYS_EAGER = True
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


# --- planning -----------------------------------------------------------------------------


def test_it_plans_the_rest_of_a_batch_around_an_order_whose_planning_raises(client_a, client):
    ServiceFactory()
    first, poisoned, last = (_create(client_a, plannable_payload()) for _ in range(3))
    Order.objects.filter(id=poisoned["id"]).update(pickup_from=OVERFLOWING_PICKUP)

    assert orders_plan(order_ids=[first["id"], poisoned["id"], last["id"]]) == 2

    for good in (first, last):
        assert Order.objects.get(id=good["id"]).status == "planned"
    order = Order.objects.get(id=poisoned["id"])
    assert order.status == "created" and order.needs_planning is True
    assert not Plan.objects.filter(order=order).exists()
    failure = PlanningFailure.objects.get(order=order)
    assert failure.error.startswith("OverflowError:")
    assert failure.attempts == 1 and failure.retry_at > failure.failed_at

    dispatcher = _dispatcher(client)
    queue = dispatcher.get("/admin/carriers/unplannedorder/").content.decode()
    assert f"planning failed: {failure.error}" in queue
    page = dispatcher.get(f"/admin/orders/order/{order.id}/change/").content.decode()
    assert "Planning failed 1×" in page and "OverflowError" in page


def test_it_keeps_the_sweeper_off_a_failing_order_until_its_retry_and_then_gives_up(
    client_a, eager_tasks
):
    ServiceFactory()
    poisoned, waiting = (_create(client_a, plannable_payload()) for _ in range(2))
    Order.objects.filter(id=poisoned["id"]).update(pickup_from=OVERFLOWING_PICKUP)
    long_ago = timezone.now() - timedelta(hours=1)
    Order.objects.update(updated_at=long_ago, planning_queued_at=long_ago)
    orders_plan(order_ids=[poisoned["id"]])

    assert planning_sweep() == 1  # the waiting order, not the one that just failed
    assert Order.objects.get(id=waiting["id"]).status == "planned"
    assert PlanningFailure.objects.get(order_id=poisoned["id"]).attempts == 1

    # Each retry comes after a longer wait, and after the last the sweeper stops.
    for attempt in range(2, len(PLANNING_RETRY_SCHEDULE) + 2):
        failure = PlanningFailure.objects.get(order_id=poisoned["id"])
        assert planning_sweep(now=failure.retry_at - timedelta(seconds=1)) == 0
        assert planning_sweep(now=failure.retry_at + timedelta(seconds=1)) == 1
        assert PlanningFailure.objects.get(order_id=poisoned["id"]).attempts == attempt
    failure = PlanningFailure.objects.get(order_id=poisoned["id"])
    assert failure.retry_at is None
    assert planning_sweep(now=timezone.now() + timedelta(days=365)) == 0

    # A change to the order is worth a fresh try; once it plans, the failure is gone.
    Order.objects.filter(id=poisoned["id"]).update(
        pickup_from=None, updated_at=failure.failed_at + timedelta(seconds=1)
    )
    assert planning_sweep(now=failure.failed_at + timedelta(minutes=5)) == 1
    assert Order.objects.get(id=poisoned["id"]).status == "planned"
    assert not PlanningFailure.objects.exists()


# --- webhook deliveries -------------------------------------------------------------------


@pytest.fixture
def subscription_a(shipper_a, httpserver):
    return webhooks.subscription_create(
        shipper=shipper_a, live_mode=False, url=httpserver.url_for("/hooks"), event_types=["*"]
    )


def _three_deliveries(client_a) -> list[Delivery]:
    for _ in range(3):
        _create(client_a, order_payload())
    return list(Delivery.objects.order_by("created_at"))


def _send(deliveries: list[Delivery]) -> int:
    return sending.deliveries_send(delivery_ids=[str(d.id) for d in deliveries])


def _assert_sent_around(poisoned: Delivery, deliveries: list[Delivery], httpserver) -> Delivery:
    """The two good deliveries arrived once each; the poisoned one is dead, logged, left."""
    good = [d for d in deliveries if d.id != poisoned.id]
    statuses = dict(Delivery.objects.values_list("id", "status"))
    assert [statuses[d.id] for d in good] == [DeliveryStatus.DELIVERED] * 2
    poisoned.refresh_from_db()
    assert poisoned.status == DeliveryStatus.DEAD and poisoned.attempts == 1
    assert poisoned.attempt_log.get().error == poisoned.last_error

    # Neither the sweeper nor a second run of the batch takes it up again.
    Delivery.objects.update(next_attempt_at=timezone.now() - timedelta(hours=1))
    assert sending.deliveries_sweep() == 0
    assert _send(deliveries) == 0
    assert len(httpserver.log) == 2
    return poisoned


def test_it_sends_a_batch_around_a_delivery_whose_payload_cannot_be_serialised(
    client_a, subscription_a, httpserver
):
    if connection.vendor == "postgresql":
        pytest.skip("jsonb refuses a lone surrogate: PostgreSQL cannot hold this poison")
    httpserver.expect_request("/hooks").respond_with_data("ok")
    deliveries = _three_deliveries(client_a)
    poisoned = deliveries[1]
    # A lone surrogate is stored fine as JSON but is no UTF-8: the body cannot be encoded.
    Event.objects.filter(id=poisoned.event_id).update(data={"note": "\ud800"})

    assert _send(deliveries) == 2

    poisoned = _assert_sent_around(poisoned, deliveries, httpserver)
    assert "UnicodeEncodeError" in poisoned.last_error


def test_it_sends_a_batch_around_a_delivery_that_cannot_be_signed(
    client_a, shipper_a, subscription_a, httpserver
):
    httpserver.expect_request("/hooks").respond_with_data("ok")
    httpserver.expect_request("/other").respond_with_data("ok")
    other = webhooks.subscription_create(
        shipper=shipper_a,
        live_mode=False,
        url=httpserver.url_for("/other"),
        event_types=["OrderCreated"],
    )
    # Another hand-mended row: a secret that is no base64 cannot key the signature.
    Subscription.objects.filter(id=other.id).update(secret="whsec_not*base64!")
    for _ in range(2):
        _create(client_a, order_payload())
    deliveries = list(Delivery.objects.order_by("created_at"))
    poisoned = [d for d in deliveries if d.subscription_id == other.id]
    assert len(deliveries) == 4 and len(poisoned) == 2

    assert _send(deliveries) == 2

    for delivery in poisoned:
        delivery.refresh_from_db()
        assert delivery.status == DeliveryStatus.DEAD
        assert delivery.last_error.startswith("Building the message failed:")
    assert all(
        d.status == DeliveryStatus.DELIVERED
        for d in Delivery.objects.filter(subscription=subscription_a)
    )
    assert sending.deliveries_sweep() == 0
    assert {request.path for request, _ in httpserver.log} == {"/hooks"}


# --- POS fetches --------------------------------------------------------------------------


@pytest.fixture
def integration_a(shipper_a, httpserver):
    return PosIntegration.objects.create(
        shipper=shipper_a, live_mode=False, base_url=httpserver.url_for("/pos")
    )


def _fetch(client, entity_id: str) -> str:
    response = client.post(
        "/api/v1/pos/events", {"eventType": "OrderUpdated", "entityId": entity_id}, format="json"
    )
    assert response.status_code == 202, response.json()
    return response.json()["id"]


def _nested_too_deep(httpserver) -> None:
    # Valid JSON, nested past what any parser recurses into.
    depth = 200_000
    httpserver.expect_request("/pos/orders/POS-BAD").respond_with_data(
        "[" * depth + "]" * depth, content_type="application/json"
    )


def _event_type_since_withdrawn(httpserver) -> None:
    # A fetch accepted for an event type a later release no longer supports.
    PosFetch.objects.filter(entity_id="POS-BAD").update(event_type="OrderArchived")


def test_it_reads_a_pos_answer_nested_past_any_parser_as_not_json(
    client_a, integration_a, httpserver
):
    fetch_id = _fetch(client_a, "POS-BAD")
    _nested_too_deep(httpserver)

    fetch = pos.pos_fetch_run(fetch_id=fetch_id)

    assert fetch.status == PosFetchStatus.RETRYING
    assert "not JSON" in fetch.last_error and fetch.order is None


@pytest.mark.parametrize("poison, error", [(_event_type_since_withdrawn, "KeyError")])
def test_it_fails_a_pos_fetch_whose_response_cannot_be_applied_and_applies_the_rest(
    client_a, integration_a, httpserver, poison, error
):
    for ref in ("POS-GOOD-1", "POS-GOOD-2"):
        httpserver.expect_request(f"/pos/orders/{ref}").respond_with_json(
            order_payload(creatorOrderId=ref)
        )
    ids = [_fetch(client_a, ref) for ref in ("POS-GOOD-1", "POS-BAD", "POS-GOOD-2")]
    poison(httpserver)

    for fetch_id in ids:
        pos.pos_fetch_run(fetch_id=fetch_id)

    good_1, bad, good_2 = (PosFetch.objects.get(id=i) for i in ids)
    assert good_1.status == good_2.status == PosFetchStatus.DONE
    assert Order.objects.filter(creator_order_id__in=["POS-GOOD-1", "POS-GOOD-2"]).count() == 2
    assert bad.status == PosFetchStatus.FAILED
    assert bad.last_error.startswith(error) and bad.order is None

    # Long after any lease, the sweeper and a second run leave it alone.
    PosFetch.objects.update(
        updated_at=timezone.now() - timedelta(hours=1),
        next_attempt_at=timezone.now() - timedelta(hours=1),
    )
    assert pos.pos_fetch_sweep() == 0
    assert pos.pos_fetch_run(fetch_id=ids[1]) is None
    assert PosFetch.objects.get(id=ids[1]).attempts == 1


def test_it_stops_taking_up_a_pos_fetch_whose_worker_keeps_dying(client_a, integration_a):
    fetch_id = _fetch(client_a, "POS-KILLER")
    # Each attempt claimed it and its worker died mid-fetch (killed, out of memory).
    PosFetch.objects.filter(id=fetch_id).update(
        status=PosFetchStatus.RUNNING,
        attempts=pos.POS_MAX_ATTEMPTS,
        updated_at=timezone.now() - pos.POS_FETCH_LEASE - timedelta(minutes=1),
    )

    assert pos.pos_fetch_sweep() == 0
    assert pos.pos_fetch_run(fetch_id=fetch_id) is None

    fetch = PosFetch.objects.get(id=fetch_id)
    assert fetch.status == PosFetchStatus.FAILED
    assert "worker stopped" in fetch.outcome


# --- route optimisation -------------------------------------------------------------------

DAY = datetime(2030, 6, 3).date()  # a Monday


@pytest.fixture
def fleet(db):
    depot = Depot.objects.create(name="Glostrup hub", latitude=55.6645, longitude=12.4013)
    vans = VehicleGroup.objects.create(
        name="Van", depot=depot, vehicle_type="van", vehicles=2, max_stops=20
    )
    gate = Gate.objects.create(
        name="Gate 1", depot=depot, slots=[{"start": "07:00", "end": "08:00", "departures": 2}]
    )
    return vans, gate


def _routable(client, index: int) -> dict:
    payload = order_payload(
        pickupTimeFrame=None,
        deliveryTimeFrame={"from": f"{DAY}T09:00:00+02:00", "to": f"{DAY}T15:00:00+02:00"},
    )
    payload["deliveryLocation"]["position"] = {
        "latitude": 55.64 + index * 0.01,
        "longitude": 12.45 + index * 0.02,
    }
    for collo in payload["collis"]:
        collo["tags"] = []
    return _create(client, payload)


def _job(fleet, orders: list[dict]) -> OptimizationJob:
    vans, gate = fleet
    return routing.job_create(
        name="Monday",
        day=DAY,
        live_mode=False,
        vehicle_groups=[vans],
        gates=[gate],
        orders=list(Order.objects.filter(id__in=[o["id"] for o in orders])),
        time_budget_s=5,
        job_settings={"maxIterations": 200},
        actor="test",
    )


POISONED_ORDERS = {
    "no position": lambda order_id: Order.objects.filter(id=order_id).update(
        delivery_latitude=None
    ),
    "position off the map": lambda order_id: Order.objects.filter(id=order_id).update(
        delivery_latitude=float("nan")
    ),
    "negative weight": lambda order_id: Collo.objects.filter(order_id=order_id).update(weight=-5),
}


@pytest.mark.parametrize("poison", POISONED_ORDERS.values(), ids=POISONED_ORDERS.keys())
def test_it_routes_a_job_around_an_order_whose_data_breaks_the_problem(
    client_a, client, fleet, poison
):
    orders = [_routable(client_a, i) for i in range(4)]
    poisoned = orders[1]
    job = _job(fleet, orders)
    poison(poisoned["id"])

    routing.job_run(job_id=str(job.id))

    job.refresh_from_db()
    assert job.status == JobStatus.SOLVED
    routed = {s["visit"] for r in job.solution["routes"] for s in r["stops"]}
    assert routed == {o["id"] for o in orders} - {poisoned["id"]}
    assert job.solution["unscheduled"] == {poisoned["id"]: ["invalid-order-data"]}
    assert poisoned["creatorOrderId"] in job.error and "ValueError" in job.error
    assert routing.jobs_sweep(now=timezone.now() + timedelta(days=1)) == 0
    page = _dispatcher(client).get(f"/admin/routing/optimizationjob/{job.id}/change/")
    assert page.status_code == 200
    assert "invalid-order-data" in page.content.decode()


def test_it_routes_an_order_whose_delivery_frame_opened_long_before_the_day(client_a, fleet):
    orders = [_routable(client_a, i) for i in range(2)]
    job = _job(fleet, orders)
    Order.objects.filter(id=orders[0]["id"]).update(delivery_from=datetime(1, 1, 1, tzinfo=UTC))

    routing.job_run(job_id=str(job.id))

    job.refresh_from_db()
    assert job.status == JobStatus.SOLVED and job.solution["unscheduled"] == {}


def test_it_fails_a_job_whose_run_raises_instead_of_leaving_it_running(client_a, fleet):
    job = _job(fleet, [_routable(client_a, 0)])
    _, gate = fleet
    Gate.objects.filter(id=gate.id).update(slots=[{"start": "7am", "end": "8am", "departures": 1}])

    routing.job_run(job_id=str(job.id))

    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and job.error.startswith("ValueError")
    assert routing.jobs_sweep(now=timezone.now() + timedelta(days=1)) == 0


def test_it_stops_starting_a_job_whose_worker_keeps_dying(client_a, fleet):
    job = _job(fleet, [_routable(client_a, 0)])
    later = timezone.now() + timedelta(hours=1)
    # The worker was killed mid-solve each time it took the job up.
    for _ in range(routing.MAX_JOB_ATTEMPTS):
        assert routing.jobs_sweep(now=later) == 1
        claimed = routing._claim(job.id)
        assert claimed is not None and claimed.status == JobStatus.RUNNING

    assert routing.jobs_sweep(now=later) == 0

    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert f"stopped {routing.MAX_JOB_ATTEMPTS} times" in job.error
