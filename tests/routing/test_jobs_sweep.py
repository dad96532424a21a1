"""The routing sweeper leaves a queued job to its message while it waits behind a long one,
and queues it again only once its lease runs out, not at every sweep."""

from datetime import date, timedelta

import pytest
from django.db.models import DateTimeField, F

from routing import services
from routing.models import Depot, Gate, OptimizationJob, VehicleGroup
from tests.redis_broker import redis_queues  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db

SWEEP_EVERY = timedelta(minutes=1)
LEASE = timedelta(minutes=10)


def _time_passes(step: timedelta) -> None:
    fields = [
        f.attname for f in OptimizationJob._meta.concrete_fields if isinstance(f, DateTimeField)
    ]
    OptimizationJob.objects.update(**{name: F(name) - step for name in fields})


@pytest.fixture
def queued_job(django_capture_on_commit_callbacks) -> OptimizationJob:
    depot = Depot.objects.create(name="Glostrup hub", latitude=55.6645, longitude=12.4013)
    vans = VehicleGroup.objects.create(
        name="Van", depot=depot, vehicle_type="van", vehicles=2, max_stops=20
    )
    gate = Gate.objects.create(
        name="Gate 1", depot=depot, slots=[{"start": "07:00", "end": "08:00", "departures": 2}]
    )

    def create() -> OptimizationJob:
        with django_capture_on_commit_callbacks(execute=True):
            return services.job_create(
                name="Monday",
                day=date(2030, 6, 3),
                live_mode=False,
                vehicle_groups=[vans],
                gates=[gate],
                orders=[],
                time_budget_s=30,
                actor="test",
            )

    return create


def test_it_queues_a_waiting_job_again_only_when_its_lease_runs_out(
    redis_queues,  # noqa: F811
    queued_job,
    settings,
):
    settings.ROUTING_JOB_QUEUE_LEASE = LEASE
    job = queued_job()
    assert redis_queues.length("routing") == 1

    lengths = []
    for _ in range(60):  # an hour behind a long solve
        _time_passes(SWEEP_EVERY)
        services.jobs_sweep()
        lengths.append(redis_queues.length("routing"))

    # Once per lease: six more messages in the hour, not one a minute.
    assert lengths[-1] <= 1 + 60 // 10, lengths
    assert {a[0] for a in redis_queues.task_args("routing")} == {str(job.id)}
