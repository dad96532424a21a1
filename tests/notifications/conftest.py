import pytest

from notifications.models import SCHEDULE_TRIGGER, Channel, NotificationTemplate
from orders.models import Order
from tests.factories import order_payload

EMAIL_TEXT = (
    "Hi {{ receiver.firstName }}, order {{ order.reference }}: {{ message }}\n"
    "{% for line in lines %}{{ line.reference }} x{{ line.quantity }} "
    "{{ line.row_total_inc_tax }}\n{% endfor %}"
    "Gift note: {{ customFields.giftNote }}\nTrack it: {{ trackingUrl }}\n"
)
EMAIL_HTML = "<p>Hi {{ receiver.firstName }}</p><p>{{ message }}</p>"
SMS_TEXT = "Hi {{ receiver.firstName }}, we arrive {{ etaWindow.fromTime }}-{{ etaWindow.toTime }}."


@pytest.fixture(autouse=True)
def _demo_backends(settings, tmp_path):
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = tmp_path / "mail"
    settings.SMS_FILE_PATH = tmp_path / "sms"
    settings.SMS_PROVIDER = "file"
    settings.TRACKING_PAGE_BASE_URL = "https://track.example"


def _order(client) -> Order:
    response = client.post("/api/v1/orders", order_payload(), format="json")
    assert response.status_code == 201, response.json()
    return Order.objects.select_related("shipper").get(id=response.json()["id"])


@pytest.fixture
def order(client_a) -> Order:
    """A test-mode order: its notifications go to the demo backends only."""
    return _order(client_a)


@pytest.fixture
def live_order(client_a_live) -> Order:
    return _order(client_a_live)


@pytest.fixture
def email_template(db) -> NotificationTemplate:
    return NotificationTemplate.objects.create(
        code="order-shipped",
        channel=Channel.EMAIL,
        name="Order shipped",
        subject="Your order {{ order.reference }} is on its way",
        text_body=EMAIL_TEXT,
        html_body=EMAIL_HTML,
    )


@pytest.fixture
def eta_template(db) -> NotificationTemplate:
    return NotificationTemplate.objects.create(
        code="eta-window",
        channel=Channel.SMS,
        name="ETA window",
        text_body=SMS_TEXT,
        trigger_event=SCHEDULE_TRIGGER,
        time_subtracted_from_estimate=900,
        time_added_to_estimate=1200,
        schedule_id="12312421312",
        update_delivery_promise=True,
    )
