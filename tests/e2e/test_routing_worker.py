"""End to end: a route optimisation job solved and cancelled by a real worker."""

import pytest
from rest_framework.test import APIClient

from accounts.services import api_key_create
from routing import services
from routing.models import Depot, Gate, JobStatus, OptimizationJob, VehicleGroup
from tests.e2e.conftest import wait_for
from tests.factories import ShipperFactory
from tests.routing.conftest import DAY, routed_payload

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
    assert (solved.finished_at - solved.started_at).total_seconds() < 15


def test_a_running_job_is_cancelled_within_seconds(worker_factory, fleet):
    worker_factory()
    job = _job(fleet, budget=120)
    wait_for(lambda: OptimizationJob.objects.filter(id=job.id, status=JobStatus.RUNNING).exists())

    services.job_cancel(job=job)

    cancelled = wait_for(
        lambda: OptimizationJob.objects.filter(id=job.id, status=JobStatus.CANCELLED).first(),
        timeout=30,
    )
    assert (cancelled.finished_at - cancelled.started_at).total_seconds() < 20
