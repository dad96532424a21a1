"""Carrier events posted at the same time: orders named by reference are locked after those
named by Waybill id, so two requests may wait on each other; one is answered a Conflict."""

import threading
import uuid

import pytest
from django.db import connection, connections
from django.utils import timezone

from config.errors import Conflict
from tracking import intake
from tracking.models import TrackingEvent
from tracking.services import carrier_events_take


def _arrival(reference: str) -> dict:
    return {
        "id": str(uuid.uuid4()),
        "type": "OrderPickupArrived",
        "orderId": reference,
        "timeOfEvent": timezone.now().isoformat(),
    }


@pytest.mark.django_db(transaction=True)
def test_two_requests_locking_orders_in_opposite_orders_end_in_one_conflict(
    carrier, carried_order, monkeypatch
):
    if connection.vendor != "postgresql":
        pytest.skip("row locks are PostgreSQL's")
    first, second = carried_order(), carried_order()
    both_locked = threading.Barrier(2, timeout=30)
    resolve = intake.intake_items_resolve

    def resolve_once_both_hold_their_orders(*args, **kwargs):
        both_locked.wait()  # each request holds the order it named by Waybill id
        return resolve(*args, **kwargs)

    monkeypatch.setattr(intake, "intake_items_resolve", resolve_once_both_hold_their_orders)
    outcomes: list[str] = []

    def post(items: list[dict]) -> None:
        try:
            carrier_events_take(carrier=carrier, live_mode=False, items=items)
            outcomes.append("taken")
        except Conflict as exc:
            outcomes.append(f"conflict: {exc.detail}")
        except Exception as exc:  # noqa: BLE001  collected and asserted below
            outcomes.append(repr(exc))
        finally:
            connections.close_all()

    requests = [
        [_arrival(str(first.id)), _arrival(second.creator_order_id)],
        [_arrival(str(second.id)), _arrival(first.creator_order_id)],
    ]
    threads = [threading.Thread(target=post, args=(items,)) for items in requests]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(outcomes) == [
        "conflict: Another request was changing the same orders; try again.",
        "taken",
    ]
    assert TrackingEvent.objects.count() == 2  # the taken request's, nothing of the other
