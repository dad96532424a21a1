"""A finance clerk in a real browser (headless Chromium driven by Playwright): an invoice's
lines with their findings, approved with an adjustment and its reason, then the totals per
carrier and month. A dispatcher is offered no decision.

Screenshots land in ``$WAYBILL_VAR_DIR/screenshots``."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from django.contrib.auth.models import Group, User

from finance.models import Invoice, InvoiceStatus
from tests.browser.conftest import TIMEOUT_MS
from tests.conftest import _client
from tests.factories import ServiceFactory
from tests.finance.conftest import invoice_body, order_line, order_on

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def staff_page(browser, live_server) -> Iterator[Callable]:
    """``staff_page(group)``: a page signed in as a staff user of ``group``."""
    contexts = []

    def sign_in(group: str):
        user = User.objects.create_user(f"{group}-clerk", password="pw", is_staff=True)
        user.groups.add(Group.objects.get(name=group))
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        page.goto(f"{live_server.url}/admin/login/")
        page.fill("#id_username", user.username)
        page.fill("#id_password", "pw")
        page.click('input[type="submit"]')
        page.wait_for_url(f"{live_server.url}/admin/")
        return lambda path: page.goto(f"{live_server.url}{path}") and page

    yield sign_in
    for context in contexts:
        context.close()


@pytest.fixture
def invoice(carrier, client_a) -> Invoice:
    ServiceFactory(carrier=carrier)
    matching, over = order_on(carrier, client_a), order_on(carrier, client_a)
    lines = [order_line(matching, "100.00"), order_line(over, "180.00")]
    response = _client(carrier=carrier).post(
        "/api/v1/carrier/invoices", invoice_body(lines), format="json"
    )
    assert response.status_code == 201, response.json()
    return Invoice.objects.get(id=response.json()["id"])


def test_finance_approves_an_invoice_with_an_adjustment_and_reads_the_totals(
    invoice, staff_page, screenshot
):
    open_ = staff_page("finance")
    page = open_(f"/admin/finance/invoice/{invoice.id}/decide/")
    screenshot(page, "invoice-findings")
    rows = page.locator("#content form tbody tr")
    assert "match" in rows.nth(0).inner_text()
    assert "over-tolerance" in rows.nth(1).inner_text()

    page.fill('input[name="amount_2"]', "100.00")
    page.fill('input[name="reason_2"]', "Agreed rate")
    page.click('button[value="approve"]')
    page.wait_for_load_state()
    screenshot(page, "invoice-approved")

    assert "it is final" in page.locator(".messagelist").inner_text()
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.APPROVED
    approved = invoice.lines.get(position=2)
    assert (str(approved.approved_amount), approved.adjustment_reason) == ("100.00", "Agreed rate")

    page = open_("/admin/finance/invoice/totals/?mode=test")
    screenshot(page, "totals")
    assert invoice.carrier.name in page.locator("#content").inner_text()


def test_a_dispatcher_is_offered_no_decision_on_money(invoice, staff_page):
    open_ = staff_page("dispatcher")
    page = open_(f"/admin/finance/invoice/{invoice.id}/decide/")

    assert page.locator('button[value="approve"]').count() == 0
    assert "403" in page.title() or "Forbidden" in page.content()
