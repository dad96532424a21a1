"""Secrets are shown once, when they are made, and never again by any admin page."""

import pytest
from django.contrib.auth.models import User

from accounts.models import IdempotencyRecord
from orders.models import PosIntegration
from webhooks import services
from webhooks.models import Subscription

pytestmark = pytest.mark.django_db

POS_TOKEN = "Bearer pos-token-5f1c2a9e"


@pytest.fixture
def superuser(client):
    client.force_login(User.objects.create_superuser("root", "r@example.dk", "pw"))
    return client


@pytest.fixture
def subscription(shipper_a) -> Subscription:
    return services.subscription_create(
        shipper=shipper_a, live_mode=False, url="http://127.0.0.1:9/hooks", event_types=["*"]
    )


@pytest.fixture
def integration(shipper_a) -> PosIntegration:
    return PosIntegration.objects.create(
        shipper=shipper_a,
        live_mode=False,
        base_url="http://127.0.0.1:9",
        auth_header_name="Authorization",
        auth_header_value=POS_TOKEN,
    )


def _pages(client, *urls) -> str:
    pages = []
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        pages.append(response.content.decode())
    return "\n".join(pages)


def _subscription_form(subscription: Subscription, **changes) -> dict:
    return {
        "url": subscription.url,
        "event_types": '["*"]',
        "versions": "{}",
        "description": subscription.description,
        "active": "on",
        **changes,
    }


def _pos_form(integration: PosIntegration, **changes) -> dict:
    return {
        "shipper": str(integration.shipper_id),
        "live_mode": "",
        "base_url": integration.base_url,
        "auth_header_name": integration.auth_header_name,
        "new_auth_header_value": "",
        "active": "on",
        **changes,
    }


def test_it_never_shows_the_signing_secret_on_the_subscription_pages(superuser, subscription):
    change = f"/admin/webhooks/subscription/{subscription.id}/change/"
    superuser.post(change, _subscription_form(subscription, description="Shop"))

    html = _pages(
        superuser,
        "/admin/webhooks/subscription/",
        change,
        f"/admin/webhooks/subscription/{subscription.id}/history/",
    )

    assert subscription.secret not in html
    assert subscription.secret.removeprefix("whsec_") not in html


def test_it_keeps_the_signing_secret_when_the_subscription_form_is_saved(superuser, subscription):
    response = superuser.post(
        f"/admin/webhooks/subscription/{subscription.id}/change/",
        _subscription_form(subscription, url="http://127.0.0.1:9/other"),
    )

    assert response.status_code == 302, response.content.decode()[:3000]
    saved = Subscription.objects.get(id=subscription.id)
    assert saved.url == "http://127.0.0.1:9/other"
    assert saved.secret == subscription.secret


def test_it_rotates_the_secret_and_shows_the_new_one_once(superuser, subscription):
    response = superuser.post(
        "/admin/webhooks/subscription/",
        {"action": "rotate_secret", "_selected_action": [str(subscription.id)]},
        follow=True,
    )

    rotated = Subscription.objects.get(id=subscription.id)
    assert rotated.secret != subscription.secret
    assert rotated.previous_secret == subscription.secret
    assert rotated.secret in response.content.decode()
    later = _pages(superuser, f"/admin/webhooks/subscription/{subscription.id}/change/")
    assert rotated.secret not in later and subscription.secret not in later


def test_it_makes_the_secret_and_shows_it_once_when_a_subscription_is_added(superuser, shipper_a):
    response = superuser.post(
        "/admin/webhooks/subscription/add/",
        {
            "shipper": str(shipper_a.id),
            "live_mode": "",
            "url": "http://127.0.0.1:9/added",
            "event_types": '["ColloDeliveryArrived"]',
            "versions": "{}",
            "description": "",
        },
        follow=True,
    )

    added = Subscription.objects.get(url="http://127.0.0.1:9/added")
    assert added.secret.startswith("whsec_")
    assert added.secret in response.content.decode()
    later = _pages(superuser, f"/admin/webhooks/subscription/{added.id}/change/")
    assert added.secret not in later


def test_it_never_shows_the_signing_secret_of_a_stored_idempotent_answer(superuser, client_a):
    created = client_a.post(
        "/api/v1/webhooks/subscriptions",
        {"url": "http://127.0.0.1:9/hooks", "eventTypes": ["*"]},
        format="json",
        HTTP_IDEMPOTENCY_KEY="create-hook-1",
    )
    assert created.status_code == 201, created.json()
    record = IdempotencyRecord.objects.get(key="create-hook-1")

    html = _pages(superuser, f"/admin/accounts/idempotencyrecord/{record.id}/change/")

    assert created.json()["secret"] not in html
    assert created.json()["id"] in html  # the rest of the answer is still there


def test_it_never_shows_the_pos_auth_value(superuser, integration, shipper_a):
    html = _pages(
        superuser,
        "/admin/orders/posintegration/",
        f"/admin/orders/posintegration/{integration.id}/change/",
        f"/admin/accounts/shipper/{shipper_a.id}/change/",
    )

    assert "pos-token-5f1c2a9e" not in html


def test_it_keeps_the_pos_auth_value_when_left_blank_and_replaces_it_when_given(
    superuser, integration
):
    change = f"/admin/orders/posintegration/{integration.id}/change/"

    kept = superuser.post(change, _pos_form(integration, base_url="http://127.0.0.1:10"))
    assert kept.status_code == 302, kept.content.decode()[:3000]
    integration.refresh_from_db()
    assert integration.base_url == "http://127.0.0.1:10"
    assert integration.auth_header_value == POS_TOKEN

    replaced = superuser.post(change, _pos_form(integration, new_auth_header_value="Bearer new-1"))
    assert replaced.status_code == 302
    integration.refresh_from_db()
    assert integration.auth_header_value == "Bearer new-1"

    html = _pages(superuser, change, f"/admin/orders/posintegration/{integration.id}/history/")
    assert "new-1" not in html and "pos-token-5f1c2a9e" not in html

    superuser.post(change, _pos_form(integration, remove_auth_header_value="on"))
    integration.refresh_from_db()
    assert integration.auth_header_value == ""
