"""The planning sweeper queues only orders whose planning task is lost, and never floods the
broker: a thousand orders wait in a planning queue nothing consumes, the sweeper runs every
thirty seconds for a quarter of an hour, and the queue's Redis list stays short."""

from datetime import timedelta

import pytest
from django.db.models import DateTimeField, F

from carriers.services import planning_sweep
from orders.models import Order
from tests.factories import order_payload
from tests.redis_broker import redis_queues  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db

ORDERS = 1_000
SWEEP_EVERY = timedelta(seconds=30)
LEASE = timedelta(minutes=2)
# Up to 100 orders a task: the 10 tasks queued with the orders, then at most the sweeper's
# ceiling, however long the backlog lasts.
QUEUE_BOUND = 20


def _time_passes(step: timedelta) -> None:
    fields = [f.attname for f in Order._meta.concrete_fields if isinstance(f, DateTimeField)]
    Order.objects.update(**{name: F(name) - step for name in fields})


def _sweep(capture) -> int:
    with capture(execute=True):
        return planning_sweep()


def _queued_ids(queues, *, skip: int = 0) -> list[str]:
    return [i for args in queues.task_args("planning")[skip:] for i in args[0]]


def test_it_keeps_the_planning_queue_bounded_while_orders_wait(
    redis_queues,  # noqa: F811
    client_a,
    settings,
    django_capture_on_commit_callbacks,
):
    settings.PLANNING_QUEUE_LEASE = LEASE
    ids = _write_orders(client_a, django_capture_on_commit_callbacks)
    queued_with_the_orders = redis_queues.length("planning")
    assert len(ids) == ORDERS and queued_with_the_orders == ORDERS // 100

    lengths = []
    for _ in range(30):  # a quarter of an hour
        _time_passes(SWEEP_EVERY)
        _sweep(django_capture_on_commit_callbacks)
        lengths.append(redis_queues.length("planning"))

    assert max(lengths) <= QUEUE_BOUND, lengths
    assert lengths[-10:] == [lengths[-1]] * 10  # it stopped growing


def test_it_queues_again_every_order_whose_planning_task_is_really_lost(
    redis_queues,  # noqa: F811
    client_a,
    settings,
    django_capture_on_commit_callbacks,
):
    settings.PLANNING_QUEUE_LEASE = LEASE
    ids = _write_orders(client_a, django_capture_on_commit_callbacks)
    redis_queues.lose_everything()

    _time_passes(LEASE - SWEEP_EVERY)
    assert _sweep(django_capture_on_commit_callbacks) == 0  # their tasks may still come
    _time_passes(SWEEP_EVERY * 2)
    assert _sweep(django_capture_on_commit_callbacks) == ORDERS

    assert sorted(_queued_ids(redis_queues)) == sorted(ids)
    for _ in range(3):
        _time_passes(SWEEP_EVERY)
        assert _sweep(django_capture_on_commit_callbacks) == 0


def test_it_queues_at_the_next_sweep_the_orders_the_broker_refused(
    redis_queues,  # noqa: F811
    settings,
    django_capture_on_commit_callbacks,
    client_a,
):
    settings.PLANNING_QUEUE_LEASE = LEASE
    with redis_queues.down(), django_capture_on_commit_callbacks(execute=True):
        order = client_a.post("/api/v1/orders", order_payload(), format="json").json()
    assert redis_queues.length("planning") == 0

    assert _sweep(django_capture_on_commit_callbacks) == 1
    assert _queued_ids(redis_queues) == [order["id"]]


def _write_orders(client, capture) -> list[str]:
    """Orders written through the API: each asks for planning and queues it at commit."""
    for _ in range(ORDERS // 500):
        with capture(execute=True):
            response = client.post(
                "/api/v1/orders/bulk",
                {"orders": [order_payload() for _ in range(500)]},
                format="json",
            )
        assert response.status_code == 200
    return [str(i) for i in Order.objects.filter(needs_planning=True).values_list("id", flat=True)]
