"""Golden tests: every seed 004 event an applied carrier fact sends is built from Waybill's
state (an order made through the API, its collis, a route and stop, the timeline row the
apply service stores) and has the fixture's shape: the same keys at every level, the same
nesting, the same JSON types (a null in the fixture allows any type); and it validates
against the schema the catalogue publishes for its type and version.
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jsonschema
import pytest
from django.db import transaction

from orders.events import order_event_target
from orders.models import Collo, Order, OrderStatus
from orders.services import order_status_move
from routing.models import Depot, Gate, OptimizationJob, Route, Stop, VehicleGroup
from tests.factories import order_payload
from tracking.events import seed_events_for
from tracking.facts import COLLO_FACTS, ETA_UPDATED, ORDER_FACTS, FactSource
from tracking.models import TrackingEvent
from webhooks.catalogue import CATALOGUE, EventName
from webhooks.models import Event
from webhooks.services import event_build, events_append

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "seed-events"
CARRIER_FACT_TYPES = sorted({*ORDER_FACTS, *COLLO_FACTS, EventName.ROUTE_COMPLETED})
GOLDEN_TYPES = [*CARRIER_FACT_TYPES, EventName.ORDER_GEO_LOCATION_FAILED]
AT = datetime.datetime(2030, 6, 3, 9, 30, tzinfo=datetime.UTC)

DRIVER_V2 = {
    "preferredName": "Jack Driver",
    "fullName": "Jack Driver",
    "phone": {"countrycallingCode": "45", "nationalNumber": "24245242", "countryCode": "DK"},
    "email": "jack@mover.dk",
}
DRIVER_V1 = {
    "firstName": "Peter",
    "phone": {"countryPrefix": "45", "number": "12345678"},
    "email": "peter@mover.dk",
    "company": "TSP A/S",
}


def fixture_envelope(name: str) -> dict:
    version = CATALOGUE[name].latest_version
    return json.loads((FIXTURES / f"{name}.v{version}.json").read_text(encoding="utf-8"))


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"  # one number type in JSON: 0 and 0.0 are alike
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    raise TypeError(f"not a JSON value: {value!r}")


def shape_differences(built: Any, golden: Any, path: str = "") -> list[str]:
    """Where ``built`` differs from ``golden`` in keys, nesting or JSON type; a null in
    ``golden`` allows anything, lists compare their first items."""
    if golden is None:
        return []
    where = path or "."
    if json_type(built) != json_type(golden):
        return [f"{where}: {json_type(built)}, the seed has {json_type(golden)}"]
    if isinstance(golden, dict):
        problems = [f"{path}.{k}: missing" for k in golden.keys() - built.keys()]
        problems += [f"{path}.{k}: not in the seed" for k in built.keys() - golden.keys()]
        for key in golden.keys() & built.keys():
            problems += shape_differences(built[key], golden[key], f"{path}.{key}")
        return problems
    if isinstance(golden, list) and golden and built:
        return shape_differences(built[0], golden[0], f"{path}[0]")
    return []


def test_the_shape_comparison_fails_on_a_missing_key_or_a_wrong_type():
    golden = fixture_envelope("OrderDeliveryCompleted")
    assert shape_differences(golden, golden) == []
    missing = json.loads(json.dumps(golden))
    del missing["data"]["driver"]["executor"]
    assert shape_differences(missing, golden) == [".data.driver.executor: missing"]
    wrong = json.loads(json.dumps(golden))
    wrong["data"]["route"]["tags"] = ["East", 3]
    wrong["data"]["deliveryLocation"]["position"]["latitude"] = "55.6"
    assert sorted(shape_differences(wrong, golden)) == [
        ".data.deliveryLocation.position.latitude: string, the seed has number",
    ]
    wrong["data"]["route"]["tags"] = [3]
    assert ".data.route.tags[0]: number, the seed has string" in shape_differences(wrong, golden)


# --- the world: an order on a route, driven by a carrier -------------------------------------


@pytest.fixture
def world(client_a, carrier):
    payload = order_payload()
    payload["deliveryContact"]["company"] = "Company A/S"  # the seed's types where given
    response = client_a.post("/api/v1/orders", payload, format="json")
    assert response.status_code == 201, response.json()
    order = Order.objects.get(id=response.json()["id"])
    depot = Depot.objects.create(
        name="Glostrup hub", latitude=55.66, longitude=12.40, time_zone="Europe/Copenhagen"
    )
    group = VehicleGroup.objects.create(
        name="Van", depot=depot, vehicle_type="van", operator=carrier
    )
    gate = Gate.objects.create(
        name="Gate 1", depot=depot, slots=[{"start": "07:00", "end": "08:00", "departures": 1}]
    )
    job = OptimizationJob.objects.create(name="Monday", date=AT.date())
    route = Route.objects.create(
        job=job,
        slug="M1000-01",
        reference="Route 001",
        tags=["East"],
        executors=[str(carrier.id)],
        vehicle_group=group,
        gate=gate,
        start_time=AT - datetime.timedelta(hours=2),
        end_time=AT + datetime.timedelta(hours=4),
        stops_count=1,
        first_stop_task_time=300,
        duration=6 * 3600,
        distance_km=84.1,
        driving_duration=4 * 3600,
        waiting_time=0,
        task_time=300,
        break_time=0,
        weight=60.5,
        volume=0.67,
    )
    Stop.objects.create(
        route=route,
        sequence=1,
        order=order,
        latitude=55.66,
        longitude=12.57,
        planned_arrival=AT,
        eta=AT,
        window_from=order.delivery_from,
        window_to=order.delivery_to,
    )
    order_status_move(order=order, to=OrderStatus.ON_ROUTE, actor="test", reason="")
    return {"order": order, "route": route, "carrier": carrier}


def tracking_event_for(world: dict, name: str, **fields) -> TrackingEvent:
    """The timeline row ``carrier_facts_apply`` stores for an applied fact of type ``name``."""
    order, route = world["order"], world["route"]
    collo = Collo.objects.filter(order=order).order_by("position").first()
    is_collo = name in COLLO_FACTS
    values = {
        "carrier": world["carrier"],
        "external_id": f"{name}-{TrackingEvent.objects.count()}",
        "type": name,
        "order": None if name == EventName.ROUTE_COMPLETED else order,
        "collo": collo if is_collo else None,
        "route": route,
        "time_of_event": AT,
        "latitude": 55.662,
        "longitude": 12.577,
        "driver": DRIVER_V1 if is_collo else DRIVER_V2,
        "executor": {"id": str(world["carrier"].id), "name": world["carrier"].name},
        "deviation": {"code": "99", "text": "Nobody home"} if "Fail" in name else {},
        "images": ["https://carrier.example/img/1.jpg"],
        "source": FactSource.SEED_004,
        "raw": {"data": {"collectionPointId": "cp-1", "colloValidationMethod": "scanned"}},
        **fields,
    }
    return TrackingEvent.objects.create(**values)


def envelopes_of(tracking_event: TrackingEvent) -> list[dict]:
    with transaction.atomic():
        stored = events_append(events=seed_events_for(tracking_event=tracking_event))
    return [Event.objects.get(id=e.id).envelope() for e in stored]


def built_envelope(world: dict, name: str) -> dict:
    if name == EventName.ORDER_GEO_LOCATION_FAILED:
        order = world["order"]
        Order.objects.filter(id=order.id).update(delivery_latitude=None, delivery_longitude=None)
        order.refresh_from_db()
        with transaction.atomic():
            stored = events_append(
                events=[
                    event_build(
                        type=name,
                        order=order,
                        time_of_event=AT,
                        reason="No match for the address",
                        time_zone=order.delivery_time_zone,
                        **order_event_target(order),
                    )
                ]
            )
        return Event.objects.get(id=stored[0].id).envelope()
    if name == EventName.ROUTE_COMPLETED:
        Route.objects.filter(id=world["route"].id).update(
            actual_start_time=AT - datetime.timedelta(hours=2, minutes=-3),
            actual_end_time=AT + datetime.timedelta(hours=4, minutes=20),
            actual_distance_km=85.7,
            actual_duration=19430,
        )
    (envelope,) = envelopes_of(tracking_event_for(world, name))
    return envelope


@pytest.mark.parametrize("name", GOLDEN_TYPES)
def test_the_event_a_fact_sends_has_the_seeds_shape(world, name):
    envelope = built_envelope(world, name)
    golden = fixture_envelope(name)

    assert envelope["type"] == name and envelope["version"] == golden["version"]
    assert shape_differences(envelope, golden) == []
    schema = CATALOGUE[name].schema(envelope["version"])
    jsonschema.validate(envelope, schema, format_checker=jsonschema.FormatChecker())
    # Built from Waybill's state, not copied from the fixture.
    assert world["order"].creator_order_id in json.dumps(envelope)


def test_a_shipper_subscribed_to_delivery_completed_gets_it(world, client_a):
    response = client_a.post(
        "/api/v1/webhooks/subscriptions",
        {"url": "https://hooks.example/waybill", "eventTypes": ["OrderDeliveryCompleted"]},
        format="json",
    )
    assert response.status_code == 201, response.json()
    (envelope,) = envelopes_of(tracking_event_for(world, EventName.ORDER_DELIVERY_COMPLETED))
    event = Event.objects.get(id=envelope["id"])
    assert event.shipper_id == world["order"].shipper_id
    assert event.deliveries.count() == 1


def test_a_collo_fact_naming_only_the_order_sends_one_event_per_collo(world):
    envelopes = envelopes_of(
        tracking_event_for(world, EventName.COLLO_DELIVERY_COMPLETED, collo=None)
    )
    barcodes = {e["data"]["barcode"] for e in envelopes}
    assert barcodes == set(world["order"].collis.values_list("barcode", flat=True))
    assert len(barcodes) == 2


def test_an_eta_update_sends_no_seed_event(world):
    eta = tracking_event_for(
        world, ETA_UPDATED, eta_from=AT, eta_to=AT + datetime.timedelta(hours=1)
    )
    assert seed_events_for(tracking_event=eta) == []


def test_the_pickup_eta_shows_the_last_eta_reported(world):
    reported = AT + datetime.timedelta(hours=3)
    tracking_event_for(
        world, ETA_UPDATED, eta_from=reported, eta_to=reported + datetime.timedelta(hours=1)
    )
    (envelope,) = envelopes_of(tracking_event_for(world, EventName.ORDER_PICKUP_COMPLETED))
    shown = datetime.datetime.fromisoformat(envelope["data"]["deliveryEta"])
    assert shown == reported


def test_route_completed_goes_to_every_shipper_on_the_route_naming_only_its_orders(world, client_b):
    other = client_b.post("/api/v1/orders", order_payload(), format="json").json()
    Stop.objects.create(
        route=world["route"],
        sequence=2,
        order_id=other["id"],
        latitude=55.6,
        longitude=12.5,
        planned_arrival=AT,
        eta=AT,
    )
    envelopes = envelopes_of(tracking_event_for(world, EventName.ROUTE_COMPLETED))

    by_shipper = {
        str(Event.objects.get(id=e["id"]).shipper_id): [o["id"] for o in e["data"]["orders"]]
        for e in envelopes
    }
    assert by_shipper == {
        str(world["order"].shipper_id): [str(world["order"].id)],
        other["creatorId"]: [other["id"]],
    }


def test_an_order_a_carrier_service_carries_names_no_route_of_waybills(world):
    Stop.objects.filter(order=world["order"]).delete()
    (envelope,) = envelopes_of(
        tracking_event_for(world, EventName.ORDER_DELIVERY_FAILED, route=None)
    )
    route = envelope["data"]["route"]
    assert route["id"] == "" and route["executors"] == [str(world["carrier"].id)]
    assert envelope["data"]["deviation"] == {
        "description": "Nobody home",
        "imageIds": ["https://carrier.example/img/1.jpg"],
    }


def _offset(text: str) -> datetime.timedelta:
    return datetime.datetime.fromisoformat(text).utcoffset()


def _offset_in(zone: str, text: str) -> datetime.timedelta:
    return datetime.datetime.fromisoformat(text).astimezone(ZoneInfo(zone)).utcoffset()


def test_fact_times_are_in_their_places_zone(world):
    order = world["order"]
    Order.objects.filter(id=order.id).update(
        pickup_time_zone="America/New_York", delivery_time_zone="Asia/Tokyo"
    )
    pickup = envelopes_of(tracking_event_for(world, EventName.ORDER_PICKUP_ARRIVED))[0]
    delivery = envelopes_of(tracking_event_for(world, EventName.COLLO_DELIVERY_ARRIVED))[0]
    assert pickup["data"]["timeOfEvent"] == "2030-06-03T05:30:00-04:00"
    assert _offset(pickup["dateTime"]) == _offset_in("America/New_York", pickup["dateTime"])
    assert pickup["data"]["deliveryEta"].endswith("+09:00")
    assert delivery["data"]["timeOfEvent"] == "2030-06-03T18:30:00+09:00"
    assert _offset(delivery["dateTime"]) == datetime.timedelta(hours=9)
