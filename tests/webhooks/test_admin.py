import pytest
from django.contrib.auth.models import User

from tests.factories import order_payload
from webhooks import sending, services
from webhooks.models import Delivery, DeliveryStatus, Subscription

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client):
    client.force_login(User.objects.create_superuser("root", "r@example.dk", "pw"))
    return client


@pytest.fixture
def failed_delivery(client_a, shipper_a, httpserver) -> Delivery:
    services.subscription_create(
        shipper=shipper_a, live_mode=False, url=httpserver.url_for("/hooks"), event_types=["*"]
    )
    httpserver.expect_request("/hooks").respond_with_data("nope", status=500)
    client_a.post("/api/v1/orders", order_payload(), format="json")
    delivery = Delivery.objects.get()
    sending.deliveries_send(delivery_ids=[str(delivery.id)])
    return delivery


def test_the_subscription_list_shows_health(staff, failed_delivery):
    response = staff.get("/admin/webhooks/subscription/")

    assert response.status_code == 200
    page = response.content.decode()
    assert "0.0 % of 1" in page
    assert "HTTP 500: nope" in page


def test_the_delivery_page_shows_its_attempts_and_replays(staff, failed_delivery):
    page = staff.get(f"/admin/webhooks/delivery/{failed_delivery.id}/change/")
    assert page.status_code == 200
    assert "nope" in page.content.decode()

    staff.post(
        "/admin/webhooks/delivery/",
        {"action": "replay", "_selected_action": [str(failed_delivery.id)]},
    )

    assert Delivery.objects.filter(replay_of=failed_delivery).count() == 1
    assert Delivery.objects.get(id=failed_delivery.id).status == DeliveryStatus.CANCELLED


def test_the_admin_switches_a_subscription_back_on(staff, failed_delivery):
    subscription = failed_delivery.subscription
    services.subscription_disable(subscription=subscription, reason="test")

    staff.post(
        "/admin/webhooks/subscription/",
        {"action": "switch_on", "_selected_action": [str(subscription.id)]},
    )

    subscription = Subscription.objects.get(id=subscription.id)
    assert subscription.active
    assert subscription.disabled_reason == ""
