import csv
import io

import pytest

from finance.models import Invoice, InvoiceStatus
from orders.models import OrderHistory
from tests.finance.conftest import invoice_body, order_line

pytestmark = pytest.mark.django_db


@pytest.fixture
def shared_invoice(carrier_api, carried_order, client_a, client_b):
    """One invoice over an order of each shipper, the second one overcharged, and a line
    naming nothing."""
    mine, theirs = carried_order(client_a), carried_order(client_b)
    lines = [
        order_line(mine, "100.00", description="Delivery"),
        order_line(theirs, "130.00"),
        {"kind": "order", "reference": "GHOST-1", "amount": "10.00"},
    ]
    response = carrier_api.post("/api/v1/carrier/invoices", invoice_body(lines), format="json")
    assert response.status_code == 201, response.json()
    return {"id": response.json()["id"], "mine": mine, "theirs": theirs}


def _approve(client, invoice_id, lines=None):
    body = {"lines": lines} if lines is not None else {}
    return client.post(f"/api/v1/finance/invoices/{invoice_id}/approve", body, format="json")


def test_finance_sees_the_findings_per_line(finance_api, shared_invoice):
    response = finance_api.get(f"/api/v1/finance/invoices/{shared_invoice['id']}")

    assert response.status_code == 200
    lines = response.json()["lines"]
    assert [(ln["finding"], ln["expected"]) for ln in lines] == [
        ("match", {"amount": "100.00", "currency": "DKK"}),
        ("over-tolerance", {"amount": "100.00", "currency": "DKK"}),
        ("unknown-reference", None),
    ]


def test_approval_with_adjustments_is_final(finance_api, shared_invoice, carrier_api):
    adjustments = [
        {"position": 2, "amount": "100.00", "reason": "The rate card price."},
        {"position": 3, "amount": "0", "reason": "No such order."},
    ]

    approved = _approve(finance_api, shared_invoice["id"], adjustments)

    assert approved.status_code == 200, approved.json()
    body = approved.json()
    assert body["status"] == "approved"
    assert [ln["approved"]["amount"] for ln in body["lines"]] == ["100.00", "100.00", "0.00"]
    assert body["lines"][1]["adjustmentReason"] == "The rate card price."
    assert body["totals"] == {
        "invoiced": {"amount": "240.00", "currency": "DKK"},
        "approved": {"amount": "200.00", "currency": "DKK"},
    }
    # Final: nothing changes it any more.
    assert _approve(finance_api, shared_invoice["id"]).status_code == 409
    dispute = finance_api.post(
        f"/api/v1/finance/invoices/{shared_invoice['id']}/dispute",
        {"reason": "Late thought"},
        format="json",
    )
    assert dispute.status_code == 409
    resent = carrier_api.post(
        "/api/v1/carrier/invoices",
        invoice_body([order_line(shared_invoice["mine"], "1.00")]),
        format="json",
    )
    assert resent.status_code == 409
    invoice = Invoice.objects.get(id=shared_invoice["id"])
    assert invoice.status == InvoiceStatus.APPROVED and invoice.decided_by == "user:fin"
    for order in (shared_invoice["mine"], shared_invoice["theirs"]):
        entry = OrderHistory.objects.get(order=order, action="invoice_approved")
        assert entry.actor == "user:fin" and entry.changes["number"] == "INV-1001"


def test_an_adjustment_without_a_reason_is_a_400(finance_api, shared_invoice):
    response = _approve(
        finance_api, shared_invoice["id"], [{"position": 2, "amount": "100.00", "reason": " "}]
    )
    unknown = _approve(
        finance_api, shared_invoice["id"], [{"position": 9, "amount": "1.00", "reason": "x"}]
    )

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "lines[0].reason"
    assert unknown.status_code == 400
    assert unknown.json()["errors"][0]["field"] == "lines[0].position"
    assert Invoice.objects.get(id=shared_invoice["id"]).status == InvoiceStatus.RECEIVED


def test_a_dispute_needs_a_reason_and_the_carrier_reads_it(
    finance_api, shared_invoice, carrier_api
):
    url = f"/api/v1/finance/invoices/{shared_invoice['id']}/dispute"

    without = finance_api.post(url, {"lines": [2]}, format="json")
    disputed = finance_api.post(
        url, {"reason": "Line 2 is over the rate card.", "lines": [2, 3]}, format="json"
    )

    assert without.status_code == 400 and without.json()["errors"][0]["field"] == "reason"
    assert disputed.status_code == 200, disputed.json()
    seen = carrier_api.get(f"/api/v1/carrier/invoices/{shared_invoice['id']}").json()
    assert seen["status"] == "disputed"
    assert seen["dispute"]["reason"] == "Line 2 is over the rate card."
    assert [ln["disputed"] for ln in seen["lines"]] == [False, True, True]
    assert "finding" not in seen["lines"][0]
    assert OrderHistory.objects.filter(action="invoice_disputed").count() == 2
    # Settled later: a disputed invoice may still be approved, then it is final.
    assert _approve(finance_api, shared_invoice["id"]).status_code == 200


def test_only_finance_decides_an_invoice(dispatcher_api, client_a, carrier_api, shared_invoice):
    base = f"/api/v1/finance/invoices/{shared_invoice['id']}"

    for client in (dispatcher_api, client_a, carrier_api):
        assert client.post(f"{base}/approve", {}, format="json").status_code in (401, 403)
        dispute = client.post(f"{base}/dispute", {"reason": "x"}, format="json")
        assert dispute.status_code in (401, 403)
        assert client.get(f"{base}/export.csv").status_code in (401, 403)
    assert dispatcher_api.post(f"{base}/approve", {}, format="json").status_code == 403
    assert Invoice.objects.get(id=shared_invoice["id"]).status == InvoiceStatus.RECEIVED


def test_the_csv_has_one_row_per_line(finance_api, shared_invoice):
    _approve(
        finance_api, shared_invoice["id"], [{"position": 2, "amount": "100.00", "reason": "Rate"}]
    )

    response = finance_api.get(f"/api/v1/finance/invoices/{shared_invoice['id']}/export.csv")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    mine, theirs = shared_invoice["mine"], shared_invoice["theirs"]
    carrier = Invoice.objects.get(id=shared_invoice["id"]).carrier.slug
    assert rows == [
        [
            "invoice",
            "carrier",
            "line",
            "kind",
            "order reference",
            "reference",
            "currency",
            "expected",
            "invoiced",
            "approved",
            "finding",
            "adjustment reason",
        ],
        ["INV-1001", carrier, "1", "order", mine.creator_order_id, str(mine.id), "DKK",
         "100.00", "100.00", "100.00", "match", ""],
        ["INV-1001", carrier, "2", "order", theirs.creator_order_id, str(theirs.id), "DKK",
         "100.00", "130.00", "100.00", "over-tolerance", "Rate"],
        ["INV-1001", carrier, "3", "order", "", "GHOST-1", "DKK",
         "", "10.00", "10.00", "unknown-reference", ""],
    ]  # fmt: skip


def test_each_shipper_reads_only_its_own_lines_once_approved(
    finance_api, shared_invoice, client_a, client_b
):
    assert client_a.get("/api/v1/invoices").json()["results"] == []  # not approved yet
    _approve(finance_api, shared_invoice["id"])

    [seen_a] = client_a.get("/api/v1/invoices").json()["results"]
    [seen_b] = client_b.get("/api/v1/invoices").json()["results"]

    assert [ln["order"]["id"] for ln in seen_a["lines"]] == [str(shared_invoice["mine"].id)]
    assert [ln["order"]["id"] for ln in seen_b["lines"]] == [str(shared_invoice["theirs"].id)]
    assert seen_a["totals"]["invoiced"] == {"amount": "100.00", "currency": "DKK"}
    assert seen_b["totals"]["invoiced"] == {"amount": "130.00", "currency": "DKK"}
    assert str(shared_invoice["theirs"].id) not in str(seen_a)
    assert "GHOST-1" not in str(seen_a) + str(seen_b)


def test_carriers_read_only_their_own_invoices(carrier_api, other_carrier_api, shared_invoice):
    mine = carrier_api.get("/api/v1/carrier/invoices").json()["results"]
    other = other_carrier_api.get("/api/v1/carrier/invoices").json()["results"]
    detail = other_carrier_api.get(f"/api/v1/carrier/invoices/{shared_invoice['id']}")

    assert [i["id"] for i in mine] == [shared_invoice["id"]]
    assert other == []
    assert detail.status_code == 404
