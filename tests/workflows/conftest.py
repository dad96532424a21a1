"""Workflows as staff define them, and a way to run what is due, as the worker would."""

from datetime import datetime

import pytest
from django.utils import timezone

from orders.models import Order
from tests.factories import order_payload
from workflows.engine import triggers_forget, workflow_run_process
from workflows.models import (
    WORKFLOW_RUN_OPEN,
    Workflow,
    WorkflowAction,
    WorkflowCondition,
    WorkflowRun,
)


@pytest.fixture(autouse=True)
def _fresh_trigger_cache():
    # Workflows of an earlier test were rolled back with it, not deleted through the model.
    triggers_forget()
    yield
    triggers_forget()


def workflow_make(
    *,
    trigger: tuple[str, str],
    actions: list[tuple[str, dict]],
    conditions: list[tuple] = (),
    name: str = "Notify and tag",
) -> Workflow:
    """A workflow as the admin saves it: every condition and action cleaned first."""
    workflow = Workflow(name=name, trigger_kind=trigger[0], trigger_name=trigger[1])
    workflow.full_clean()
    workflow.save()
    for subject, operator, value, *key in conditions:
        condition = WorkflowCondition(
            workflow=workflow, subject=subject, operator=operator, value=value, key=(key or [""])[0]
        )
        condition.full_clean()
        condition.save()
    for position, (kind, params) in enumerate(actions, start=1):
        action = WorkflowAction(workflow=workflow, position=position, kind=kind, params=params)
        action.full_clean()
        action.save()
    return workflow


def runs_process(now: datetime | None = None, rounds: int = 20) -> list[str]:
    """Process every open run that is due (and those its actions cause), as the worker would."""
    statuses = []
    for _ in range(rounds):
        due = WorkflowRun.objects.filter(
            status__in=WORKFLOW_RUN_OPEN, next_attempt_at__lte=now or timezone.now()
        ).order_by("created_at")
        ids = [str(i) for i in due.values_list("id", flat=True)]
        if not ids:
            break
        statuses += [workflow_run_process(run_id=i, now=now) for i in ids]
    return statuses


@pytest.fixture
def order_a(client_a) -> Order:
    payload = order_payload()
    payload["lines"][0]["reference"] = "line-1"
    payload["tags"] = []
    response = client_a.post("/api/v1/orders", payload, format="json")
    assert response.status_code == 201, response.json()
    return Order.objects.get(id=response.json()["id"])


def order_event_post(client, order: Order, event_type: str = "delivered", **extra):
    body = {
        "order_id": order.creator_order_id,
        "event_type": event_type,
        "event_reference": extra.pop("event_reference", f"ref-{event_type}"),
        "event_date": "2030-03-26T16:00:00Z",
        "message": "Left at the door",
        "custom_fields": {"tracking_reference": "aaaa-bbbb"},
        **extra,
    }
    response = client.post("/api/v1/order-events", body, format="json")
    assert response.status_code in (200, 201), response.json()
    return response.json()
