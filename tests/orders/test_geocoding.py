"""Geocoding orders sent without a position, against a real local Nominatim-like server."""

import pytest
from django.contrib.auth.models import Group, User

from orders.geocoding import GeoQuery, NominatimGeocoder, order_geocode
from orders.models import Order
from tests.factories import order_payload
from webhooks.models import Event

pytestmark = pytest.mark.django_db

COPENHAGEN = [{"place_id": 1, "lat": "55.6621280", "lon": "12.5779720", "display_name": "x"}]


@pytest.fixture
def geocoder_url(settings, httpserver):
    settings.GEOCODER_URL = httpserver.url_for("/geo")
    settings.GEOCODER_USER_AGENT = "Waybill tests"
    return settings.GEOCODER_URL


@pytest.fixture
def eager(settings):
    from config.celery_app import app

    settings.CELERY_TASK_ALWAYS_EAGER = True
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


def _without_position(kind: str = "deliveryLocation", position=None, **overrides) -> dict:
    payload = order_payload(**overrides)
    payload[kind] = {**payload[kind], "position": position}
    return payload


def _create(client, payload, capture) -> Order:
    with capture(execute=True):
        response = client.post("/api/v1/orders", payload, format="json")
    assert response.status_code == 201, response.json()
    return Order.objects.get(id=response.json()["id"])


def test_an_order_sent_without_a_delivery_position_gets_one_from_the_geocoder(
    client_a, geocoder_url, eager, httpserver, django_capture_on_commit_callbacks
):
    httpserver.expect_request(
        "/geo/search",
        query_string={
            "format": "jsonv2",
            "limit": "1",
            "addressdetails": "0",
            "q": "Artillerivej 86, 2300 København",
            "countrycodes": "dk",
        },
        headers={"User-Agent": "Waybill tests"},
    ).respond_with_json(COPENHAGEN)

    order = _create(client_a, _without_position(), django_capture_on_commit_callbacks)

    order.refresh_from_db()
    assert (order.delivery_latitude, order.delivery_longitude) == (55.662128, 12.577972)
    assert order.geo_location_failed_at is None
    assert order.history.filter(action="geocoded", actor="geocoder").exists()
    assert len(httpserver.log) == 1  # the pickup place had its position


def test_a_position_of_zero_zero_counts_as_missing(
    client_a, geocoder_url, eager, httpserver, django_capture_on_commit_callbacks
):
    httpserver.expect_request("/geo/search").respond_with_json(COPENHAGEN)
    payload = _without_position("pickupLocation", {"latitude": 0, "longitude": 0})

    order = _create(client_a, payload, django_capture_on_commit_callbacks)

    order.refresh_from_db()
    assert (order.pickup_latitude, order.pickup_longitude) == (55.662128, 12.577972)
    assert httpserver.log[0][0].args["q"].startswith("Søtorvet 5")


def test_an_address_with_no_match_flags_the_order_and_tells_the_shipper(
    client_a, geocoder_url, eager, httpserver, django_capture_on_commit_callbacks
):
    httpserver.expect_request("/geo/search").respond_with_json([])

    order = _create(client_a, _without_position(), django_capture_on_commit_callbacks)

    order.refresh_from_db()
    assert order.delivery_latitude is None
    assert order.geo_location_failed_at is not None
    event = Event.objects.get(type="OrderGeoLocationFailed")
    assert event.version == "1.0"
    assert event.data["order"]["id"] == str(order.id)
    assert event.data["location"]["position"] == {"latitude": 0.0, "longitude": 0.0}
    assert event.data["location"]["address"]["primary"] == "Artillerivej 86"
    assert "matches no place" in order.history.get(action="geocoding failed").note


def test_an_unavailable_geocoder_is_tried_again_and_then_the_order_is_flagged(
    client_a, geocoder_url, eager, httpserver, django_capture_on_commit_callbacks
):
    httpserver.expect_request("/geo/search").respond_with_data("busy", status=503)

    order = _create(client_a, _without_position(), django_capture_on_commit_callbacks)

    order.refresh_from_db()
    assert len(httpserver.log) == 4  # the first attempt and three retries
    assert order.geo_location_failed_at is not None
    assert "HTTP 503" in order.history.get(action="geocoding failed").note
    assert Event.objects.filter(type="OrderGeoLocationFailed").count() == 1


def test_a_retry_that_succeeds_stores_the_position(
    client_a, geocoder_url, eager, httpserver, django_capture_on_commit_callbacks
):
    httpserver.expect_oneshot_request("/geo/search").respond_with_data("slow down", status=429)
    httpserver.expect_request("/geo/search").respond_with_json(COPENHAGEN)

    order = _create(client_a, _without_position(), django_capture_on_commit_callbacks)

    order.refresh_from_db()
    assert order.delivery_latitude == 55.662128
    assert order.geo_location_failed_at is None
    assert not Event.objects.filter(type="OrderGeoLocationFailed").exists()


def test_without_a_geocoder_configured_nothing_is_looked_up(
    client_a, eager, httpserver, settings, django_capture_on_commit_callbacks
):
    settings.GEOCODER_URL = ""

    order = _create(client_a, _without_position(), django_capture_on_commit_callbacks)

    order.refresh_from_db()
    assert order.delivery_latitude is None
    assert order.geo_location_failed_at is None
    assert httpserver.log == []


def test_the_geocoder_is_an_outbound_target_like_any_other(
    client_a, geocoder_url, eager, httpserver, settings, django_capture_on_commit_callbacks
):
    httpserver.expect_request("/geo/search").respond_with_json(COPENHAGEN)
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False

    order = _create(client_a, _without_position(), django_capture_on_commit_callbacks)

    order.refresh_from_db()
    assert httpserver.log == []
    assert order.geo_location_failed_at is not None
    assert "Refusing to call the geocoder" in order.history.get(action="geocoding failed").note


def test_moving_the_address_asks_again_and_sending_a_position_clears_the_flag(
    client_a, geocoder_url, eager, httpserver, django_capture_on_commit_callbacks
):
    httpserver.expect_oneshot_request("/geo/search").respond_with_json([])
    httpserver.expect_request("/geo/search").respond_with_json(COPENHAGEN)
    order = _create(client_a, _without_position(), django_capture_on_commit_callbacks)
    order.refresh_from_db()
    assert order.geo_location_failed_at is not None

    moved = {**_without_position()["deliveryLocation"]}
    moved["address"] = {**moved["address"], "primary": "Artillerivej 88"}
    with django_capture_on_commit_callbacks(execute=True):
        client_a.patch(f"/api/v1/orders/{order.id}", {"deliveryLocation": moved}, format="json")
    order.refresh_from_db()
    assert order.delivery_latitude == 55.662128
    assert order.geo_location_failed_at is None
    assert httpserver.log[-1][0].args["q"].startswith("Artillerivej 88")

    # A notes change asks nothing; a place sent with its position needs no lookup.
    requests_so_far = len(httpserver.log)
    Order.objects.filter(id=order.id).update(geo_location_failed_at="2026-01-01T00:00:00Z")
    with django_capture_on_commit_callbacks(execute=True):
        client_a.patch(f"/api/v1/orders/{order.id}", {"notes": "n"}, format="json")
        placed = {**moved, "position": {"latitude": 55.7, "longitude": 12.5}}
        client_a.patch(f"/api/v1/orders/{order.id}", {"deliveryLocation": placed}, format="json")
    order.refresh_from_db()
    assert len(httpserver.log) == requests_so_far
    assert order.geo_location_failed_at is None
    assert order.delivery_latitude == 55.7


def test_a_bulk_upload_geocodes_each_order_without_a_position(
    client_a, geocoder_url, eager, httpserver, django_capture_on_commit_callbacks
):
    httpserver.expect_request("/geo/search").respond_with_json(COPENHAGEN)
    orders = [_without_position(), order_payload(), _without_position()]

    with django_capture_on_commit_callbacks(execute=True):
        response = client_a.post("/api/v1/orders/bulk", {"orders": orders}, format="json")
    assert response.status_code == 200, response.json()

    assert len(httpserver.log) == 2
    assert not Order.objects.filter(delivery_latitude__isnull=True).exists()


def test_a_position_found_after_the_shipper_moved_the_place_is_not_stored(
    client_a, settings, django_capture_on_commit_callbacks
):
    settings.GEOCODER_URL = ""  # created without a lookup; the geocoder below is passed in
    order = _create(client_a, _without_position(), django_capture_on_commit_callbacks)

    class MovingGeocoder:
        def geocode(self, query: GeoQuery):
            Order.objects.filter(id=order.id).update(delivery_address_primary="Elsewhere 1")
            return 55.0, 12.0

    assert "changed meanwhile" in order_geocode(order_id=str(order.id), geocoder=MovingGeocoder())
    order.refresh_from_db()
    assert order.delivery_latitude is None


def test_the_client_reads_a_garbled_answer_as_unavailable(httpserver):
    from orders.geocoding import GeocoderUnavailable

    httpserver.expect_request("/search").respond_with_json([{"lat": "north", "lon": "12"}])
    geocoder = NominatimGeocoder(httpserver.url_for("/"), user_agent="t", timeout_s=2)

    with pytest.raises(GeocoderUnavailable):
        geocoder.geocode(GeoQuery("Artillerivej 86", "", "2300", "DK"))


def test_dispatchers_find_the_orders_geocoding_failed_for(client, client_a):
    failed = client_a.post("/api/v1/orders", order_payload(), format="json").json()
    fine = client_a.post("/api/v1/orders", order_payload(), format="json").json()
    Order.objects.filter(id=failed["id"]).update(geo_location_failed_at="2026-11-24T10:00:00Z")
    user = User.objects.create_user("dispatch", password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name="dispatcher"))
    client.force_login(user)

    response = client.get("/admin/orders/order/?geocoding=failed")

    assert response.status_code == 200
    assert "Geocoding failed" in response.content.decode()
    assert failed["creatorOrderId"] in response.content.decode()
    assert fine["creatorOrderId"] not in response.content.decode()


def test_the_sweeper_geocodes_an_order_whose_message_was_lost_and_only_that(
    client_a, geocoder_url, httpserver, settings, django_capture_on_commit_callbacks
):
    """Queued with the order (to a queue nothing consumes here), the task is then lost: the
    sweeper leaves the order alone while its lease runs, and queues it once it has run out;
    a geocoded order is asked about no more."""
    from datetime import timedelta

    from config.celery_app import app
    from orders.geocoding import geocoding_sweep

    httpserver.expect_request("/geo/search").respond_with_json(COPENHAGEN)
    order = _create(client_a, _without_position(), django_capture_on_commit_callbacks)
    order.refresh_from_db()
    assert order.needs_geocoding and order.geocoding_queued_at is not None
    assert order.delivery_latitude is None and not httpserver.log

    with django_capture_on_commit_callbacks(execute=True):
        assert geocoding_sweep() == 0  # its message may still be on its way

    lost = order.geocoding_queued_at - settings.GEOCODING_QUEUE_LEASE - timedelta(seconds=1)
    Order.objects.filter(id=order.id).update(geocoding_queued_at=lost)
    app.conf.task_always_eager = True
    try:
        with django_capture_on_commit_callbacks(execute=True):
            assert geocoding_sweep() == 1
        order.refresh_from_db()
        assert (order.delivery_latitude, order.delivery_longitude) == (55.662128, 12.577972)
        assert not order.needs_geocoding and order.geocoding_queued_at is None
        with django_capture_on_commit_callbacks(execute=True):
            assert geocoding_sweep() == 0
    finally:
        app.conf.task_always_eager = False
    assert len(httpserver.log) == 1


def test_a_publish_the_broker_refuses_leaves_the_order_to_the_sweeper(
    client_a, geocoder_url, eager, httpserver, django_capture_on_commit_callbacks, monkeypatch
):
    from orders import tasks
    from orders.geocoding import geocoding_sweep

    httpserver.expect_request("/geo/search").respond_with_json(COPENHAGEN)
    publish = tasks.order_geocode.apply_async

    def broker_down(*args, **kwargs):
        raise ConnectionRefusedError("the broker is down")

    monkeypatch.setattr(tasks.order_geocode, "apply_async", broker_down)
    order = _create(client_a, _without_position(), django_capture_on_commit_callbacks)
    order.refresh_from_db()
    assert order.needs_geocoding and order.geocoding_queued_at is None  # nothing is out

    monkeypatch.setattr(tasks.order_geocode, "apply_async", publish)
    with django_capture_on_commit_callbacks(execute=True):
        assert geocoding_sweep() == 1
    order.refresh_from_db()
    assert order.delivery_latitude == 55.662128 and not order.needs_geocoding
