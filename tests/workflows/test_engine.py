"""The workflow engine: triggers (order events, async events, outgoing events), actions run in
order through the services that own them, the audit trail, retries, loops, conditions."""

import json
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from werkzeug import Response

from orders.models import OrderHistory
from orders.services import order_cancel
from tests.workflows.conftest import order_event_post, runs_process, workflow_make
from webhooks.models import Event
from workflows.engine import events_appended, workflow_runs_sweep
from workflows.models import WorkflowCondition, WorkflowRun
from workflows.orchestration import orchestration_event_process

pytestmark = pytest.mark.django_db


def _audits(client, workflow_name: str) -> list[dict]:
    listed = client.get("/api/v1/event?category=ORCHESTRATION_AUDIT&limit=1000").json()
    return [e for e in listed["results"] if e["attributes"].get("workflow") == workflow_name]


def test_an_order_event_runs_its_workflow_s_actions_in_order(client_a, order_a, httpserver):
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    workflow_make(
        trigger=("order_event", "delivered"),
        actions=[
            ("add_tag", {"tag": "vip"}),
            ("move_status", {"to": "unplanned", "reason": "Delivered event seen"}),
            ("post_url", {"url": httpserver.url_for("/hook")}),
        ],
    )

    created = order_event_post(client_a, order_a)

    [run] = WorkflowRun.objects.all()
    assert (run.status, run.order_id, str(run.order_event_id)) == (
        "pending",
        order_a.id,
        created["id"],
    )
    assert runs_process() == ["done"]
    order_a.refresh_from_db()
    assert order_a.tags == ["vip"]
    assert order_a.status == "unplanned"
    moved = OrderHistory.objects.get(order=order_a, action="unplanned")
    assert moved.actor == "workflow:Notify and tag"
    [(request, _)] = httpserver.log
    body = json.loads(request.data)
    assert body["creatorOrderId"] == order_a.creator_order_id
    assert body["message"] == "Left at the door"
    assert body["customFields"] == {"tracking_reference": "aaaa-bbbb"}
    audits = _audits(client_a, "Notify and tag")
    steps = sorted((a["attributes"]["position"] or 0, a["attributes"]["action"]) for a in audits)
    assert steps == [(0, None), (1, "add_tag"), (2, "move_status"), (3, "post_url")]
    assert {a["attributes"]["outcome"] for a in audits} == {"done"}
    assert {a["rootEntityRef"] for a in audits} == {order_a.creator_order_id}
    assert runs_process() == []  # done once, never twice


def test_each_write_of_an_order_event_triggers_again(client_a, order_a):
    workflow_make(trigger=("order_event", "delivered"), actions=[("add_tag", {"tag": "seen"})])

    order_event_post(client_a, order_a)
    order_event_post(client_a, order_a, message="Updated")  # same event_reference: an update

    assert WorkflowRun.objects.count() == 2
    assert runs_process() == ["done", "done"]


def test_an_async_wms_event_runs_a_staff_workflow_audited_through_the_event_api(client_a, order_a):
    workflow_make(
        name="Packed",
        trigger=("async_event", "WmsPackConfirmed"),
        actions=[("add_tag", {"tag": "packed"})],
        conditions=[("event.attribute", "equals", "DK-1", "warehouse")],
    )

    accepted = client_a.post(
        "/api/v1/event/async",
        {
            "name": "WmsPackConfirmed",
            "rootEntityType": "ORDER",
            "rootEntityRef": order_a.creator_order_id,
            "attributes": {"warehouse": "DK-1"},
        },
        format="json",
    )

    assert accepted.status_code == 202, accepted.json()
    event_id = accepted.json()["id"]
    [orchestration] = Event.objects.get(id=event_id).orchestration_run.__class__.objects.all()
    assert orchestration_event_process(run_id=str(orchestration.id)) == "done"
    orchestration.refresh_from_db()
    assert orchestration.outcome == "Handed to workflows: Packed."  # not "no workflow matched"
    assert runs_process() == ["done"]
    order_a.refresh_from_db()
    assert order_a.tags == ["packed"]
    audits = _audits(client_a, "Packed")
    assert {a["attributes"]["trigger"] for a in audits} == {event_id}
    assert {(a["name"], a["category"]) for a in audits} == {
        ("WmsPackConfirmed", "ORCHESTRATION_AUDIT")
    }
    assert any(a["attributes"]["action"] == "add_tag" for a in audits)


def test_an_outgoing_event_of_a_cancelled_order_triggers_a_workflow(client_a, order_a, httpserver):
    httpserver.expect_request("/cancelled").respond_with_data("ok")
    workflow_make(
        name="Tell the ERP",
        trigger=("outgoing_event", "OrderCancelled"),
        actions=[("post_url", {"url": httpserver.url_for("/cancelled")})],
    )

    response = client_a.post(
        f"/api/v1/orders/{order_a.id}/cancel", {"reason": "Customer changed mind"}, format="json"
    )

    assert response.status_code == 200, response.json()
    [run] = WorkflowRun.objects.all()
    assert run.trigger_event.type == "OrderCancelled"
    assert run.order_id == order_a.id
    assert runs_process() == ["done"]
    [(request, _)] = httpserver.log
    assert json.loads(request.data)["trigger"] == "outgoing_event:OrderCancelled"


def test_a_failing_post_is_retried_on_its_schedule_and_the_trigger_is_kept(
    client_a, order_a, httpserver
):
    httpserver.expect_oneshot_request("/flaky").respond_with_response(Response("down", 500))
    workflow_make(
        name="Flaky",
        trigger=("outgoing_event", "OrderCancelled"),
        actions=[("add_tag", {"tag": "x"}), ("post_url", {"url": httpserver.url_for("/flaky")})],
    )
    order_cancel(order=order_a, reason="test", actor="test")
    run = WorkflowRun.objects.get()
    # A cancelled order's tags cannot change: make the first step one that holds.
    run.workflow.actions.filter(kind="add_tag").delete()
    now = timezone.now()

    assert runs_process(now=now) == ["retrying"]

    run.refresh_from_db()
    assert run.attempts == 1
    assert run.next_attempt_at == now + timedelta(seconds=30)  # the HTTP schedule's first wait
    assert "500" in run.last_error
    assert runs_process(now=now + timedelta(seconds=10)) == []  # not due yet
    httpserver.expect_request("/flaky").respond_with_data("ok")
    assert runs_process(now=now + timedelta(seconds=31)) == ["done"]
    assert Event.objects.filter(id=run.trigger_event_id).exists()
    outcomes = [a["attributes"]["outcome"] for a in _audits(client_a, "Flaky")]
    assert sorted(outcomes) == ["done", "done", "retrying"]


def test_a_post_failing_past_its_schedule_fails_the_run_audited(client_a, order_a, httpserver):
    httpserver.expect_request("/down").respond_with_response(Response("down", 503))
    workflow_make(
        name="Down",
        trigger=("order_event", "delivered"),
        actions=[("post_url", {"url": httpserver.url_for("/down")}), ("add_tag", {"tag": "z"})],
    )
    order_event_post(client_a, order_a)
    now = timezone.now()

    for _ in range(6):
        now += timedelta(hours=7)
        runs_process(now=now)

    run = WorkflowRun.objects.get()
    assert run.status == "failed"
    assert run.attempts == 6  # the first try and the 5 retries of the HTTP schedule
    order_a.refresh_from_db()
    assert order_a.tags == []  # the steps after the failing one never ran
    failed = [a for a in _audits(client_a, "Down") if a["attributes"]["outcome"] == "failed"]
    assert "answered 503" in failed[0]["attributes"]["error"]
    assert failed[0]["attributes"]["action"] == "post_url"


def test_an_illegal_status_move_fails_the_run_without_retry(client_a, order_a):
    workflow_make(
        name="Deliver",
        trigger=("order_event", "delivered"),
        actions=[("move_status", {"to": "delivered"})],
    )
    order_event_post(client_a, order_a)

    assert runs_process() == ["failed"]

    [audit] = [a for a in _audits(client_a, "Deliver") if a["attributes"]["action"]]
    assert audit["attributes"]["outcome"] == "failed"
    assert "cannot move to delivered" in audit["attributes"]["error"]


def test_a_looping_workflow_is_stopped_and_audited(client_a, order_a, settings):
    settings.WORKFLOW_MAX_DEPTH = 2
    workflow_make(
        name="Loop",
        trigger=("outgoing_event", "OrderUpdated"),
        actions=[("add_tag", {"tag": "ping"}), ("remove_tag", {"tag": "ping"})],
    )
    client_a.patch(f"/api/v1/orders/{order_a.id}", {"notes": "go"}, format="json")

    runs_process()

    runs = WorkflowRun.objects.all()
    assert runs.filter(status="stopped").exists()
    assert not runs.filter(status__in=["pending", "retrying"]).exists()
    assert max(r.depth for r in runs) == 3
    stopped = [a for a in _audits(client_a, "Loop") if a["attributes"]["outcome"] == "stopped"]
    assert stopped and "loop" in stopped[0]["attributes"]["message"]


def test_too_many_runs_for_one_order_are_stopped(client_a, order_a, settings):
    settings.WORKFLOW_MAX_RUNS_PER_ORDER = 2
    workflow_make(trigger=("order_event", "delivered"), actions=[])

    for reference in ("a", "b", "c"):
        order_event_post(client_a, order_a, event_reference=reference)

    assert list(WorkflowRun.objects.order_by("created_at").values_list("status", flat=True)) == [
        "pending",
        "pending",
        "stopped",
    ]


@pytest.mark.parametrize(
    ("kind", "params", "field"),
    [
        ("post_url", {"url": "ftp://example.com/x"}, "url"),
        ("post_url", {}, "url"),
        ("move_status", {"to": "teleported"}, "to"),
        ("add_tag", {"tag": "vip", "colour": "red"}, "colour"),
        ("add_tag", {"tag": 5}, "tag"),
    ],
)
def test_a_bad_action_parameter_is_refused_naming_it(kind, params, field):
    with pytest.raises(ValidationError) as refused:
        workflow_make(trigger=("order_event", "delivered"), actions=[(kind, params)])

    [message] = refused.value.message_dict["params"]
    assert message.startswith(f"{field}:")


def test_an_unknown_action_kind_or_trigger_is_refused_naming_the_field():
    with pytest.raises(ValidationError) as refused:
        workflow_make(trigger=("order_event", "delivered"), actions=[("teleport", {})])
    assert "kind" in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        workflow_make(name="x", trigger=("outgoing_event", "OrderTeleported"), actions=[])
    assert "trigger_name" in refused.value.message_dict


@pytest.mark.parametrize(
    ("subject", "operator", "value", "field"),
    [
        ("order.status", "equals", "teleported", "value"),
        ("order.tags", "equals", "vip", "operator"),
        ("event.attribute", "equals", "x", "key"),
        ("shipper", "equals", "nobody-we-know", "value"),
        ("order.delivery_country", "in", "DK,Denmark", "value"),
        ("the moon", "equals", "x", "subject"),
    ],
)
def test_a_bad_condition_is_refused_naming_the_field(subject, operator, value, field):
    workflow = workflow_make(trigger=("order_event", "delivered"), actions=[])
    condition = WorkflowCondition(
        workflow=workflow, subject=subject, operator=operator, value=value
    )
    with pytest.raises(ValidationError) as refused:
        condition.full_clean()
    assert field in refused.value.message_dict


def test_conditions_on_shipper_and_tag_filter_runs(client_a, client_b, order_a, shipper_a):
    workflow_make(
        name="VIPs of Nordic Home",
        trigger=("order_event", "delivered"),
        actions=[("add_tag", {"tag": "thanked"})],
        conditions=[("shipper", "equals", shipper_a.slug), ("order.tags", "contains", "vip")],
    )
    theirs = client_b.post("/api/v1/orders", _payload_with_tags(["vip"]), format="json").json()
    from orders.models import Order

    order_b = Order.objects.get(id=theirs["id"])
    order_event_post(client_b, order_b)
    order_event_post(client_a, order_a)  # no vip tag

    assert sorted(runs_process()) == ["skipped", "skipped"]
    client_a.patch(f"/api/v1/orders/{order_a.id}", {"tags": ["vip"]}, format="json")
    order_event_post(client_a, order_a, event_reference="again")
    assert runs_process() == ["done"]
    order_a.refresh_from_db()
    order_b.refresh_from_db()
    assert order_a.tags == ["vip", "thanked"]
    assert order_b.tags == ["vip"]
    [skipped] = [
        a
        for a in _audits(client_a, "VIPs of Nordic Home")
        if a["attributes"]["step"] == "condition"
    ]
    assert skipped["attributes"]["rule"] == "order.tags contains vip"
    assert _audits(client_a, "VIPs of Nordic Home") != _audits(client_b, "VIPs of Nordic Home")


def _payload_with_tags(tags):
    from tests.factories import order_payload

    return {**order_payload(), "tags": tags}


def test_an_event_no_workflow_listens_to_costs_no_query(client_a, order_a):
    workflow_make(trigger=("outgoing_event", "OrderDeliveryCompleted"), actions=[])
    events = list(Event.objects.all()[:5])
    events_appended(events)  # the trigger set is cached from here on

    with CaptureQueriesContext(connection) as queries:
        events_appended(events)

    assert {e.type for e in events}.isdisjoint({"OrderDeliveryCompleted"})
    assert len(queries) == 0


def test_the_sweeper_queues_a_run_whose_message_was_lost(client_a, order_a):
    workflow_make(trigger=("order_event", "delivered"), actions=[("add_tag", {"tag": "a"})])
    order_event_post(client_a, order_a)
    WorkflowRun.objects.update(queued_at=None)  # as when the broker refused the message

    with transaction.atomic():
        assert workflow_runs_sweep() == 1
    assert WorkflowRun.objects.get().queued_at is not None
    assert workflow_runs_sweep() == 0  # queued: not lost any more


def test_without_the_notifications_module_an_email_action_fails_audited(client_a, order_a):
    try:
        import notifications.services  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("the notifications module is installed")
    workflow_make(
        name="Mail",
        trigger=("order_event", "delivered"),
        actions=[("send_email", {"template": "x"})],
    )
    order_event_post(client_a, order_a)

    assert runs_process() == ["failed"]
    [failed] = [a for a in _audits(client_a, "Mail") if a["attributes"]["action"]]
    assert "notifications module is not installed" in failed["attributes"]["error"]
