"""One time convention (``config.times``): every time the API and the events show carries the
UTC offset of its place, never UTC for a place that is not in UTC.

The world here has four places in four zones whose offsets differ from each other, from UTC
and from Copenhagen's: the orders are picked up in New York and delivered in Chicago, the
depot is in Tokyo and the carrier in Kolkata. One scenario makes every document and fires every
event type that has a builder; the walk then checks every ISO datetime in all of them.
"""

from __future__ import annotations

import datetime
import json
import re
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction

from carriers.services import orders_plan
from orders.geocoding import order_geocode
from orders.models import PICKED_UP_OR_LATER, Order, OrderStatus
from orders.services import order_mark_gone_from_pos, order_status_move
from routing import services as routing_services
from routing.models import Depot, Gate, Stop, VehicleGroup
from tests.factories import ServiceFactory, order_payload
from tracking.events import PICKUP_FACTS, seed_events_for
from tracking.facts import COLLO_FACTS, ORDER_FACTS, ROUTE_FACTS, FactSource
from tracking.models import TrackingEvent
from webhooks.catalogue import CATALOGUE, EventName
from webhooks.models import Event
from webhooks.services import event_build, events_append

pytestmark = pytest.mark.django_db

PICKUP, DELIVERY, DEPOT, CARRIER = (
    "America/New_York",
    "America/Chicago",
    "Asia/Tokyo",
    "Asia/Kolkata",
)
DAY = datetime.date(2030, 6, 3)  # a Monday
# 10:00 to 16:00 at the depot in Tokyo, written as the shipper would: with Chicago's offset.
DELIVERY_FRAME = {"from": "2030-06-02T20:00:00-05:00", "to": "2030-06-03T02:00:00-05:00"}

# What carriers report at the delivery location; the other facts are the pickup location's.
DELIVERY_FACTS = sorted((ORDER_FACTS | COLLO_FACTS) - PICKUP_FACTS)
DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?$")

# Path segments that name the place of the times below them, as config.times rules.
PLACE_OF_SEGMENT = {
    "promisedPickup": CARRIER,
    "promisedDelivery": CARRIER,
    "pickupTimeFrame": PICKUP,
    "pickupEta": PICKUP,
    "pickup": PICKUP,  # the manifest's pickup block
    "deliveryTimeFrame": DELIVERY,
    "deliveryEta": DELIVERY,
    "deliveryEtaWindow": DELIVERY,  # the ETA window SMS (NotificationOrderSmsSent)
    "pickupEtaWindow": PICKUP,
    "delivery": DELIVERY,  # the manifest's delivery block
    "stop": DELIVERY,  # every stop here is a delivery
    "stops": DELIVERY,
    "routeAfter": DEPOT,  # a route's figures after a stop left it
}
# An own-fleet plan promises the route's departure (the depot's) and the stop's window.
OWN_FLEET_PLACES = {**PLACE_OF_SEGMENT, "promisedPickup": DEPOT, "promisedDelivery": DELIVERY}
# The place of an event's own times where it is not the pickup location's: route facts the
# depot's, what a carrier reports at the delivery location (or a collection point) its zone.
EVENT_PLACE = {
    "RouteOptimizationJobApproved": DEPOT,
    "OrderGoneFromPos": DELIVERY,
    "RouteCompleted": DEPOT,
    "OrderGeoLocationFailed": DELIVERY,  # the delivery address failed here
    "InvoiceApproved": CARRIER,  # an invoice is its carrier's
    **{name: DELIVERY for name in DELIVERY_FACTS},
}


def _payload(index: int, **overrides) -> dict:
    payload = order_payload(
        **{"pickupTimeFrame": None, "deliveryTimeFrame": DELIVERY_FRAME, **overrides}
    )
    payload["pickupLocation"]["timeZone"] = PICKUP
    payload["deliveryLocation"]["timeZone"] = DELIVERY
    payload["deliveryLocation"]["position"] = {
        "latitude": 55.64 + (index % 7) * 0.01,
        "longitude": 12.45 + (index % 5) * 0.02,
    }
    for collo in payload["collis"]:
        collo["tags"] = []
    return payload


def expected_place(path: tuple, default: str, places: dict = PLACE_OF_SEGMENT) -> str:
    """The zone of the time at ``path``: the innermost segment that names a place, else the
    document's own place."""
    for segment in reversed(path):
        if segment in places:
            return places[segment]
    return default


def misplaced_times(
    document: Any, default: str, path: tuple = (), places: dict = PLACE_OF_SEGMENT
) -> list[str]:
    """Every ISO datetime in ``document`` whose offset is UTC's or not its place's."""
    found = []
    if isinstance(document, dict):
        for key, value in document.items():
            found += misplaced_times(value, default, (*path, key), places)
    elif isinstance(document, list):
        for index, value in enumerate(document):
            found += misplaced_times(value, default, (*path, index), places)
    elif isinstance(document, str) and DATETIME.match(document):
        where = ".".join(str(p) for p in path)
        place = expected_place(path, default, places)
        moment = datetime.datetime.fromisoformat(document.replace("Z", "+00:00"))
        if moment.tzinfo is None:
            found.append(f"{where} = {document}: no offset ({place})")
        elif moment.utcoffset() == datetime.timedelta(0):
            found.append(f"{where} = {document}: UTC, but its place is {place}")
        elif moment.utcoffset() != moment.astimezone(ZoneInfo(place)).utcoffset():
            found.append(f"{where} = {document}: not the offset of {place}")
    return found


class _NoMatch:
    def geocode(self, query):
        return None


@pytest.fixture
def world(client_a, carrier_client, dispatcher_api):
    """Orders planned with a carrier, routed from a depot, updated and cancelled: every
    document and every event Waybill builds, each with its place."""
    carrier = carrier_client.api_key.carrier
    carrier.time_zone = CARRIER
    carrier.save()
    ServiceFactory(carrier=carrier)
    depot = Depot.objects.create(
        name="Tokyo hub", latitude=55.6645, longitude=12.4013, time_zone=DEPOT
    )
    vans = VehicleGroup.objects.create(
        name="Van", depot=depot, vehicle_type="van", vehicles=2, max_stops=20
    )
    gate = Gate.objects.create(
        name="Gate 1", depot=depot, slots=[{"start": "07:00", "end": "08:00", "departures": 2}]
    )

    def create(payload: dict) -> dict:
        response = client_a.post("/api/v1/orders", payload, format="json")
        assert response.status_code == 201, response.json()
        return response.json()

    routed = [create(_payload(i)) for i in range(3)]
    frozen = create(_payload(3, tags=["Temperature:Frozen"]))  # no van takes it: unscheduled
    planned = create(_payload(4, deliveryTimeFrame=None))
    cancelled = create(_payload(5, deliveryTimeFrame=None))
    # No service handles frozen goods: carrier planning fails (OrderPlanningFailed).
    unplannable = create(_payload(6, tags=["Temperature:Frozen"], deliveryTimeFrame=None))
    assert orders_plan(order_ids=[planned["id"]]) == 1
    orders_plan(order_ids=[unplannable["id"]])
    # Its place cannot be found either (OrderGeoLocationFailed).
    Order.objects.filter(id=unplannable["id"]).update(delivery_latitude=None)
    order_geocode(order_id=unplannable["id"], geocoder=_NoMatch())
    client_a.patch(f"/api/v1/orders/{planned['id']}", {"notes": "Gate B."}, format="json")
    client_a.post(f"/api/v1/orders/{cancelled['id']}/cancel", {"reason": "x"}, format="json")

    response = dispatcher_api.post(
        "/api/v1/routing/jobs",
        {
            "name": "Monday Tokyo",
            "date": DAY.isoformat(),
            "vehicleGroups": [str(vans.id)],
            "gates": [str(gate.id)],
            "timeBudgetS": 5,
            "settings": {"maxIterations": 300},
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    job_id = response.json()["id"]
    routing_services.job_run(job_id=job_id)
    approved = dispatcher_api.post(f"/api/v1/routing/jobs/{job_id}/approve")
    assert approved.status_code == 200, approved.json()
    # One more routed order is cancelled (its stop leaves the route: OrderRemovedFromRoute),
    # one picked up and then gone from the POS (OrderGoneFromPos).
    extra = [create(_payload(i)) for i in (7, 8)]
    for order in Order.objects.filter(id__in=[o["id"] for o in extra]):
        order_status_move(order=order, to=OrderStatus.ON_ROUTE, actor="test", reason="")
    removed, gone = Order.objects.filter(id__in=[o["id"] for o in extra]).order_by(
        "creator_order_id"
    )
    # The stop to remove: the extra order takes a routed order's place on its route.
    Stop.objects.filter(order_id=routed[2]["id"]).update(order=removed)
    client_a.post(f"/api/v1/orders/{removed.id}/cancel", {"reason": "x"}, format="json")
    order_status_move(order=gone, to=OrderStatus.PICKED_UP, actor="test", reason="")
    order_mark_gone_from_pos(order=gone, actor="test")
    _carrier_reports(Order.objects.get(id=routed[0]["id"]), carrier)
    _finance(carrier_client, planned)
    _eta_sms(Order.objects.get(id=routed[1]["id"]))
    return {
        "routed": routed,
        "frozen": frozen,
        "planned": planned,
        "cancelled": cancelled,
        "job_id": job_id,
    }


def _carrier_reports(order: Order, carrier) -> None:
    """Every fact a carrier can report on a routed order and its route, stored as the apply
    service stores them and sent as it sends them; and the order's delivery address failing
    to geocode."""
    from orders.events import order_event_target

    stop = Stop.objects.select_related("route").get(order=order)
    at = stop.eta
    facts = [
        TrackingEvent(
            carrier=carrier,
            external_id=f"fact-{index}",
            type=name,
            order=None if name in ROUTE_FACTS else order,
            collo=order.collis.first() if name in COLLO_FACTS else None,
            route=stop.route,
            time_of_event=at,
            driver={"preferredName": "Jack", "phone": {"countrycallingCode": "1"}},
            deviation={"code": "99", "text": "Other"} if "Fail" in name else {},
            source=FactSource.CANONICAL,
        )
        for index, name in enumerate(sorted(ORDER_FACTS | COLLO_FACTS | ROUTE_FACTS))
    ]
    with transaction.atomic():
        TrackingEvent.objects.bulk_create(facts)
        for fact in facts:
            events_append(events=seed_events_for(tracking_event=fact))
        failed = event_build(
            type=EventName.ORDER_GEO_LOCATION_FAILED,
            order=order,
            time_of_event=at,
            reason="No match",
            time_zone=order.delivery_time_zone,
            **order_event_target(order),
        )
        events_append(events=[failed])


def _eta_sms(order: Order) -> None:
    """The ETA window SMS of a routed order's stop (NotificationOrderSmsSent)."""
    from notifications.models import SCHEDULE_TRIGGER, Channel, NotificationTemplate
    from notifications.services import order_eta_notify

    NotificationTemplate.objects.create(
        code="eta",
        channel=Channel.SMS,
        name="ETA",
        text_body="We arrive {{ etaWindow.fromTime }}-{{ etaWindow.toTime }}.",
        trigger_event=SCHEDULE_TRIGGER,
    )
    stop = Stop.objects.get(order=order)
    assert order_eta_notify(order_id=order.id, eta_from=stop.eta) is not None


def _finance(carrier_client, planned: dict) -> None:
    """A cost addition on the planned order, approved, and an invoice of it, approved:
    CostAdditionApproved (the order's place) and InvoiceApproved (the carrier's)."""
    from finance import selectors as finance_selectors
    from finance import services as finance_services

    asked = carrier_client.post(
        "/api/v1/carrier/cost-additions",
        {
            "reference": "CA-1",
            "orderId": planned["id"],
            "amount": "45.00",
            "currency": "DKK",
            "reasonCode": "waiting-time",
        },
        format="json",
    )
    assert asked.status_code == 201, asked.json()
    finance_services.cost_addition_approve(
        cost_addition=finance_selectors.cost_addition_for_staff(asked.json()["id"]), actor="test"
    )
    invoice = carrier_client.post(
        "/api/v1/carrier/invoices",
        {
            "number": "INV-1",
            "issueDate": "2030-07-01",
            "period": {"from": "2030-06-01", "to": "2030-06-30"},
            "currency": "DKK",
            "lines": [{"kind": "order", "reference": planned["id"], "amount": "100.00"}],
        },
        format="json",
    )
    assert invoice.status_code == 201, invoice.json()
    finance_services.invoice_approve(
        invoice=finance_selectors.invoice_for_staff(invoice.json()["id"]), actor="test"
    )


def _get(client, url: str) -> Any:
    response = client.get(url)
    assert response.status_code == 200, (url, response.json())
    return response.json()


def test_it_shows_every_document_with_the_offset_of_its_place(
    world, client_a, carrier_client, dispatcher_api
):
    orders = [*world["routed"], world["frozen"], world["planned"], world["cancelled"]]
    documents: list[tuple[str, Any, str]] = []
    for order in orders:
        documents.append(("order", _get(client_a, f"/api/v1/orders/{order['id']}"), PICKUP))
        plan = _get(client_a, f"/api/v1/orders/{order['id']}/plan")
        documents.append(("plan", plan, PICKUP))
    # An order's own times are its pickup place's until it is picked up, its delivery's after.
    for listed in _get(client_a, "/api/v1/orders")["results"]:
        place = DELIVERY if listed["status"] in PICKED_UP_OR_LATER else PICKUP
        documents.append(("orders", listed, place))
    quote_url = f"/api/v1/orders/{world['planned']['id']}/quotes"
    documents.append(("quote", _get(client_a, quote_url), PICKUP))
    documents.append(("manifest", _get(carrier_client, "/api/v1/carrier/orders"), PICKUP))
    documents.append(
        ("job", _get(dispatcher_api, f"/api/v1/routing/jobs/{world['job_id']}"), DEPOT)
    )
    documents.append(("cost additions", _get(client_a, "/api/v1/cost-additions"), PICKUP))
    carried = _get(carrier_client, "/api/v1/carrier/cost-additions")
    documents.append(("carrier cost additions", carried, PICKUP))
    documents.append(("invoices", _get(client_a, "/api/v1/invoices"), CARRIER))
    documents.append(
        ("carrier invoices", _get(carrier_client, "/api/v1/carrier/invoices"), CARRIER)
    )
    routes = _get(client_a, "/api/v1/routes")
    documents.append(("routes", routes, DEPOT))
    for route in routes["results"]:
        documents.append(("route", _get(client_a, f"/api/v1/routes/{route['id']}"), DEPOT))

    # The walk is only worth something if the places' times are there to be walked.
    plan = _get(client_a, f"/api/v1/orders/{world['routed'][0]['id']}/plan")
    assert plan["stop"]["eta"] and plan["stop"]["timeWindow"]["from"]
    planned = _get(client_a, f"/api/v1/orders/{world['planned']['id']}/plan")
    assert planned["plan"]["decidedAt"] and planned["plan"]["promisedDelivery"]["to"]
    named = dict((name, document) for name, document, _ in documents)
    assert named["manifest"]["results"] and named["quote"]["options"]
    assert named["job"]["routes"][0]["stops"] and named["job"]["approvedAt"]
    assert named["route"]["stops"]
    assert named["cost additions"]["results"][0]["decidedAt"]
    assert named["invoices"]["results"][0]["decidedAt"]

    misplaced = [
        f"{name}: {problem}"
        for name, document, place in documents
        for problem in misplaced_times(document, place)
    ]
    assert not misplaced, "\n".join(misplaced)


def test_every_event_builder_and_envelope_carries_the_offset_of_its_place(world, client_a):
    events = list(Event.objects.all())
    with_builder = {
        name
        for name, event_type in CATALOGUE.items()
        if any(v.builder is not None for v in event_type.versions.values())
    }
    fired = {e.type for e in events}
    assert with_builder <= fired, (
        f"Event types with a builder the scenario does not fire: {with_builder - fired}; "
        "extend the world fixture so the walk covers them."
    )

    def places_of(envelope: dict) -> dict:
        own_fleet = (envelope["data"].get("plan") or {}).get("route") is not None
        return OWN_FLEET_PLACES if own_fleet else PLACE_OF_SEGMENT

    misplaced = []
    for event in events:
        envelope = event.envelope()
        own_place = EVENT_PLACE.get(event.type, PICKUP)
        misplaced += [
            f"{event.type}: {problem}"
            for problem in misplaced_times(envelope, own_place, places=places_of(envelope))
        ]
    listed = _get(client_a, "/api/v1/events?limit=100")["results"]
    for event in listed:
        own_place = EVENT_PLACE.get(event["type"], PICKUP)
        misplaced += [
            f"API {event['type']}: {problem}"
            for problem in misplaced_times(event, own_place, places=places_of(event))
        ]
    assert not misplaced, "\n".join(misplaced)


def test_the_order_filter_takes_the_times_the_api_shows(world, client_a):
    shown = world["planned"]["createdAt"]
    results = _get(client_a, f"/api/v1/orders?createdFrom={quote(shown)}")["results"]
    assert world["planned"]["id"] in [o["id"] for o in results]


# --- the contradictions issue 12 names, one test each -----------------------------------------


def _offset(text: str) -> datetime.timedelta:
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).utcoffset()


def _offset_in(zone: str, text: str) -> datetime.timedelta:
    moment = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment.astimezone(ZoneInfo(zone)).utcoffset()


def _event(type_: str, **filters) -> Event:
    return Event.objects.filter(type=type_, **filters).order_by("date_time").first()


def test_it_gives_time_of_event_the_offset_of_the_orders_place(world):
    created = _event("OrderCreated", entity_id=world["planned"]["id"])
    time_of_event = created.data["timeOfEvent"]
    assert _offset(time_of_event) == _offset_in(PICKUP, time_of_event) != datetime.timedelta(0)


def test_it_gives_decided_at_the_offset_of_the_orders_place(world, client_a):
    plan = _get(client_a, f"/api/v1/orders/{world['planned']['id']}/plan")["plan"]
    assert _offset(plan["decidedAt"]) == _offset_in(PICKUP, plan["decidedAt"])
    planned = _event("OrderPlanned").data["plan"]
    assert _offset(planned["decidedAt"]) == _offset_in(PICKUP, planned["decidedAt"])


def test_it_gives_created_at_the_offset_of_the_orders_place(world):
    created_at = world["planned"]["createdAt"]
    assert _offset(created_at) == _offset_in(PICKUP, created_at) != datetime.timedelta(0)


def test_the_plan_api_shows_the_stop_in_the_delivery_places_zone(world, client_a):
    stop = _get(client_a, f"/api/v1/orders/{world['routed'][0]['id']}/plan")["stop"]
    # The order's own delivery frame, as the shipper sent it (Chicago in June: -05:00).
    assert stop["timeWindow"] == DELIVERY_FRAME
    assert stop["eta"].endswith("-05:00") and stop["plannedArrival"].endswith("-05:00")


def test_order_added_to_route_shows_its_delivery_frame_and_eta_in_one_zone(world):
    data = _event("OrderAddedToRoute", entity_id=world["routed"][0]["id"]).data
    assert data["deliveryTimeFrame"] == DELIVERY_FRAME
    assert data["deliveryEta"].endswith("-05:00")
    assert _offset(data["pickupEta"]) == _offset_in(PICKUP, data["pickupEta"])


def test_the_envelope_date_time_carries_the_offset_of_the_events_place(world, client_a):
    from webhooks.models import Delivery
    from webhooks.sending import envelope_json

    created = _event("OrderCreated", entity_id=world["planned"]["id"])
    approved = _event("RouteOptimizationJobApproved")
    for event, place in ((created, PICKUP), (approved, DEPOT)):
        sent = json.loads(envelope_json(Delivery(event=event, version=event.version)))
        assert _offset(sent["dateTime"]) == _offset_in(place, sent["dateTime"])
        assert sent["dateTime"] == event.envelope()["dateTime"]
        shown = _get(client_a, f"/api/v1/events/{event.id}")["dateTime"]
        assert shown == sent["dateTime"]
        # Stored as it happened, in UTC.
        assert event.date_time.utcoffset() == datetime.timedelta(0)


def test_the_admin_shows_times_in_their_places_zone_and_names_it(world, admin_client):
    from orders.models import Order
    from routing.models import OptimizationJob, Route

    order = Order.objects.get(id=world["routed"][0]["id"])
    page = admin_client.get(f"/admin/orders/order/{order.id}/change/").content.decode()
    assert "2030-06-02 20:00 (America/Chicago)" in page  # the delivery frame opens
    assert "(America/New_York)" in page  # created, updated: the order before pickup
    listed = admin_client.get("/admin/orders/order/").content.decode()
    assert "2030-06-02 20:00 (America/Chicago)" in listed

    route = Route.objects.first()
    page = admin_client.get(f"/admin/routing/route/{route.id}/change/").content.decode()
    assert "(Asia/Tokyo)" in page and "(America/Chicago)" in page  # route, its stops
    assert "(Asia/Tokyo)" in admin_client.get("/admin/routing/route/").content.decode()
    job = OptimizationJob.objects.get()
    assert "(Asia/Tokyo)" in admin_client.get("/admin/routing/optimizationjob/").content.decode()
    page = admin_client.get(f"/admin/routing/optimizationjob/{job.id}/change/").content.decode()
    assert "Time (Asia/Tokyo)" in page
    plans = admin_client.get("/admin/carriers/plan/").content.decode()
    assert "(America/New_York)" in plans
