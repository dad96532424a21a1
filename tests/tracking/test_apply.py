"""carrier_facts_apply: illegal moves, the route status table, the on-time rate."""

import datetime
import uuid

import pytest
from django.utils import timezone

from carriers.models import Plan
from carriers.selectors import carrier_on_time_counts
from config.errors import Conflict
from orders.services import order_cancel
from routing.models import Route, RouteStatus
from routing.services import route_status_move
from tests.tracking.conftest import route_for
from tracking.facts import CarrierFact
from tracking.models import TrackingEvent
from tracking.services import carrier_facts_apply
from webhooks.models import Event

pytestmark = pytest.mark.django_db


def _fact(order, type="OrderDeliveryCompleted", at=None, **extra) -> CarrierFact:
    return CarrierFact(
        type=type,
        external_id=str(uuid.uuid4()),
        time_of_event=at or timezone.now(),
        order=order,
        **extra,
    )


def test_it_refuses_a_delivery_on_a_cancelled_order_and_keeps_the_fact(carrier, carried_order):
    order = carried_order()
    order_cancel(order=order, actor="test", reason="changed mind")

    [result] = carrier_facts_apply(carrier=carrier, facts=[_fact(order)])

    assert result.outcome == "refused"
    assert isinstance(result.error, Conflict)
    assert "cancelled" in result.error.detail
    assert TrackingEvent.objects.get().applied is False
    order.refresh_from_db()
    assert (order.status, order.delivered_at) == ("cancelled", None)


def test_a_route_moves_only_by_its_table(carrier, carried_order):
    route = route_for([carried_order()], carrier)

    with pytest.raises(Conflict):
        route_status_move(route=route, to=RouteStatus.COMPLETED)
    route_status_move(route=route, to=RouteStatus.DISPATCHED)
    route.refresh_from_db()
    assert route.status == RouteStatus.DISPATCHED


def test_the_on_time_rate_follows_the_deliveries_carriers_report(carrier, carried_order):
    on_time, late, undelivered = carried_order(), carried_order(), carried_order()
    promised = timezone.now() - datetime.timedelta(days=1)
    Plan.objects.filter(order__in=[on_time, late, undelivered], is_current=True).update(
        promised_delivery_to=promised
    )
    assert str(carrier.id) not in carrier_on_time_counts()

    carrier_facts_apply(
        carrier=carrier,
        facts=[
            _fact(on_time, at=promised - datetime.timedelta(hours=2)),
            _fact(late, at=promised + datetime.timedelta(hours=3)),
        ],
    )

    assert carrier_on_time_counts()[str(carrier.id)] == (1, 2)
    late.refresh_from_db()
    assert late.delivered_at == promised + datetime.timedelta(hours=3)


def test_the_last_collo_delivered_also_tells_subscribers_the_order_is_delivered(
    carrier, carried_order
):
    order = carried_order()
    collis = list(order.collis.all())
    assert len(collis) > 1
    facts = [_fact(order, "ColloDeliveryCompleted", collo=collo) for collo in collis]

    carrier_facts_apply(carrier=carrier, facts=facts[:-1])
    assert not Event.objects.filter(type="OrderDeliveryCompleted").exists()
    carrier_facts_apply(carrier=carrier, facts=facts[-1:])

    [event] = Event.objects.filter(type="OrderDeliveryCompleted")
    assert event.data["order"]["id"] == str(order.id)
    assert Event.objects.filter(type="ColloDeliveryCompleted").count() == len(collis)
    order.refresh_from_db()
    assert order.status == "delivered"


def test_a_batch_applies_its_facts_in_order_as_if_reported_one_by_one(carrier, carried_order):
    order = carried_order()
    collis = list(order.collis.all())
    at = timezone.now()
    facts = [_fact(order, "ColloPickupCompleted", collo=c, at=at) for c in collis]
    facts += [
        _fact(order, "ColloDeliveryCompleted", collo=c, at=at + datetime.timedelta(hours=1))
        for c in collis
    ]
    facts.append(facts[0])  # the same event id again: a repeat, within the batch

    results = carrier_facts_apply(carrier=carrier, facts=facts)

    assert [r.outcome for r in results] == ["applied"] * (2 * len(collis)) + ["duplicate"]
    assert results[-1].tracking_event_id == results[0].tracking_event_id
    order.refresh_from_db()
    assert order.status == "delivered"
    moves = [h.changes["status"] for h in order.history.order_by("at") if "status" in h.changes]
    assert moves[-3:] == [
        ["planned", "picked_up"],
        ["picked_up", "partially_delivered"],
        ["partially_delivered", "delivered"],
    ]
    assert Event.objects.filter(type="OrderDeliveryCompleted").count() == 1
    assert TrackingEvent.objects.filter(order=order).count() == 2 * len(collis)


def test_a_fact_refused_in_a_batch_is_rolled_back_alone(carrier, carried_order):
    order, other = carried_order(), carried_order()
    route = route_for([order], carrier)
    Route.objects.filter(id=route.id).update(status=RouteStatus.CANCELLED)  # as route_cancel
    route.refresh_from_db()
    at = timezone.now()

    results = carrier_facts_apply(
        carrier=carrier,
        facts=[
            _fact(order, "OrderPickupCompleted", at=at, route=route),  # its route is cancelled
            _fact(other, "OrderPickupCompleted", at=at),
            _fact(order, "OrderPickupCompleted", at=at + datetime.timedelta(minutes=1)),
        ],
    )

    assert [r.outcome for r in results] == ["refused", "applied", "applied"]
    order.refresh_from_db()
    other.refresh_from_db()
    assert (order.status, other.status) == ("picked_up", "picked_up")
    statuses = [h.changes["status"] for h in order.history.all() if "status" in h.changes]
    assert statuses.count(["planned", "picked_up"]) == 1
    refused = TrackingEvent.objects.get(id=results[0].tracking_event_id)
    assert refused.applied is False
