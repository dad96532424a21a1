"""Outbound requests go only where they were checked to go (issue 10, "Outbound requests")."""

import re

import pytest

from config import outbound
from config.outbound import UnsafeTarget, check_public_url
from orders import pos
from orders.models import PosFetch, PosFetchStatus, PosIntegration
from routing.matrix import MatrixUnavailable, OsrmMatrix
from tests.factories import order_payload
from webhooks import sending, services
from webhooks.models import Delivery, DeliveryStatus

pytestmark = pytest.mark.django_db

PUBLIC_ADDRESS = "93.184.215.14"
COPENHAGEN, AARHUS = (55.6761, 12.5683), (56.1629, 10.2039)


def _subscribe(client, url: str):
    return client.post(
        "/api/v1/webhooks/subscriptions", {"url": url, "eventTypes": ["*"]}, format="json"
    )


def _pos_event(client, entity_id: str):
    return client.post(
        "/api/v1/pos/events", {"eventType": "OrderUpdated", "entityId": entity_id}, format="json"
    )


def _fetch(client, entity_id: str) -> PosFetch:
    response = _pos_event(client, entity_id)
    assert response.status_code == 202, response.json()
    pos.pos_fetch_run(fetch_id=response.json()["id"])
    return PosFetch.objects.get(id=response.json()["id"])


def _deliver_one_order(client) -> Delivery:
    assert client.post("/api/v1/orders", order_payload(), format="json").status_code == 201
    ids = [str(i) for i in Delivery.objects.values_list("id", flat=True)]
    sending.deliveries_send(delivery_ids=ids)
    return Delivery.objects.get()


def _backslash_url(httpserver, path: str) -> str:
    # urlsplit reads the host as 1.1.1.1; requests connects to 127.0.0.1.
    return f"http://127.0.0.1:{httpserver.port}\\@1.1.1.1{path}"


def _rebinding_dns(monkeypatch, *answers: list[str]) -> list[str]:
    """Answer each lookup with the next of ``answers``; returns the hosts asked for."""
    asked, queue = [], list(answers)

    def resolve(host: str, port: int) -> list[str]:
        asked.append(host)
        return queue.pop(0)

    monkeypatch.setattr(outbound, "resolve", resolve)
    return asked


def test_it_refuses_a_backslash_url_when_a_subscription_is_saved(client_a, httpserver):
    response = _subscribe(client_a, _backslash_url(httpserver, "/hooks"))

    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["field"] == "url"
    assert "backslash" in error["message"]


def test_it_refuses_a_backslash_url_at_send_for_good(client_a, shipper_a, httpserver, settings):
    subscription = services.subscription_create(
        shipper=shipper_a, live_mode=False, url=httpserver.url_for("/hooks"), event_types=["*"]
    )
    # A row saved before the guard knew better.
    type(subscription).objects.filter(id=subscription.id).update(
        url=_backslash_url(httpserver, "/hooks")
    )
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False

    delivery = _deliver_one_order(client_a)

    assert delivery.status == DeliveryStatus.DEAD
    assert "backslash" in delivery.last_error
    assert httpserver.log == []


def test_it_never_fetches_from_the_host_a_backslash_hides(
    client_a, shipper_a, httpserver, settings
):
    PosIntegration.objects.create(
        shipper=shipper_a, live_mode=False, base_url=_backslash_url(httpserver, "/pos")
    )
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False

    fetch = _fetch(client_a, "POS-1")

    assert fetch.status == PosFetchStatus.FAILED
    assert "backslash" in fetch.last_error
    assert httpserver.log == []


@pytest.mark.parametrize(
    "authority", ["user:pass@localhost:{port}", "localhost:{port}@example.com"]
)
def test_it_refuses_user_info_in_a_url(client_a, httpserver, authority):
    url = f"http://{authority.format(port=httpserver.port)}/hooks"

    response = _subscribe(client_a, url)

    assert response.status_code == 400, url
    error = response.json()["errors"][0]
    assert error["field"] == "url"
    assert "user-info" in error["message"]


@pytest.mark.parametrize(
    "host", ["[::127.0.0.1]", "[64:ff9b::7f00:1]", "[2002:7f00:1::1]", "[::ffff:0:7f00:1]"]
)
def test_it_refuses_ipv6_forms_that_carry_a_private_ipv4(client_a, settings, host):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False

    response = _subscribe(client_a, f"https://{host}/hooks")

    assert response.status_code == 400, host
    error = response.json()["errors"][0]
    assert (error["field"], error["code"]) == ("url", "unsafe_target")
    assert "carries 127.0.0.1" in error["message"]


def test_it_judges_nat64_6to4_and_teredo_by_the_ipv4_they_carry(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False

    for host in ["64:ff9b::a00:8", "2002:a9fe:a9fe::1", "2001:0:4136:e378:8000:63bf:80ff:fffe"]:
        with pytest.raises(UnsafeTarget, match="non-public"):
            check_public_url(f"https://[{host}]/hooks")
    # Local-use NAT64 puts the IPv4 address at no fixed place: refused whole.
    with pytest.raises(UnsafeTarget, match="local-use NAT64"):
        check_public_url("https://[64:ff9b:1::808:808]/hooks")
    # The same translators in front of a public IPv4 address are fine.
    check_public_url("https://[64:ff9b::808:808]/hooks")
    check_public_url("https://[2002:808:808::1]/hooks")


@pytest.mark.parametrize("host", ["2130706433", "0x7f.1", "0177.0.0.1", "127.1", "1.2.3.4.5"])
def test_it_refuses_ipv4_literals_in_odd_forms(settings, host):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False

    with pytest.raises(UnsafeTarget, match="canonical IPv4"):
        check_public_url(f"http://{host}/hooks")


def test_it_sends_the_entity_id_as_one_path_segment(client_a, shipper_a, httpserver):
    PosIntegration.objects.create(
        shipper=shipper_a, live_mode=False, base_url=httpserver.url_for("/pos")
    )
    httpserver.expect_request("/internal/admin").respond_with_data("admin page")
    httpserver.expect_request(re.compile("^/pos/")).respond_with_data("", status=404)

    fetch = _fetch(client_a, "../../../internal/admin?x=1#")

    assert len(httpserver.log) == 1
    request, _ = httpserver.log[0]
    assert (
        request.environ["REQUEST_URI"] == "/pos/orders/..%2F..%2F..%2Finternal%2Fadmin%3Fx%3D1%23"
    )
    assert fetch.last_status_code == 404


@pytest.mark.parametrize("entity_id", [".", ".."])
def test_it_refuses_dot_segments_as_entity_ids(client_a, shipper_a, httpserver, entity_id):
    PosIntegration.objects.create(
        shipper=shipper_a, live_mode=False, base_url=httpserver.url_for("/pos")
    )

    response = _pos_event(client_a, entity_id)

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "entityId"


def test_it_connects_to_the_address_it_resolved_and_keeps_the_host_name(
    client_a, shipper_a, httpserver, monkeypatch
):
    host = "pos.shipper-a.test"  # known to no real DNS server
    PosIntegration.objects.create(
        shipper=shipper_a, live_mode=False, base_url=f"http://{host}:{httpserver.port}/pos"
    )
    httpserver.expect_request("/pos/orders/POS-2").respond_with_data("", status=404)
    asked = _rebinding_dns(monkeypatch, ["127.0.0.1"])

    fetch = _fetch(client_a, "POS-2")

    assert fetch.status == PosFetchStatus.DONE
    assert asked == [host]
    request, _ = httpserver.log[0]
    assert request.headers["Host"] == f"{host}:{httpserver.port}"


def test_it_refuses_a_pos_host_that_rebinds_to_loopback_after_the_check(
    client_a, shipper_a, httpserver, settings, monkeypatch
):
    PosIntegration.objects.create(
        shipper=shipper_a,
        live_mode=False,
        base_url=f"http://pos.rebind.test:{httpserver.port}/pos",
    )
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    asked = _rebinding_dns(monkeypatch, [PUBLIC_ADDRESS], ["127.0.0.1"])

    fetch = _fetch(client_a, "POS-3")

    assert asked == ["pos.rebind.test", "pos.rebind.test"]
    assert fetch.status == PosFetchStatus.FAILED
    assert "resolves to 127.0.0.1, a non-public address" in fetch.last_error
    assert httpserver.log == []


def test_it_refuses_an_osrm_host_that_rebinds_to_loopback_after_the_check(
    httpserver, settings, monkeypatch
):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    _rebinding_dns(monkeypatch, [PUBLIC_ADDRESS], ["127.0.0.1"])

    with pytest.raises(MatrixUnavailable, match="non-public") as caught:
        OsrmMatrix(f"http://osrm.rebind.test:{httpserver.port}").matrix([COPENHAGEN, AARHUS], "van")

    assert isinstance(caught.value.__cause__, UnsafeTarget)
    assert httpserver.log == []


def test_it_refuses_a_webhook_host_that_rebinds_to_loopback_after_the_check(
    client_a, shipper_a, httpserver, settings, monkeypatch
):
    host = "hooks.rebind.test"
    services.subscription_create(
        shipper=shipper_a,
        live_mode=False,
        url=f"http://{host}:{httpserver.port}/hooks",
        event_types=["*"],
    )
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    asked = _rebinding_dns(monkeypatch, [PUBLIC_ADDRESS], ["127.0.0.1"])

    delivery = _deliver_one_order(client_a)

    assert asked == [host, host]
    assert delivery.status == DeliveryStatus.RETRYING
    assert "resolves to 127.0.0.1, a non-public address" in delivery.last_error
    assert httpserver.log == []
