"""End to end: a route optimisation job solved and cancelled by a real worker."""

import pytest
from rest_framework.test import APIClient

from accounts.services import api_key_create
from config.queues import LONG_KINDS, SHORT_KINDS
from routing import services
from routing.models import Depot, Gate, JobStatus, OptimizationJob, VehicleGroup
from tests.e2e.conftest import wait_for
from tests.factories import ShipperFactory
from tests.routing.conftest import DAY, routed_payload
from webhooks.services import subscription_create

pytestmark = pytest.mark.e2e


@pytest.fixture
def fleet():
    depot = Depot.objects.create(name="Hub", latitude=55.6645, longitude=12.4013)
    vans = VehicleGroup.objects.create(
        name="Van", depot=depot, vehicle_type="van", vehicles=3, max_stops=10
    )
    gate = Gate.objects.create(
        name="Gate 1", depot=depot, slots=[{"start": "07:00", "end": "08:00", "departures": 3}]
    )
    shipper = ShipperFactory()
    client = APIClient()
    client.credentials(
        HTTP_AUTHORIZATION=f"Bearer {api_key_create(shipper=shipper, mode='test').raw_key}"
    )
    for i in range(12):
        assert client.post("/api/v1/orders", routed_payload(i), format="json").status_code == 201
    return vans, gate


def _job(fleet, budget: int) -> OptimizationJob:
    vans, gate = fleet
    return services.job_create(
        name="Worker day",
        day=DAY,
        live_mode=False,
        vehicle_groups=[vans],
        gates=[gate],
        time_budget_s=budget,
        actor="test",
    )


def test_a_worker_solves_a_job_within_its_budget_and_reports_progress(worker_factory, fleet):
    worker_factory()
    job = _job(fleet, budget=4)

    seen = wait_for(
        lambda: (
            OptimizationJob.objects.filter(id=job.id, progress__gt=0, progress__lt=1).first()
            or OptimizationJob.objects.filter(id=job.id, status=JobStatus.SOLVED).first()
        ),
        timeout=60,
    )
    solved = wait_for(
        lambda: OptimizationJob.objects.filter(id=job.id, status=JobStatus.SOLVED).first(),
        timeout=60,
    )
    assert seen is not None
    assert sum(len(r["stops"]) for r in solved.solution["routes"]) == 12


def test_a_running_job_is_cancelled_within_seconds(worker_factory, fleet):
    worker_factory()
    job = _job(fleet, budget=120)
    wait_for(lambda: OptimizationJob.objects.filter(id=job.id, status=JobStatus.RUNNING).exists())

    services.job_cancel(job=job)

    cancelled = wait_for(
        lambda: OptimizationJob.objects.filter(id=job.id, status=JobStatus.CANCELLED).first(),
        timeout=30,
    )
    assert cancelled.finished_at is not None


def test_a_webhook_is_delivered_while_a_routing_job_is_solving(worker_factory, fleet, httpserver):
    worker_factory(kinds=LONG_KINDS)
    worker_factory(kinds=SHORT_KINDS)
    job = _job(fleet, budget=300)
    wait_for(lambda: OptimizationJob.objects.filter(id=job.id, status=JobStatus.RUNNING).exists())
    shipper = ShipperFactory()
    client = APIClient()
    client.credentials(
        HTTP_AUTHORIZATION=f"Bearer {api_key_create(shipper=shipper, mode='test').raw_key}"
    )
    subscription_create(
        shipper=shipper,
        live_mode=False,
        url=httpserver.url_for("/hooks"),
        event_types=["OrderCreated"],
    )
    httpserver.expect_request("/hooks").respond_with_data("ok")

    client.post("/api/v1/orders", routed_payload(99), format="json")

    wait_for(lambda: httpserver.log)
    # Delivered on its own queue while the job still holds the routing worker.
    assert OptimizationJob.objects.get(id=job.id).status == JobStatus.RUNNING
    services.job_cancel(job=job)
    wait_for(lambda: OptimizationJob.objects.filter(id=job.id, status=JobStatus.CANCELLED).exists())
