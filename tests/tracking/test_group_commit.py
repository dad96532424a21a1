"""Single carrier events posted at the same time in one process are applied in one
transaction, each answered as if it had come alone."""

import uuid

import pytest
from django.db import connections

from config.errors import WaybillError
from config.groupcommit import GroupCommit
from tests.test_groupcommit import Gated, run
from tracking import services
from tracking.models import TrackingEvent
from tracking.services import FactOutcome


def _event(order_id, type="OrderPickupCompleted", id=None) -> dict:
    return {
        "id": id or str(uuid.uuid4()),
        "type": type,
        "orderId": str(order_id),
        "timeOfEvent": "2030-06-03T12:00:00+02:00",
    }


class _Posted(tuple):
    # One thread's (carrier, live_mode, item), named by its place in the test.
    def __new__(cls, name: str, *posted):
        self = super().__new__(cls, posted)
        self.name = name
        return self

    def __str__(self) -> str:
        return self.name


@pytest.mark.django_db(transaction=True)
def test_events_posted_while_a_group_is_applied_go_in_one_transaction_each_its_own_answer(
    carrier, carried_order
):
    first, second, third = carried_order(), carried_order(), carried_order()
    gated = Gated(services._single_events_apply)

    def apply_closing(posted):
        try:
            return gated(posted)
        finally:
            connections.close_all()  # this thread's, before the test flushes the tables

    group_commit = GroupCommit(apply_closing, key=services._single_events.key, max_items=9)
    b = _event(second.id)
    posted = [
        _event(first.id),
        b,
        {**b},  # its repeat, in the same group
        _event(uuid.uuid4()),  # an order nobody carries
        _event(third.id, type="OrderDeliveryCompleted"),
    ]

    names = ["a", "b", "repeat", "stray", "e"]
    outcomes = run(
        group_commit,
        gated,
        *[_Posted(n, carrier, False, p) for p, n in zip(posted, names, strict=True)],
    )

    assert [len(items) for _, items in gated.calls] == [1, 4]
    a, b, repeat, stray, e = (outcomes[name] for name in names)
    assert (a.outcome, b.outcome, e.outcome) == (FactOutcome.APPLIED,) * 3
    assert repeat.outcome == FactOutcome.DUPLICATE
    assert repeat.tracking_event_id == b.tracking_event_id
    assert isinstance(stray, WaybillError) and stray.status_code == 404
    assert TrackingEvent.objects.count() == 3
    for order, status in ((first, "picked_up"), (second, "picked_up"), (third, "delivered")):
        order.refresh_from_db()
        assert order.status == status
