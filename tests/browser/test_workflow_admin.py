"""A dispatcher builds a workflow in a real browser (headless Chromium driven by Playwright):
a trigger, a condition and an action added inline; an action with a bad parameter is refused
with the parameter named.

Screenshots land in ``$WAYBILL_VAR_DIR/screenshots``."""

from __future__ import annotations

import pytest

from workflows.models import Workflow

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _fill_workflow(page, name: str) -> None:
    page.fill("#id_name", name)
    page.select_option("#id_trigger_kind", "order_event")
    page.fill("#id_trigger_name", "delivered")


def _add_action(page, kind: str, params: str) -> None:
    page.locator("#actions-group .add-row a").click()
    page.fill("#id_actions-0-position", "1")
    page.select_option("#id_actions-0-kind", kind)
    page.fill("#id_actions-0-params", params)


def test_the_dispatcher_builds_a_workflow_with_an_action(admin_page, screenshot):
    page = admin_page("/admin/workflows/workflow/add/")
    _fill_workflow(page, "Tag delivered orders")
    page.locator("#conditions-group .add-row a").click()
    page.select_option("#id_conditions-0-subject", "order.tags")
    page.select_option("#id_conditions-0-operator", "not_contains")
    page.fill("#id_conditions-0-value", "Notified")
    _add_action(page, "add_tag", '{"tag": "Notified"}')
    screenshot(page, "workflow-form")
    page.click('input[name="_save"]')
    page.wait_for_load_state()
    screenshot(page, "workflow-saved")

    assert "was added successfully" in page.locator(".messagelist").inner_text()
    workflow = Workflow.objects.get(name="Tag delivered orders")
    assert (workflow.trigger_kind, workflow.trigger_name) == ("order_event", "delivered")
    [action] = workflow.actions.all()
    assert (action.kind, action.params) == ("add_tag", {"tag": "Notified"})
    assert workflow.conditions.count() == 1


def test_an_action_with_a_bad_parameter_is_refused_naming_it(admin_page, screenshot):
    page = admin_page("/admin/workflows/workflow/add/")
    _fill_workflow(page, "Tell the ERP")
    _add_action(page, "post_url", '{"url": "ftp://erp.example/hook"}')
    page.click('input[name="_save"]')
    page.wait_for_load_state()
    screenshot(page, "workflow-refused")

    errors = page.locator("#actions-group .errorlist").all_inner_texts()
    assert any("url" in error for error in errors), errors
    assert not Workflow.objects.exists()
