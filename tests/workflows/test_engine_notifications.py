"""Email and SMS actions against the notifications module's contract
(``notifications.services.notification_send``); skipped until that module is installed."""

import pytest

notifications = pytest.importorskip("notifications.services")

from tests.workflows.conftest import order_event_post, runs_process, workflow_make  # noqa: E402
from workflows.models import WorkflowRun  # noqa: E402

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(monkeypatch):
    """What the workflow asked the notifications module to send (its contract's arguments)."""
    calls = []
    real = notifications.notification_send

    def record(**kwargs):
        calls.append(kwargs)
        return real(**kwargs)

    monkeypatch.setattr(notifications, "notification_send", record)
    return calls


def test_an_order_event_sends_an_email_with_its_message_and_fields(client_a, order_a, sent):
    workflow_make(
        trigger=("order_event", "delivered"),
        actions=[("send_email", {"template": "order-delivered"})],
    )
    order_event_post(client_a, order_a)

    runs_process()

    [call] = sent
    assert call["channel"] == "email"
    assert call["template"] == "order-delivered"
    assert call["message"] == "Left at the door"
    assert call["custom_fields"] == {"tracking_reference": "aaaa-bbbb"}
    run = WorkflowRun.objects.get()
    assert call["key"] == f"workflow-run:{run.id}:0"


def test_a_provider_down_is_retried_on_the_notification_schedule(client_a, order_a, monkeypatch):
    def down(**kwargs):
        raise notifications.ProviderUnavailable("SMS provider down")

    monkeypatch.setattr(notifications, "notification_send", down)
    workflow_make(trigger=("order_event", "delivered"), actions=[("send_sms", {"template": "eta"})])
    order_event_post(client_a, order_a)

    assert runs_process() == ["retrying"]
    run = WorkflowRun.objects.get()
    assert (run.next_attempt_at - run.created_at).total_seconds() > 50  # 1 minute first
    assert run.trigger_key.startswith("order-event:")
