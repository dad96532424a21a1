"""URLs saved in the admin pass the same service and the same outbound guard as the API."""

import pytest
from django.contrib.auth.models import User

from config.api.errors import InvalidInput
from orders import pos
from orders.models import PosIntegration
from webhooks import services
from webhooks.models import Subscription

pytestmark = pytest.mark.django_db

UNSAFE_URLS = [
    "http://169.254.169.254/",
    "https://169.254.169.254/latest/meta-data/",
    "http://127.0.0.1:18555\\@1.1.1.1/pos",
    "https://127.0.0.1:18555\\@1.1.1.1/pos",
    "https://[::ffff:127.0.0.1]/pos",
]


@pytest.fixture
def superuser(client):
    client.force_login(User.objects.create_superuser("root", "r@example.dk", "pw"))
    return client


@pytest.fixture
def guarded(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    settings.DEBUG = False


def _subscription_form(shipper, url: str) -> dict:
    return {
        "shipper": str(shipper.id),
        "live_mode": "",
        "url": url,
        "event_types": '["*"]',
        "versions": "{}",
        "description": "",
        "active": "on",
    }


def _pos_form(shipper, url: str) -> dict:
    return {
        "shipper": str(shipper.id),
        "live_mode": "",
        "base_url": url,
        "auth_header_name": "Authorization",
        "new_auth_header_value": "Bearer t",
        "active": "on",
    }


def _refused(response, field: str) -> bool:
    return response.status_code == 200 and f'id="id_{field}_error"' in response.content.decode()


@pytest.mark.parametrize("url", UNSAFE_URLS)
def test_it_refuses_an_unsafe_url_when_a_subscription_is_added(superuser, shipper_a, guarded, url):
    response = superuser.post(
        "/admin/webhooks/subscription/add/", _subscription_form(shipper_a, url)
    )

    assert _refused(response, "url")
    assert not Subscription.objects.exists()


@pytest.mark.parametrize("url", UNSAFE_URLS)
def test_it_refuses_an_unsafe_url_when_a_subscription_is_changed(
    superuser, shipper_a, settings, url
):
    subscription = services.subscription_create(
        shipper=shipper_a, live_mode=False, url="https://1.1.1.1/hooks", event_types=["*"]
    )
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False

    response = superuser.post(
        f"/admin/webhooks/subscription/{subscription.id}/change/",
        _subscription_form(shipper_a, url),
    )

    assert _refused(response, "url")
    assert Subscription.objects.get(id=subscription.id).url == "https://1.1.1.1/hooks"


def test_it_checks_the_event_types_of_a_subscription_as_the_api_does(superuser, shipper_a, guarded):
    form = {**_subscription_form(shipper_a, "https://1.1.1.1/hooks"), "event_types": '["Nope"]'}

    response = superuser.post("/admin/webhooks/subscription/add/", form)

    assert _refused(response, "event_types")
    assert not Subscription.objects.exists()


def test_it_saves_a_public_subscription_through_the_service(superuser, shipper_a, guarded):
    response = superuser.post(
        "/admin/webhooks/subscription/add/", _subscription_form(shipper_a, "https://1.1.1.1/hooks")
    )

    assert response.status_code == 302, response.content.decode()[:3000]
    assert Subscription.objects.get().secret.startswith("whsec_")


@pytest.mark.parametrize("url", UNSAFE_URLS)
def test_it_refuses_an_unsafe_pos_url_when_an_integration_is_added(
    superuser, shipper_a, guarded, url
):
    response = superuser.post("/admin/orders/posintegration/add/", _pos_form(shipper_a, url))

    assert _refused(response, "base_url")
    assert not PosIntegration.objects.exists()


@pytest.mark.parametrize("url", UNSAFE_URLS)
def test_it_refuses_an_unsafe_pos_url_when_an_integration_is_changed(
    superuser, shipper_a, guarded, url
):
    integration = PosIntegration.objects.create(
        shipper=shipper_a, live_mode=False, base_url="https://1.1.1.1/pos"
    )

    response = superuser.post(
        f"/admin/orders/posintegration/{integration.id}/change/", _pos_form(shipper_a, url)
    )

    assert _refused(response, "base_url")
    integration.refresh_from_db()
    assert integration.base_url == "https://1.1.1.1/pos"
    assert integration.auth_header_value == ""


def test_it_refuses_a_pos_header_name_that_would_break_every_fetch(superuser, shipper_a, guarded):
    form = {
        **_pos_form(shipper_a, "https://1.1.1.1/pos"),
        "auth_header_name": "X-Token: a\r\nHost: internal",
    }

    response = superuser.post("/admin/orders/posintegration/add/", form)

    assert _refused(response, "auth_header_name")
    assert not PosIntegration.objects.exists()


def test_it_saves_a_public_pos_integration_through_the_service(superuser, shipper_a, guarded):
    response = superuser.post(
        "/admin/orders/posintegration/add/", _pos_form(shipper_a, "https://1.1.1.1/pos")
    )

    assert response.status_code == 302, response.content.decode()[:3000]
    saved = PosIntegration.objects.get()
    assert saved.base_url == "https://1.1.1.1/pos"
    assert saved.auth_header_value == "Bearer t"


def test_it_refuses_an_unsafe_pos_url_in_the_service_itself(shipper_a, guarded):
    with pytest.raises(InvalidInput) as refused:
        pos.pos_integration_save(
            shipper=shipper_a, live_mode=False, base_url="https://169.254.169.254/"
        )

    assert refused.value.errors[0]["field"] == "baseUrl"
    assert not PosIntegration.objects.exists()


def test_it_switches_off_an_integration_without_checking_its_unchanged_url(
    superuser, shipper_a, settings
):
    integration = PosIntegration.objects.create(
        shipper=shipper_a, live_mode=False, base_url="http://127.0.0.1:9"
    )
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    form = {**_pos_form(shipper_a, "http://127.0.0.1:9"), "active": ""}

    response = superuser.post(f"/admin/orders/posintegration/{integration.id}/change/", form)

    assert response.status_code == 302, response.content.decode()[:3000]
    integration.refresh_from_db()
    assert not integration.active
