"""The POS fetch sweeper queues only fetches whose message is lost: fetches waiting in a POS
fetch queue nothing consumes are not queued again at every sweep."""

from datetime import timedelta

import pytest
from django.db.models import DateTimeField, F

from orders import pos
from orders.models import PosFetch, PosFetchStatus, PosIntegration
from tests.redis_broker import redis_queues  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db

FETCHES = 200
SWEEP_EVERY = timedelta(seconds=30)
LEASE = timedelta(minutes=2)


def _time_passes(step: timedelta) -> None:
    fields = [f.attname for f in PosFetch._meta.concrete_fields if isinstance(f, DateTimeField)]
    PosFetch.objects.update(**{name: F(name) - step for name in fields})


def _sweep(capture) -> int:
    with capture(execute=True):
        return pos.pos_fetch_sweep()


@pytest.fixture
def accepted(shipper_a, httpserver, django_capture_on_commit_callbacks):
    """Accept ``count`` thin POS events, each queueing its fetch at commit."""
    PosIntegration.objects.create(
        shipper=shipper_a, live_mode=False, base_url=httpserver.url_for("/pos")
    )

    def accept(count: int) -> list[str]:
        with django_capture_on_commit_callbacks(execute=True):
            fetches = [
                pos.pos_event_accept(
                    shipper=shipper_a,
                    live_mode=False,
                    event_type="OrderUpdated",
                    entity_id=f"POS-{n}",
                )
                for n in range(count)
            ]
        return [str(f.id) for f in fetches]

    return accept


def test_it_leaves_waiting_fetches_to_their_messages_until_the_lease_runs_out(
    redis_queues,  # noqa: F811
    accepted,
    settings,
    django_capture_on_commit_callbacks,
):
    settings.POS_FETCH_QUEUE_LEASE = LEASE
    ids = accepted(FETCHES)
    assert redis_queues.length("pos-fetches") == FETCHES

    swept = []
    for _ in range(3):  # a minute and a half, within the lease
        _time_passes(SWEEP_EVERY)
        swept.append(_sweep(django_capture_on_commit_callbacks))

    assert swept == [0, 0, 0]
    assert redis_queues.length("pos-fetches") == FETCHES

    # Past the lease, with nothing taken: the messages are lost, each fetch is queued once.
    redis_queues.lose_everything()
    _time_passes(SWEEP_EVERY * 2)
    assert _sweep(django_capture_on_commit_callbacks) == FETCHES
    assert sorted(a[0] for a in redis_queues.task_args("pos-fetches")) == sorted(ids)
    _time_passes(SWEEP_EVERY)
    assert _sweep(django_capture_on_commit_callbacks) == 0


def test_it_never_queues_a_done_or_failed_fetch_again(
    redis_queues,  # noqa: F811
    accepted,
    settings,
    django_capture_on_commit_callbacks,
):
    settings.POS_FETCH_QUEUE_LEASE = LEASE
    done, failed = accepted(2)
    PosFetch.objects.filter(id=done).update(status=PosFetchStatus.DONE)
    PosFetch.objects.filter(id=failed).update(status=PosFetchStatus.FAILED)
    redis_queues.lose_everything()

    _time_passes(timedelta(days=1))

    assert _sweep(django_capture_on_commit_callbacks) == 0
    assert redis_queues.length("pos-fetches") == 0
