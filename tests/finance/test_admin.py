"""Finance's admin screens, through Django's test client: finance decides, a dispatcher
sees none of it."""

import pytest
from django.contrib.auth.models import Group, User

from finance.models import CostAddition, CostAdditionStatus, Invoice, InvoiceStatus
from orders.models import OrderHistory
from tests.finance.conftest import cost_addition_body, invoice_body, order_line

pytestmark = pytest.mark.django_db


def _staff(client, group: str):
    user = User.objects.create_user(f"{group}-user", password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    client.force_login(user)
    return client


@pytest.fixture
def finance(client):
    return _staff(client, "finance")


@pytest.fixture
def dispatcher(client):
    return _staff(client, "dispatcher")


@pytest.fixture
def asked(carrier_api, carried_order):
    def make(reference: str = "CA-1") -> CostAddition:
        order = carried_order()
        body = cost_addition_body(str(order.id), reference=reference)
        response = carrier_api.post("/api/v1/carrier/cost-additions", body, format="json")
        assert response.status_code == 201, response.json()
        return CostAddition.objects.get(id=response.json()["id"])

    return make


@pytest.fixture
def invoice(carrier_api, carried_order) -> Invoice:
    lines = [order_line(carried_order(), "100.00"), order_line(carried_order(), "150.00")]
    response = carrier_api.post("/api/v1/carrier/invoices", invoice_body(lines), format="json")
    assert response.status_code == 201, response.json()
    return Invoice.objects.get(id=response.json()["id"])


def test_finance_approves_a_lower_amount_on_the_decide_page(finance, asked):
    addition = asked()
    url = f"/admin/finance/costaddition/{addition.id}/decide/"

    page = finance.get(url)
    posted = finance.post(url, {"decision": "approve", "amount": "20.00", "note": "Half"})

    assert page.status_code == 200 and "Approve" in page.content.decode()
    assert posted.status_code == 302
    addition.refresh_from_db()
    assert (addition.status, str(addition.approved_amount)) == ("approved", "20.00")
    assert addition.decided_by == "user:finance-user"
    history = OrderHistory.objects.get(order=addition.order, action="cost_addition_approved")
    order_page = finance.get(f"/admin/orders/order/{addition.order_id}/change/").content.decode()
    assert history.actor in order_page


def test_finance_rejects_only_with_a_reason(finance, asked):
    addition = asked()
    changelist = "/admin/finance/costaddition/"
    selected = {"action": "reject_with_reason", "_selected_action": [str(addition.id)]}

    form = finance.post(changelist, selected)
    blank = finance.post(changelist, {**selected, "apply": "1", "reason": " "})
    done = finance.post(changelist, {**selected, "apply": "1", "reason": "Not agreed"})

    assert form.status_code == 200 and "Reason" in form.content.decode()
    assert blank.status_code == 200
    assert done.status_code == 302
    addition.refresh_from_db()
    assert (addition.status, addition.decision_note) == ("rejected", "Not agreed")


def test_finance_approves_an_invoice_with_an_adjustment_and_exports_it(finance, invoice):
    url = f"/admin/finance/invoice/{invoice.id}/decide/"

    page = finance.get(url).content.decode()
    missing_reason = finance.post(url, {"decision": "approve", "amount_2": "100.00"})
    approved = finance.post(
        url, {"decision": "approve", "amount_2": "100.00", "reason_2": "Rate card"}
    )
    export = finance.get(f"/admin/finance/invoice/{invoice.id}/export.csv")
    action = finance.post(
        "/admin/finance/invoice/", {"action": "export_csv", "_selected_action": [str(invoice.id)]}
    )

    assert "over-tolerance" in page and "match" in page
    assert missing_reason.status_code == 200
    assert approved.status_code == 302
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.APPROVED
    assert [str(line.approved_amount) for line in invoice.lines.all()] == ["100.00", "100.00"]
    assert export.status_code == 200 and export["Content-Type"].startswith("text/csv")
    assert export.content.decode().count("\r\n") == 3  # header and two lines
    assert action.content == export.content


def test_finance_reads_totals_per_carrier_and_month(finance, invoice, carrier):
    page = finance.get("/admin/finance/invoice/totals/?mode=test")

    assert page.status_code == 200
    text = page.content.decode()
    assert carrier.name in text and "2030-06" in text and "250.00" in text


def test_a_dispatcher_sees_none_of_it(dispatcher, asked, invoice):
    addition = asked()

    for url in (
        "/admin/finance/costaddition/",
        f"/admin/finance/costaddition/{addition.id}/decide/",
        "/admin/finance/invoice/",
        f"/admin/finance/invoice/{invoice.id}/decide/",
        f"/admin/finance/invoice/{invoice.id}/export.csv",
        "/admin/finance/invoice/totals/",
    ):
        assert dispatcher.get(url).status_code == 403, url
    posted = dispatcher.post(
        f"/admin/finance/costaddition/{addition.id}/decide/", {"decision": "approve"}
    )
    dispatcher.post(
        "/admin/finance/costaddition/",
        {"action": "approve_as_asked", "_selected_action": [str(addition.id)]},
    )

    assert posted.status_code == 403
    addition.refresh_from_db()
    assert addition.status == CostAdditionStatus.PENDING
    assert "Finance" not in dispatcher.get("/admin/").content.decode()


def test_finance_reads_every_screen(finance, asked, invoice):
    addition = asked()

    for url in (
        "/admin/finance/costaddition/",
        f"/admin/finance/costaddition/{addition.id}/change/",
        "/admin/finance/invoice/",
        f"/admin/finance/invoice/{invoice.id}/change/",
        "/admin/finance/invoice/totals/",
    ):
        response = finance.get(url)
        assert response.status_code == 200, url
    changelist = finance.get("/admin/finance/costaddition/").content.decode()
    assert (
        "Decide…" in changelist
        and "Totals per carrier and month"
        in finance.get("/admin/finance/invoice/").content.decode()
    )
