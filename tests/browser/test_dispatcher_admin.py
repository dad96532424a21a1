"""The dispatcher's admin in a real browser (headless Chromium driven by Playwright): an order
cancelled from the list, its plan released and its times named with their place's zone; a
route cancelled and its orders back to planning.

Screenshots land in ``$WAYBILL_VAR_DIR/screenshots``."""

from __future__ import annotations

import re

import pytest

from carriers.models import Plan, PlanStatus
from orders.models import Order, OrderStatus
from routing.models import Route, RouteStatus
from tests.test_time_convention import PICKUP, world  # noqa: F401

ISO_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_dispatcher_cancels_a_planned_order_and_reads_its_released_plan_in_local_time(
    world,  # noqa: F811
    admin_page,
    screenshot,
):
    planned = Order.objects.get(id=world["planned"]["id"])
    page = admin_page("/admin/orders/order/")
    page.locator(f'input[name="_selected_action"][value="{planned.pk}"]').check()
    page.select_option('select[name="action"]', "cancel_orders")
    page.locator('button[name="index"], input[name="index"]').first.click()
    page.wait_for_load_state()
    assert "Cancelled 1 order" in page.locator(".messagelist").inner_text()

    page = admin_page(f"/admin/orders/order/{planned.id}/change/")
    screenshot(page, "cancelled-order")
    body = page.locator("#content").inner_text()
    assert "carried by nobody" in body  # the released plan: no carrier, no price
    assert "Override the carrier" not in body  # a cancelled order is planned no more
    assert not ISO_TIME.search(body), ISO_TIME.search(body)  # every time for a person
    assert f"({PICKUP})" in body  # created, updated, cancelled on the pickup place's clock
    assert "(UTC)" not in body
    assert Plan.objects.get(order=planned, is_current=True).status == PlanStatus.RELEASED


def test_the_dispatcher_cancels_a_route_and_its_orders_go_back_to_planning(
    world,  # noqa: F811
    admin_page,
    screenshot,
):
    route = Route.objects.filter(status=RouteStatus.PLANNED).first()
    order_ids = list(route.stops.values_list("order_id", flat=True))
    assert order_ids

    page = admin_page("/admin/routing/route/")
    screenshot(page, "routes-before")
    page.locator(f'input[name="_selected_action"][value="{route.pk}"]').check()
    page.select_option('select[name="action"]', "cancel_routes")
    page.locator('button[name="index"], input[name="index"]').first.click()
    page.wait_for_load_state()
    screenshot(page, "routes-after-cancel")

    assert "Cancelled 1 route" in page.locator(".messagelist").inner_text()
    route.refresh_from_db()
    assert route.status == RouteStatus.CANCELLED
    statuses = set(Order.objects.filter(id__in=order_ids).values_list("status", flat=True))
    assert statuses == {OrderStatus.UNPLANNED}
    # The admin offers no way to delete a route.
    assert page.locator('option[value="delete_selected"]').count() == 0
