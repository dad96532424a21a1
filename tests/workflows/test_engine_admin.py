"""Staff edit workflows in the admin: a dispatcher may, finance may not; a bad parameter of an
action is refused in the form, naming the parameter; runs are a read-only log."""

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client

from workflows.models import Workflow, WorkflowRun

pytestmark = pytest.mark.django_db


def _staff(group: str) -> Client:
    user = User.objects.create_user(f"{group}-user", password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    client = Client()
    client.force_login(user)
    return client


def _form(params: str, kind: str = "post_url") -> dict:
    return {
        "name": "Tell the ERP",
        "active": "on",
        "trigger_kind": "outgoing_event",
        "trigger_name": "OrderCancelled",
        "description": "",
        "conditions-TOTAL_FORMS": "1",
        "conditions-INITIAL_FORMS": "0",
        "conditions-0-subject": "order.live_mode",
        "conditions-0-operator": "equals",
        "conditions-0-value": "true",
        "conditions-0-key": "",
        "actions-TOTAL_FORMS": "1",
        "actions-INITIAL_FORMS": "0",
        "actions-0-position": "1",
        "actions-0-kind": kind,
        "actions-0-params": params,
    }


def test_a_dispatcher_saves_a_workflow_with_its_conditions_and_actions():
    response = _staff("dispatcher").post(
        "/admin/workflows/workflow/add/", _form('{"url": "https://example.com/hook"}')
    )

    assert response.status_code == 302, response.content[:2000]
    workflow = Workflow.objects.get()
    assert [(a.kind, a.params) for a in workflow.actions.all()] == [
        ("post_url", {"url": "https://example.com/hook"})
    ]
    assert [str(c) for c in workflow.conditions.all()] == ["order.live_mode equals true"]


@pytest.mark.parametrize(
    ("kind", "params", "named"),
    [
        ("post_url", '{"url": "ftp://example.com/hook"}', "url: must be an https:// URL."),
        ("move_status", '{"to": "teleported"}', "to: &#x27;teleported&#x27; is not one of"),
        ("add_tag", "{}", "tag: is required."),
    ],
)
def test_a_bad_action_parameter_is_refused_in_the_form_naming_it(kind, params, named):
    response = _staff("dispatcher").post("/admin/workflows/workflow/add/", _form(params, kind=kind))

    assert response.status_code == 200
    assert named in response.content.decode()
    assert not Workflow.objects.exists()


def test_finance_cannot_see_or_edit_workflows():
    finance = _staff("finance")

    assert finance.get("/admin/workflows/workflow/").status_code == 403
    assert finance.get("/admin/workflows/workflowrun/").status_code == 403


def test_the_run_log_is_read_only_for_a_dispatcher():
    dispatcher = _staff("dispatcher")

    assert dispatcher.get("/admin/workflows/workflowrun/").status_code == 200
    assert dispatcher.get("/admin/workflows/workflowrun/add/").status_code == 403
    assert not WorkflowRun.objects.exists()
