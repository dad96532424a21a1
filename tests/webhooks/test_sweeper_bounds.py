"""The delivery sweeper queues only what is lost, and never floods the broker.

Thousands of deliveries wait for a subscription that cannot take them, the sweeper runs every
ten seconds for ten minutes, and nothing consumes the queue: the worst backlog there is. Time
passes by moving every timestamp of the deliveries back; the queue is measured where it lives,
as the length of its Redis list.
"""

from datetime import timedelta

import pytest
from django.db import transaction
from django.db.models import DateTimeField, F
from django.utils import timezone

from tests.redis_broker import redis_queues  # noqa: F401 - the fixture
from webhooks import sending
from webhooks.catalogue import CATALOGUE
from webhooks.models import Delivery, DeliveryStatus, Event, Subscription
from webhooks.services import PendingEvent, events_append

pytestmark = pytest.mark.django_db

PENDING = 3_000
SWEEP_EVERY = timedelta(seconds=10)
LEASE = timedelta(seconds=60)
# Every message holds up to 100 deliveries: the fan-out's 30 messages, then at most the
# sweeper's ceiling, however long the backlog lasts.
QUEUE_BOUND = 100


def _time_passes(step: timedelta) -> None:
    """Every stored time of the deliveries moves back by ``step``: as if ``step`` went by."""
    fields = [f.attname for f in Delivery._meta.concrete_fields if isinstance(f, DateTimeField)]
    Delivery.objects.update(**{name: F(name) - step for name in fields})


def _sweep(capture) -> int:
    with capture(execute=True):
        return sending.deliveries_sweep()


def _queued_ids(queues, *, skip: int = 0) -> list[str]:
    """The delivery ids of the waiting messages, less the ``skip`` oldest messages."""
    return [i for args in queues.task_args("deliveries")[skip:] for i in args[0]]


@pytest.fixture
def refused(shipper_a) -> Subscription:
    # Saved before the guard refused its address: every delivery to it waits or fails.
    return Subscription.objects.create(
        shipper=shipper_a,
        live_mode=False,
        url="https://10.20.30.40/hooks",
        event_types=["*"],
        secret="whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    )


def _fan_out(shipper, count: int, capture) -> list[str]:
    """``count`` events written as services write them: stored, fanned out to deliveries and
    queued after commit."""
    version = CATALOGUE["OrderCreated"].latest_version
    now = timezone.now()
    events = [
        PendingEvent(
            Event(
                type="OrderCreated",
                version=version,
                live_mode=False,
                date_time=now,
                data={"n": n},
                shipper=shipper,
                entity_type="ORDER",
                entity_id=str(n),
                root_entity_type="ORDER",
                root_entity_id=str(n),
            ),
            payloads={},
        )
        for n in range(count)
    ]
    with capture(execute=True), transaction.atomic():
        events_append(events=events)
    return [str(i) for i in Delivery.objects.values_list("id", flat=True)]


def test_it_keeps_the_queue_bounded_while_thousands_of_deliveries_wait(
    redis_queues,  # noqa: F811
    refused,
    shipper_a,
    settings,
    django_capture_on_commit_callbacks,
):
    settings.WEBHOOK_QUEUE_LEASE = LEASE
    ids = _fan_out(shipper_a, PENDING, django_capture_on_commit_callbacks)
    fanned_out = redis_queues.length("deliveries")
    assert len(ids) == PENDING and fanned_out == PENDING // 100
    # Some fail for good along the way: those never come back.
    dead = ids[:50]
    Delivery.objects.filter(id__in=dead).update(status=DeliveryStatus.DEAD, queued_at=None)

    lengths = []
    for _ in range(60):  # ten minutes
        _time_passes(SWEEP_EVERY)
        _sweep(django_capture_on_commit_callbacks)
        lengths.append(redis_queues.length("deliveries"))

    assert max(lengths) <= QUEUE_BOUND, lengths
    assert lengths[-10:] == [lengths[-1]] * 10  # it stopped growing
    assert not set(dead) & set(_queued_ids(redis_queues, skip=fanned_out))


def test_it_queues_again_every_delivery_whose_message_is_really_lost(
    redis_queues,  # noqa: F811
    refused,
    shipper_a,
    settings,
    django_capture_on_commit_callbacks,
):
    settings.WEBHOOK_QUEUE_LEASE = LEASE
    ids = _fan_out(shipper_a, PENDING, django_capture_on_commit_callbacks)
    redis_queues.lose_everything()

    # Within the lease their messages might still be on their way: nothing is queued.
    _time_passes(LEASE - SWEEP_EVERY)
    assert _sweep(django_capture_on_commit_callbacks) == 0
    _time_passes(SWEEP_EVERY * 2)
    assert _sweep(django_capture_on_commit_callbacks) == PENDING

    assert sorted(_queued_ids(redis_queues)) == sorted(ids)
    # Queued again now: the next sweeps leave them to their new messages.
    for _ in range(3):
        _time_passes(SWEEP_EVERY)
        assert _sweep(django_capture_on_commit_callbacks) == 0


def test_it_queues_a_delivery_whose_worker_vanished_once_and_not_at_every_sweep(
    redis_queues,  # noqa: F811
    refused,
    shipper_a,
    settings,
    django_capture_on_commit_callbacks,
):
    settings.WEBHOOK_QUEUE_LEASE = LEASE
    settings.WEBHOOK_CLAIM_LEASE = timedelta(seconds=30)
    ids = _fan_out(shipper_a, 100, django_capture_on_commit_callbacks)
    redis_queues.lose_everything()
    # A worker took them (their message is gone) and was killed before it settled them.
    assert len(sending.deliveries_claim(delivery_ids=ids)) == 100

    queued = []
    for _ in range(8):  # past the claim's lease, short of the new message's
        _time_passes(SWEEP_EVERY)
        queued.append(_sweep(django_capture_on_commit_callbacks))

    assert sum(queued) == 100, queued
    assert sorted(_queued_ids(redis_queues)) == sorted(ids)
    assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.PENDING}


def test_it_queues_at_the_next_sweep_what_the_broker_refused(
    redis_queues,  # noqa: F811
    refused,
    shipper_a,
    settings,
    django_capture_on_commit_callbacks,
):
    settings.WEBHOOK_QUEUE_LEASE = LEASE
    with redis_queues.down():
        ids = _fan_out(shipper_a, 200, django_capture_on_commit_callbacks)
    assert redis_queues.length("deliveries") == 0

    # No lease to wait out: the broker said no, so no message is on its way.
    assert _sweep(django_capture_on_commit_callbacks) == 200
    assert sorted(_queued_ids(redis_queues)) == sorted(ids)
