"""notification_send: rendering with merge tags and line overrides, email to the file
backend, SMS to the file provider and to Twilio's API on a local server, retries with the
same key, refusals and test mode."""

import datetime
import json
from email import message_from_bytes

import pytest
from werkzeug import Response

from notifications.models import Channel, MessageStatus, NotificationMessage, ReceiverOptOut
from notifications.services import NotificationRefused, ProviderUnavailable, notification_send
from webhooks.models import Event

pytestmark = pytest.mark.django_db


def _mails(settings) -> list:
    files = sorted(settings.EMAIL_FILE_PATH.glob("*.log"))
    return [message_from_bytes(f.read_bytes()) for f in files]


def _sms_lines(settings) -> list[dict]:
    path = settings.SMS_FILE_PATH / "sms.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


def _parts(mail) -> dict[str, str]:
    return {
        part.get_content_type(): part.get_payload(decode=True).decode()
        for part in mail.walk()
        if not part.is_multipart()
    }


def test_line_overrides_and_merge_tags_reach_the_emails_text(order, email_template, settings):
    sent = notification_send(
        order=order,
        channel="email",
        template="order-shipped",
        key="evt-1:email",
        message="Shipped <today>",
        custom_fields={"giftNote": "Happy birthday"},
        lines=[{"order_line_id": "SKU-2002", "quantity": "3", "row_total_inc_tax": "3000.00"}],
    )
    assert sent.status == MessageStatus.SENT
    [mail] = _mails(settings)
    assert mail["To"] == "jane@example.dk"
    assert mail["Subject"] == f"Your order {order.creator_order_id} is on its way"
    parts = _parts(mail)
    text = parts["text/plain"]
    assert f"Hi Jane, order {order.creator_order_id}: Shipped <today>" in text
    assert "SKU-2002 x3 3000.00" in text
    assert "SKU-1001" not in text  # the event named one line only
    assert "Gift note: Happy birthday" in text
    assert f"Track it: https://track.example/t/{order.tracking_token}" in text
    # The HTML part is escaped.
    assert "<p>Shipped &lt;today&gt;</p>" in parts["text/html"]
    assert sent.body == text and sent.to == "jane@example.dk"


def test_without_overrides_every_line_shows_its_own_values(order, email_template, settings):
    notification_send(order=order, channel="email", template="order-shipped", key="k")
    text = _parts(_mails(settings)[0])["text/plain"]
    assert "SKU-1001 x1 6243.75" in text  # 4995.00 plus 25 % tax
    assert "SKU-2002 x4 4495.00" in text
    assert "Gift note: \n" in text  # a custom field the event lacks is empty


def test_the_same_key_sends_once(order, email_template, settings):
    first = notification_send(order=order, channel="email", template="order-shipped", key="k1")
    again = notification_send(order=order, channel="email", template="order-shipped", key="k1")
    assert again.id == first.id
    assert len(_mails(settings)) == 1


def test_sms_goes_to_the_file_provider_and_emits_the_event(order, eta_template, settings):
    sent = notification_send(order=order, channel="sms", template="eta-window", key="s1")
    [line] = _sms_lines(settings)
    assert line["to"] == "+4522345678" and line["from"] == "Waybill"
    assert line["text"] == sent.body == "Hi Jane, we arrive -."
    assert sent.provider == "file" and sent.provider_id == line["id"]
    event = Event.objects.get(type="NotificationOrderSmsSent")
    assert event.shipper_id == order.shipper_id and event.live_mode is False
    assert event.data["sms"] == {"from": "Waybill", "to": "+4522345678", "content": sent.body}
    assert event.data["data"] is None  # not the schedule trigger


def test_an_opted_out_receiver_is_refused(order, email_template, settings):
    ReceiverOptOut.objects.create(
        shipper=order.shipper, channel=Channel.EMAIL, address=" Jane@Example.DK "
    )
    with pytest.raises(NotificationRefused, match="opted out"):
        notification_send(order=order, channel="email", template="order-shipped", key="o1")
    assert _mails(settings) == []
    assert NotificationMessage.objects.get(key="o1").status == MessageStatus.REFUSED


def test_a_phone_opt_out_matches_any_spelling(order, eta_template, settings):
    ReceiverOptOut.objects.create(
        shipper=order.shipper, channel=Channel.SMS, address="0045 22345678"
    )
    with pytest.raises(NotificationRefused):
        notification_send(order=order, channel="sms", template="eta-window", key="o2")
    assert _sms_lines(settings) == []


@pytest.mark.parametrize(
    "change, match",
    [
        ({"active": False}, "No active"),
        ({"text_body": "{{ order.referense }}"}, "order.referense"),
        ({"text_body": "{% load static %}"}, "text_body"),
    ],
)
def test_an_inactive_template_or_a_bad_merge_tag_is_refused(order, email_template, change, match):
    for field, value in change.items():
        setattr(email_template, field, value)
    email_template.save()
    with pytest.raises(NotificationRefused, match=match):
        notification_send(order=order, channel="email", template="order-shipped", key="b1")


def test_an_unknown_template_and_a_receiver_without_phone_are_refused(order, eta_template):
    with pytest.raises(NotificationRefused, match="No active"):
        notification_send(order=order, channel="email", template="nope", key="u1")
    order.delivery_contact = {"preferredName": "Jane"}
    with pytest.raises(NotificationRefused, match="no phone"):
        notification_send(order=order, channel="sms", template="eta-window", key="u2")


def test_an_unknown_line_is_refused(order, email_template):
    with pytest.raises(NotificationRefused, match="no line 'SKU-9'"):
        notification_send(
            order=order,
            channel="email",
            template="order-shipped",
            key="l1",
            lines=[{"order_line_id": "SKU-9"}],
        )


def test_a_shippers_own_template_wins_over_the_global_one(order, email_template, settings):
    email_template.pk = None
    email_template.id = None
    email_template.shipper = order.shipper
    email_template.subject = "Own subject"
    email_template.save()
    notification_send(order=order, channel="email", template="order-shipped", key="w1")
    assert _mails(settings)[0]["Subject"] == "Own subject"


# --- the real provider --------------------------------------------------------------------


@pytest.fixture
def twilio(settings, httpserver):
    settings.SMS_PROVIDER = "twilio"
    settings.TWILIO_API_URL = httpserver.url_for("/")
    settings.TWILIO_ACCOUNT_SID = "AC123"
    settings.TWILIO_AUTH_TOKEN = "secret"
    settings.SMS_TIMEOUT_S = 2
    return httpserver


MESSAGES = "/2010-04-01/Accounts/AC123/Messages.json"


def test_a_live_orders_sms_goes_to_twilio(live_order, eta_template, twilio, settings):
    captured = []

    def handler(request):
        captured.append(request)
        return Response(json.dumps({"sid": "SM42"}), status=201, content_type="application/json")

    twilio.expect_oneshot_request(MESSAGES, method="POST").respond_with_handler(handler)
    sent = notification_send(order=live_order, channel="sms", template="eta-window", key="t1")
    assert sent.status == MessageStatus.SENT and sent.provider_id == "SM42"
    [request] = captured
    assert request.authorization.username == "AC123"
    assert request.authorization.password == "secret"
    assert request.form["To"] == "+4522345678" and request.form["Body"] == sent.body
    assert _sms_lines(settings) == []


def test_a_failing_provider_is_unavailable_and_a_retry_sends_once(live_order, eta_template, twilio):
    twilio.expect_oneshot_request(MESSAGES, method="POST").respond_with_data("down", status=503)
    with pytest.raises(ProviderUnavailable):
        notification_send(order=live_order, channel="sms", template="eta-window", key="r1")
    failed = NotificationMessage.objects.get(key="r1")
    assert failed.status == MessageStatus.FAILED and "503" in failed.error
    twilio.expect_oneshot_request(MESSAGES, method="POST").respond_with_json(
        {"sid": "SM43"}, status=201
    )
    sent = notification_send(order=live_order, channel="sms", template="eta-window", key="r1")
    again = notification_send(order=live_order, channel="sms", template="eta-window", key="r1")
    assert sent.id == again.id == failed.id
    assert again.status == MessageStatus.SENT and again.attempts == 2
    assert len([r for r, _ in twilio.log if r.path == MESSAGES]) == 2  # one failed, one sent
    assert Event.objects.filter(type="NotificationOrderSmsSent").count() == 1


def test_a_provider_timeout_is_unavailable(live_order, eta_template, twilio):
    import time

    def slow(request):
        time.sleep(3)
        return Response("{}", status=201)

    twilio.expect_oneshot_request(MESSAGES, method="POST").respond_with_handler(slow)
    with pytest.raises(ProviderUnavailable):
        notification_send(order=live_order, channel="sms", template="eta-window", key="to1")


def test_a_provider_refusing_the_message_is_refused(live_order, eta_template, twilio):
    twilio.expect_oneshot_request(MESSAGES, method="POST").respond_with_json(
        {"message": "The 'To' number is not valid."}, status=400
    )
    with pytest.raises(NotificationRefused, match="not valid"):
        notification_send(order=live_order, channel="sms", template="eta-window", key="x1")


def test_a_private_provider_address_is_refused_by_the_outbound_guard(
    live_order, eta_template, twilio, settings
):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    with pytest.raises(NotificationRefused, match="refused"):
        notification_send(order=live_order, channel="sms", template="eta-window", key="g1")
    assert twilio.log == []


def test_test_mode_never_uses_the_real_provider(order, eta_template, twilio, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 1  # nothing listens
    sent = notification_send(order=order, channel="sms", template="eta-window", key="tm1")
    assert sent.test_mode and sent.provider == "file"
    assert len(_sms_lines(settings)) == 1
    assert twilio.log == []


def test_test_mode_email_goes_to_the_file_whatever_the_backend(order, email_template, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 1
    notification_send(order=order, channel="email", template="order-shipped", key="tm2")
    assert len(_mails(settings)) == 1


def test_an_smtp_server_that_is_down_is_unavailable(live_order, email_template, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 1, 2
    with pytest.raises(ProviderUnavailable):
        notification_send(order=live_order, channel="email", template="order-shipped", key="m1")
    assert NotificationMessage.objects.get(key="m1").status == MessageStatus.FAILED


def test_an_eta_window_is_a_merge_tag_in_the_delivery_places_zone(order, eta_template):
    start = datetime.datetime(2030, 6, 3, 6, 0, tzinfo=datetime.UTC)
    sent = notification_send(
        order=order,
        channel="sms",
        template="eta-window",
        key="e1",
        eta_window=(start, start + datetime.timedelta(minutes=40)),
    )
    assert sent.body == "Hi Jane, we arrive 08:00-08:40."  # Copenhagen, summer time
