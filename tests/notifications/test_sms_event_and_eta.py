"""NotificationOrderSmsSent built from real state against the seed's 1.0 and 2.0 fixtures,
and seed 004's schedule trigger: a new ETA sends the ETA window SMS."""

import datetime
import json

import jsonschema
import pytest

from config.celery_app import app
from notifications.models import EtaNotice, MessageStatus, NotificationMessage
from notifications.services import eta_notices_sweep, notification_send, order_eta_notify
from tests.tracking.test_seed_events_golden import FIXTURES, shape_differences
from tracking.facts import ETA_UPDATED, CarrierFact
from tracking.services import carrier_facts_apply
from webhooks.catalogue import CATALOGUE
from webhooks.models import Event

pytestmark = pytest.mark.django_db

ETA = datetime.datetime(2030, 6, 3, 6, 30, tzinfo=datetime.UTC)


def _fixture(version: str) -> dict:
    path = FIXTURES / f"NotificationOrderSmsSent.v{version}.json"
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("version", ["1.0", "2.0"])
def test_the_sms_event_has_the_seeds_shape(order, eta_template, version):
    order.pickup_from = ETA - datetime.timedelta(hours=3)
    order.pickup_to = ETA - datetime.timedelta(hours=2)
    order.save(update_fields=["pickup_from", "pickup_to"])
    order_eta_notify(order_id=order.id, eta_from=ETA)
    event = Event.objects.get(type="NotificationOrderSmsSent")
    envelope = event.envelope()
    message = NotificationMessage.objects.get()
    built = CATALOGUE["NotificationOrderSmsSent"].build(
        version, order=order, message=message, template=eta_template, time_of_event=ETA
    )
    envelope = {**envelope, "version": version, "data": built}
    assert shape_differences(envelope, _fixture(version)) == []
    jsonschema.validate(envelope, CATALOGUE["NotificationOrderSmsSent"].schema(version))


def test_the_schedule_trigger_sends_the_window_and_records_the_promise(order, eta_template):
    message = order_eta_notify(order_id=order.id, eta_from=ETA)
    # ETA 08:30 in Copenhagen, 15 minutes before and 20 after.
    assert message.body == "Hi Jane, we arrive 08:15-08:50."
    assert message.update_delivery_promise is True
    data = Event.objects.get(type="NotificationOrderSmsSent").data  # the latest version, 2.0
    assert data["data"]["deliveryEtaWindow"] == {
        "from": "2030-06-03T08:15:00+02:00",
        "to": "2030-06-03T08:50:00+02:00",
    }
    assert data["template"]["parameters"] == {
        "timeAddedToEstimate": 1200,
        "timeSubtractedFromEstimate": 900,
        "scheduleId": "12312421312",
        "updatePickupPromise": False,
        "updateDeliveryPromise": True,
    }
    v1 = CATALOGUE["NotificationOrderSmsSent"].build(
        "1.0", order=order, message=message, template=eta_template, time_of_event=ETA
    )
    assert v1["data"]["updateDeliveryPromise"] is True
    assert v1["template"]["triggerEvent"] == "OrderScheduleTrigger"
    # The same ETA again sends nothing new.
    assert order_eta_notify(order_id=order.id, eta_from=ETA).id == message.id
    assert NotificationMessage.objects.count() == 1


def test_no_schedule_template_no_sms(order, eta_template):
    eta_template.active = False
    eta_template.save()
    assert order_eta_notify(order_id=order.id, eta_from=ETA) is None
    assert not NotificationMessage.objects.exists()


def test_an_applied_eta_update_from_a_carrier_sends_the_window(
    order, eta_template, carrier, django_capture_on_commit_callbacks, settings
):
    app.conf.task_always_eager = True
    try:
        with django_capture_on_commit_callbacks(execute=True):
            carrier_facts_apply(
                carrier=carrier,
                facts=[
                    CarrierFact(
                        type=ETA_UPDATED,
                        external_id="eta-1",
                        time_of_event=ETA - datetime.timedelta(hours=1),
                        order=order,
                        eta_from=ETA,
                        eta_to=ETA + datetime.timedelta(minutes=30),
                    )
                ],
            )
    finally:
        app.conf.task_always_eager = False
    message = NotificationMessage.objects.get()
    assert message.status == MessageStatus.SENT
    assert message.body == "Hi Jane, we arrive 08:15-09:20."  # the window's end plus 20
    sms = (settings.SMS_FILE_PATH / "sms.jsonl").read_text()
    assert "08:15-09:20" in sms


def test_an_sms_of_another_trigger_sends_data_null(order, eta_template):
    notification_send(order=order, channel="sms", template="eta-window", key="x", trigger="Other")
    assert Event.objects.get(type="NotificationOrderSmsSent").data["data"] is None


def test_an_eta_change_the_broker_never_took_is_swept_and_sent(
    order, eta_template, carrier, django_capture_on_commit_callbacks
):
    fact = CarrierFact(
        type=ETA_UPDATED,
        external_id="eta-lost",
        time_of_event=ETA - datetime.timedelta(hours=1),
        order=order,
        eta_from=ETA,
    )
    carrier_facts_apply(carrier=carrier, facts=[fact])  # its on-commit queueing never runs
    notice = EtaNotice.objects.get(order=order)
    assert (notice.done_at, NotificationMessage.objects.count()) == (None, 0)
    EtaNotice.objects.filter(id=notice.id).update(queued_at=None)  # as a refused publish

    app.conf.task_always_eager = True
    try:
        with django_capture_on_commit_callbacks(execute=True):
            assert eta_notices_sweep() == 1
        notice_sent = NotificationMessage.objects.get()
    finally:
        app.conf.task_always_eager = False

    assert notice_sent.status == MessageStatus.SENT
    notice.refresh_from_db()
    assert notice.done_at is not None
    assert eta_notices_sweep() == 0


def test_no_schedule_template_records_no_eta_notice(order, eta_template, carrier):
    eta_template.active = False
    eta_template.save()
    fact = CarrierFact(
        type=ETA_UPDATED, external_id="eta-none", time_of_event=ETA, order=order, eta_from=ETA
    )

    carrier_facts_apply(carrier=carrier, facts=[fact])

    assert not EtaNotice.objects.exists()
