import pytest
from django.contrib.auth.models import Group, User

from accounts.models import ApiKey
from orders.models import Order, OrderStatus, PosFetch, PosIntegration
from tests.factories import order_payload

pytestmark = pytest.mark.django_db


@pytest.fixture
def dispatcher_client(client):
    user = User.objects.create_user("dispatch", password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name="dispatcher"))
    client.force_login(user)
    return client


@pytest.fixture
def admin_client_(client):
    client.force_login(User.objects.create_superuser("root", "r@example.dk", "pw"))
    return client


@pytest.fixture
def order(client_a) -> dict:
    return client_a.post("/api/v1/orders", order_payload(tags=["Express"]), format="json").json()


def test_the_dispatcher_finds_orders_by_reference_barcode_and_filters(dispatcher_client, order):
    barcode = order["collis"][0]["barcode"]

    for query in (
        f"?q={order['creatorOrderId']}",
        f"?q={barcode}",
        "?status__exact=created",
        "?tag=Express",
    ):
        response = dispatcher_client.get(f"/admin/orders/order/{query}")
        assert response.status_code == 200
        assert order["creatorOrderId"] in response.content.decode()

    page = dispatcher_client.get(f"/admin/orders/order/{order['id']}/change/")
    assert page.status_code == 200
    assert "created" in page.content.decode()  # the history inline
    assert order["collis"][0]["barcode"] in page.content.decode()


def test_the_dispatcher_cancels_orders_through_the_service(dispatcher_client, order):
    response = dispatcher_client.post(
        "/admin/orders/order/", {"action": "cancel_orders", "_selected_action": [order["id"]]}
    )

    assert response.status_code == 302
    cancelled = Order.objects.get(id=order["id"])
    assert cancelled.status == OrderStatus.CANCELLED
    assert cancelled.history.last().actor == "user:dispatch"


def test_an_admin_issues_a_key_shown_once_and_revokes_it(admin_client_, shipper_a):
    response = admin_client_.post(
        "/admin/accounts/shipper/",
        {"action": "issue_test_key", "_selected_action": [str(shipper_a.id)]},
        follow=True,
    )

    assert "wb_test_" in response.content.decode()
    api_key = ApiKey.objects.get(shipper=shipper_a, name="admin:root")
    admin_client_.post(
        "/admin/accounts/apikey/", {"action": "revoke", "_selected_action": [str(api_key.id)]}
    )
    api_key.refresh_from_db()
    assert api_key.revoked_at is not None


def test_the_pos_screens_render(admin_client_, shipper_a, client_a):
    PosIntegration.objects.create(shipper=shipper_a, live_mode=False, base_url="http://127.0.0.1:9")
    client_a.post(
        "/api/v1/pos/events", {"eventType": "OrderUpdated", "entityId": "X"}, format="json"
    )

    assert admin_client_.get("/admin/orders/posfetch/").status_code == 200
    assert admin_client_.get(f"/admin/accounts/shipper/{shipper_a.id}/change/").status_code == 200
    fetch = PosFetch.objects.get()
    response = admin_client_.post(
        "/admin/orders/posfetch/", {"action": "retry_now", "_selected_action": [str(fetch.id)]}
    )
    assert response.status_code == 302
    assert admin_client_.get("/admin/webhooks/event/").status_code == 200
