"""POST /api/v1/carrier/events: both formats, the seed fixtures, bad input, repeats, order."""

import json
import uuid

import pytest
from rest_framework.test import APIClient

from orders.models import OrderHistory
from routing.models import Route
from tests.conftest import _client
from tests.factories import CarrierFactory
from tests.tracking.conftest import MALFORMED, SEED_EVENTS, aimed, route_for, seed_fixture
from tracking.facts import FACT_TYPES
from tracking.models import TrackingEvent
from tracking.services import carrier_events_token_issue, carrier_events_token_revoke

pytestmark = pytest.mark.django_db
URL = "/api/v1/carrier/events"

# After the fixture alone, on a planned order (two collis) on a route of the carrier.
EXPECTED = {
    "CollectionPointColloCollected": ("partially_delivered", "in_progress"),
    "CollectionPointColloNotCollected": ("delivery_failed", "completed"),
    "CollectionPointColloRejected": ("delivery_failed", "completed"),
    "ColloDeliveryArrived": ("planned", "in_progress"),
    "ColloDeliveryCompleted": ("partially_delivered", "in_progress"),
    "ColloDeliveryFailed": ("delivery_failed", "completed"),
    "ColloLoadedOnLinehaul": ("picked_up", "in_progress"),
    "ColloPickupCompleted": ("picked_up", "in_progress"),
    "OrderDeliveryArrived": ("planned", "in_progress"),
    "OrderDeliveryCompleted": ("delivered", "completed"),
    "OrderDeliveryFailed": ("delivery_failed", "completed"),
    "OrderPickupArrived": ("planned", "dispatched"),
    "OrderPickupCompleted": ("picked_up", "in_progress"),
    "OrderPickupFailed": ("planned", "dispatched"),
    "OrderReturnCompleted": ("returned", "completed"),
    "RouteCompleted": ("planned", "completed"),
}
# The seed's own bad timestamps, and what a platform would have meant.
SEED_TIME_FIXES = {"+B01:00": "+01:00", "2021-14-05": "2021-05-14"}
FACT_FIXTURES = sorted(
    p.name for p in SEED_EVENTS.glob("*.json") if json.loads(p.read_text())["type"] in FACT_TYPES
)
OTHER_FIXTURES = sorted(
    p.name
    for p in SEED_EVENTS.glob("*.json")
    if json.loads(p.read_text())["type"] not in FACT_TYPES
)


def _post(client, body, **params):
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return client.post(f"{URL}?{query}" if query else URL, body, format="json")


def _fields(response) -> set[str]:
    return {e["field"] for e in response.json()["errors"]}


def canonical(order, type="OrderDeliveryCompleted", at="2030-06-03T12:00:00+02:00", **extra):
    return {
        "id": str(uuid.uuid4()),
        "type": type,
        "orderId": str(order.id),
        "timeOfEvent": at,
        **extra,
    }


def test_it_knows_every_fact_fixture():
    assert {f.split(".")[0] for f in FACT_FIXTURES} == set(EXPECTED)


@pytest.mark.parametrize("name", FACT_FIXTURES)
def test_it_accepts_and_applies_every_seed_fixture_as_the_platform_sends_it(
    name, carrier, carrier_api, carried_order
):
    order = carried_order()
    route = route_for([order], carrier)
    document = aimed(json.loads((SEED_EVENTS / name).read_text()), order, route=route)
    text = json.dumps(document)
    broken = [bad for bad in SEED_TIME_FIXES if bad in text]
    if broken:  # the seed's own invalid timestamps: refused naming the field, then fixed
        refused = _post(carrier_api, document)
        assert refused.status_code == 400, refused.json()
        assert any("timeOfEvent" in field for field in _fields(refused)), refused.json()
        assert not TrackingEvent.objects.exists()
        for bad in broken:
            text = text.replace(bad, SEED_TIME_FIXES[bad])
        document = json.loads(text)

    response = _post(carrier_api, document)

    assert response.status_code == 201, response.json()
    assert response.json()["outcome"] == "applied"
    event = TrackingEvent.objects.get(id=response.json()["trackingEventId"])
    assert (event.type, event.source, event.applied) == (document["type"], "seed-004", True)
    order.refresh_from_db()
    route.refresh_from_db()
    assert (order.status, route.status) == EXPECTED[document["type"]]
    if order.status == "delivered":
        assert order.delivered_at == event.time_of_event
    if document["type"] == "RouteCompleted":
        assert (route.actual_distance_km, route.actual_duration) == (85.7, 19430)
        assert route.actual_start_time.isoformat() == "2021-05-14T06:03:00+00:00"
    else:
        assert event.order_id == order.id


def test_it_matches_by_creator_order_id_when_the_platform_s_own_id_is_not_waybill_s(
    carrier_api, carried_order
):
    order = carried_order()
    document = aimed(seed_fixture("OrderPickupCompleted"), order)
    document["data"]["order"]["id"] = "531721db-6b15-4e81-a8d5-9e0843c75dd1"

    assert _post(carrier_api, document).status_code == 201
    order.refresh_from_db()
    assert order.status == "picked_up"


@pytest.mark.parametrize("name", OTHER_FIXTURES)
def test_it_refuses_events_a_carrier_does_not_report_naming_type(name, carrier_api, carried_order):
    document = aimed(json.loads((SEED_EVENTS / name).read_text()), carried_order())

    response = _post(carrier_api, document)

    assert response.status_code == 400
    assert _fields(response) == {"type"}


@pytest.mark.parametrize("path", sorted(MALFORMED.glob("*.json")), ids=lambda p: p.name)
def test_it_refuses_the_malformed_seed_files_naming_where(path, carrier_api):
    response = carrier_api.post(URL, path.read_bytes(), content_type="application/json")

    assert response.status_code == 400
    assert _fields(response) == {"body"}
    assert "line" in response.json()["detail"]


@pytest.mark.parametrize(
    "value,problem",
    [
        ("2022-01-03T18:00:56.7097567+B01:00", "ISO 8601"),
        ("2021-14-05T13:23:40+02:00", "month must be in 1..12"),
        ("2022-01-03T18:00:56", "no UTC offset"),
        ("2022-02-30T18:00:00+01:00", "day is out of range"),
        ("9999-01-01T00:00:00+00:00", "between"),
        ("yesterday", "ISO 8601"),
        (1641229256, "not a number"),
        (None, "required"),
    ],
)
def test_it_refuses_every_invalid_timestamp_naming_the_field(
    value, problem, carrier_api, carried_order
):
    body = canonical(carried_order(), timeOfEvent=value)

    response = _post(carrier_api, body)

    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["field"] == "timeOfEvent"
    assert problem in error["message"] or problem == "not a number" and "string" in error["message"]
    assert not TrackingEvent.objects.exists()


@pytest.mark.parametrize(
    "change,field",
    [
        ({"id": 42}, "id"),
        ({"type": "OrderTeleported"}, "type"),
        ({"type": 7}, "type"),
        ({"position": {"latitude": 200, "longitude": 12}}, "position.latitude"),
        ({"position": {"latitude": "55", "longitude": 12}}, "position.latitude"),
        ({"images": "http://x"}, "images"),
        ({"deviation": {"code": "99", "mood": "bad"}}, "deviation.mood"),
        ({"colour": "red"}, "colour"),
        (
            {"eta": {"from": "2030-06-03T12:00:00+02:00", "to": "2030-06-03T11:00:00+02:00"}},
            "eta.to",
        ),
    ],
)
def test_it_refuses_wrong_types_and_unknown_values_naming_the_field(
    change, field, carrier_api, carried_order
):
    response = _post(carrier_api, {**canonical(carried_order()), **change})

    assert response.status_code == 400, response.json()
    assert field in _fields(response)


def test_it_refuses_a_seed_event_without_its_time_naming_data_time_of_event(
    carrier_api, carried_order
):
    document = aimed(seed_fixture("OrderPickupCompleted"), carried_order())
    del document["data"]["timeOfEvent"]

    response = _post(carrier_api, document)

    assert response.status_code == 400
    assert _fields(response) == {"data.timeOfEvent"}


def test_it_refuses_huge_items_and_bodies(carrier_api, carried_order):
    order = carried_order()
    big = _post(carrier_api, canonical(order, driver={"note": "x" * 70_000}))
    assert big.status_code == 400 and _fields(big) == {"body"}

    huge = carrier_api.post(
        URL, b'{"events": ["' + b"x" * 17_000_000 + b'"]}', content_type="application/json"
    )
    assert huge.status_code == 400 and "larger" in huge.json()["detail"]


def test_it_answers_a_repeat_200_and_changes_nothing(carrier_api, carried_order):
    order = carried_order()
    body = canonical(order)
    first = _post(carrier_api, body)
    history = OrderHistory.objects.filter(order=order).count()

    again = _post(carrier_api, {**body, "type": "OrderDeliveryFailed"})

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["outcome"] == "duplicate"
    assert again.json()["trackingEventId"] == first.json()["trackingEventId"]
    assert TrackingEvent.objects.count() == 1
    assert OrderHistory.objects.filter(order=order).count() == history
    order.refresh_from_db()
    assert order.status == "delivered"


def test_it_keeps_an_older_event_in_the_timeline_but_never_moves_back(carrier_api, carried_order):
    order = carried_order()
    delivered = _post(carrier_api, canonical(order, at="2030-06-03T12:00:00+02:00"))
    older = _post(
        carrier_api, canonical(order, type="OrderPickupCompleted", at="2030-06-03T09:00:00+02:00")
    )

    assert (delivered.status_code, older.status_code) == (201, 201)
    assert older.json()["outcome"] == "recorded"
    order.refresh_from_db()
    assert order.status == "delivered"
    assert [e.applied for e in order.tracking_events.all()] == [False, True]


def test_it_keeps_an_older_collo_event_without_moving_its_collo(carrier_api, carried_order):
    order = carried_order()
    first, second = order.collis.order_by("position")
    for collo in (first, second):
        _post(carrier_api, canonical(order, type="ColloDeliveryCompleted", barcode=collo.barcode))
    late = _post(
        carrier_api,
        canonical(
            order, type="ColloDeliveryFailed", barcode=first.barcode, at="2030-06-03T08:00:00+02:00"
        ),
    )

    assert late.json()["outcome"] == "recorded"
    order.refresh_from_db()
    assert order.status == "delivered"


@pytest.mark.parametrize(
    "facts,status",
    [
        (["ColloDeliveryCompleted", "ColloDeliveryCompleted"], "delivered"),
        (["ColloDeliveryCompleted", None], "partially_delivered"),
        (["ColloDeliveryFailed", None], "delivery_failed"),
        (["ColloDeliveryFailed", "ColloDeliveryFailed"], "delivery_failed"),
        (["ColloPickupCompleted", None], "picked_up"),
        (["ColloDeliveryCompleted", "ColloDeliveryFailed"], "partially_delivered"),
    ],
)
def test_it_rolls_collis_up_into_the_order_status(facts, status, carrier_api, carried_order):
    order = carried_order()
    for collo, kind in zip(order.collis.order_by("position"), facts, strict=True):
        if kind:
            body = {**canonical(order, type=kind, barcode=collo.barcode)}
            del body["orderId"]  # the barcode alone names the order
            assert _post(carrier_api, body).status_code == 201

    order.refresh_from_db()
    assert order.status == status
    assert (order.delivered_at is not None) == (status == "delivered")


def test_it_answers_404_for_another_carrier_s_order_and_in_the_other_mode(
    carrier, carrier_api, carried_order
):
    order = carried_order()
    other = _client(carrier=CarrierFactory())
    live = _client(carrier=carrier, mode="live")
    body = canonical(order, orderId=order.creator_order_id)

    for client in (other, live):
        response = _post(client, {**body, "id": str(uuid.uuid4())})
        assert response.status_code == 404
        assert order.creator_order_id in response.json()["detail"]
        assert _fields(response) == {"orderId"}
    order.refresh_from_db()
    assert order.status == "planned"
    assert not TrackingEvent.objects.exists()


def test_it_answers_409_for_an_illegal_move_and_keeps_the_event(carrier_api, carried_order):
    order = carried_order()
    _post(carrier_api, canonical(order))

    returned = _post(
        carrier_api, canonical(order, type="OrderReturnCompleted", at="2030-06-04T12:00:00+02:00")
    )

    assert returned.status_code == 409
    assert returned.json()["type"] == "illegal_status_move"
    assert _fields(returned) == {"type"}
    event = TrackingEvent.objects.get(id=returned.json()["trackingEventId"])
    assert event.applied is False
    order.refresh_from_db()
    assert order.status == "delivered"


def test_it_takes_a_token_in_the_query_string(carrier, carrier_api, carried_order):
    order = carried_order()
    _token, plain = carrier_events_token_issue(carrier=carrier, live_mode=False)
    anonymous = APIClient()

    response = _post(anonymous, canonical(order), token=plain)

    assert response.status_code == 201, response.json()


def test_it_refuses_a_wrong_or_revoked_token_and_a_missing_one(carrier, carried_order):
    order = carried_order()
    token, plain = carrier_events_token_issue(carrier=carrier, live_mode=False)
    carrier_events_token_revoke(token=token)
    anonymous = APIClient()

    assert _post(anonymous, canonical(order), token=plain).status_code == 401
    assert _post(anonymous, canonical(order), token="wb_evt_guessed").status_code == 401
    assert _post(anonymous, canonical(order)).status_code == 401
    assert not TrackingEvent.objects.exists()


def test_a_token_reaches_only_its_own_carrier_s_orders_in_its_mode(carrier, carried_order):
    order = carried_order()
    anonymous = APIClient()
    _t, other = carrier_events_token_issue(carrier=CarrierFactory(), live_mode=False)
    _t, live = carrier_events_token_issue(carrier=carrier, live_mode=True)

    assert _post(anonymous, canonical(order), token=other).status_code == 404
    assert _post(anonymous, canonical(order), token=live).status_code == 404


def test_a_shipper_key_is_refused(client_a, carried_order):
    assert _post(client_a, canonical(carried_order())).status_code == 403


def test_it_answers_a_batch_one_result_per_item(carrier_api, carried_order):
    order, returned = carried_order(), carried_order()
    good = canonical(order, type="OrderPickupCompleted")
    _post(carrier_api, canonical(returned, type="OrderReturnCompleted"))
    items = [
        good,
        canonical(order, timeOfEvent="2030-14-01T10:00:00+02:00"),
        canonical(order, orderId="NOT-MINE"),
        good,
        canonical(returned, at="2030-06-05T12:00:00+02:00"),
        seed_fixture("OrderAddedToRoute"),
        aimed(seed_fixture("OrderDeliveryCompleted"), order),
    ]

    response = _post(carrier_api, {"events": items})

    assert response.status_code == 200, response.json()
    results = response.json()["results"]
    assert [r["status"] for r in results] == [201, 400, 404, 200, 409, 400, 201]
    assert [r["index"] for r in results] == list(range(7))
    assert results[1]["error"]["errors"][0]["field"] == "timeOfEvent"
    assert results[5]["error"]["errors"][0]["field"] == "type"
    assert response.json()["applied"] == 1 + 0 + 0  # pickup; the delivery is older (2020)
    order.refresh_from_db()
    assert order.status == "picked_up"


def test_it_refuses_a_batch_over_a_thousand(carrier_api, carried_order):
    body = canonical(carried_order())

    response = _post(carrier_api, {"events": [body] * 1001})

    assert response.status_code == 400
    assert _fields(response) == {"events"}


def test_it_stores_an_eta_window(carrier_api, carried_order):
    order = carried_order()
    eta = {"from": "2030-06-03T13:00:00+02:00", "to": "2030-06-03T14:00:00+02:00"}

    response = _post(
        carrier_api,
        canonical(
            order, type="EtaUpdated", eta=eta, position={"latitude": 55.6, "longitude": 12.5}
        ),
    )

    assert response.status_code == 201, response.json()
    event = TrackingEvent.objects.get()
    assert (event.eta_from.isoformat(), event.eta_to.isoformat()) == (
        "2030-06-03T11:00:00+00:00",
        "2030-06-03T12:00:00+00:00",
    )
    assert (event.latitude, event.longitude) == (55.6, 12.5)
    order.refresh_from_db()
    assert order.status == "planned"


def test_it_moves_a_route_forward_and_completes_it_when_its_orders_are_done(
    carrier, carrier_api, carried_order
):
    first, second = carried_order(), carried_order()
    route = route_for([first, second], carrier)
    seen = []
    for order, kind, at in [
        (first, "OrderPickupArrived", "08:00"),
        (first, "OrderPickupCompleted", "08:10"),
        (first, "OrderDeliveryCompleted", "09:00"),
        (second, "OrderDeliveryFailed", "10:00"),
    ]:
        _post(carrier_api, canonical(order, type=kind, at=f"2030-06-03T{at}:00+02:00"))
        seen.append(Route.objects.get(id=route.id).status)

    assert seen == ["dispatched", "in_progress", "in_progress", "completed"]
