"""Each audit finding on a constructed case (``finance.audit``)."""

from decimal import Decimal

import pytest

from carriers.models import Carrier
from finance.models import InvoiceLine
from tests.finance.conftest import cost_addition_body, invoice_body, order_line
from tests.tracking.conftest import route_for

pytestmark = pytest.mark.django_db


def _send(client, lines: list[dict], **overrides) -> dict:
    response = client.post(
        "/api/v1/carrier/invoices", invoice_body(lines, **overrides), format="json"
    )
    assert response.status_code == 201, response.json()
    return response.json()


def _findings(invoice: dict) -> list[tuple[str, str | None]]:
    lines = InvoiceLine.objects.filter(invoice_id=invoice["id"]).order_by("position")
    return [
        (line.finding, str(line.expected) if line.expected is not None else None) for line in lines
    ]


def _approved_addition(carrier_api, finance_api, order, amount="45.00", **overrides) -> dict:
    body = cost_addition_body(str(order.id), amount=amount, **overrides)
    asked = carrier_api.post("/api/v1/carrier/cost-additions", body, format="json").json()
    approved = finance_api.post(
        f"/api/v1/finance/cost-additions/{asked['id']}/approve", {}, format="json"
    )
    assert approved.status_code == 200, approved.json()
    return asked


def test_a_line_at_the_planned_price_matches(carrier_api, carried_order):
    invoice = _send(carrier_api, [order_line(carried_order(), "100.00")])

    assert _findings(invoice) == [("match", "100.00")]


def test_the_expected_amount_includes_approved_cost_additions(
    carrier_api, carried_order, finance_api
):
    order = carried_order()
    _approved_addition(carrier_api, finance_api, order, "45.00")

    invoice = _send(carrier_api, [order_line(order, "145.00")])

    assert _findings(invoice) == [("match", "145.00")]


def test_an_addition_on_a_line_of_its_own_is_not_expected_twice(
    carrier_api, carried_order, finance_api
):
    order = carried_order()
    addition = _approved_addition(carrier_api, finance_api, order, "45.00")

    invoice = _send(
        carrier_api,
        [
            order_line(order, "100.00"),
            {"kind": "cost-addition", "reference": addition["reference"], "amount": "45.00"},
        ],
    )

    assert _findings(invoice) == [("match", "100.00"), ("match", "45.00")]


@pytest.mark.parametrize(
    ("amount", "tolerance", "finding"),
    [
        # 0.50 off on 100.00: within 1.00 and 1 %.
        ("100.50", ("1.00", "1.00"), "within-tolerance"),
        # 3.00 off: within 5 %, over the absolute 1.00.
        ("103.00", ("1.00", "5.00"), "over-tolerance"),
        # 3.00 off: within the absolute 5.00, over 2 %.
        ("97.00", ("5.00", "2.00"), "over-tolerance"),
        # 3.00 off: within both.
        ("103.00", ("5.00", "5.00"), "within-tolerance"),
    ],
)
def test_a_difference_is_judged_by_the_carriers_tolerance_in_amount_and_percent(
    carrier, carrier_api, carried_order, amount, tolerance, finding
):
    Carrier.objects.filter(id=carrier.id).update(
        invoice_tolerance_amount=Decimal(tolerance[0]), invoice_tolerance_pct=Decimal(tolerance[1])
    )

    invoice = _send(carrier_api, [order_line(carried_order(), amount)])

    assert _findings(invoice) == [(finding, "100.00")]
    detail = InvoiceLine.objects.get(invoice_id=invoice["id"]).finding_detail
    if finding == "over-tolerance":
        over = "amount" if tolerance[0] == "1.00" else "percent"
        assert f"over the {over} tolerance" in detail


def test_a_line_twice_on_one_invoice_is_a_duplicate(carrier_api, carried_order):
    order = carried_order()

    invoice = _send(carrier_api, [order_line(order), order_line(order)])

    assert [f for f, _ in _findings(invoice)] == ["match", "duplicate"]


def test_a_line_already_on_an_earlier_invoice_is_a_duplicate(carrier_api, carried_order):
    order = carried_order()
    _send(carrier_api, [order_line(order)], number="INV-1")

    later = _send(
        carrier_api, [order_line(order, reference=order.creator_order_id)], number="INV-2"
    )

    assert [f for f, _ in _findings(later)] == ["duplicate"]


def test_a_line_of_a_disputed_invoice_may_be_invoiced_again(
    carrier_api, carried_order, finance_api
):
    order = carried_order()
    first = _send(carrier_api, [order_line(order, "120.00")], number="INV-1")
    finance_api.post(
        f"/api/v1/finance/invoices/{first['id']}/dispute", {"reason": "Too much"}, format="json"
    )

    corrected = _send(carrier_api, [order_line(order, "100.00")], number="INV-1b")

    assert _findings(corrected) == [("match", "100.00")]


def test_an_unknown_reference_is_found(carrier_api, carried_order):
    carried_order()

    invoice = _send(
        carrier_api,
        [
            {"kind": "order", "reference": "NO-SUCH-ORDER", "amount": "10.00"},
            {"kind": "route", "reference": "R-NOPE", "amount": "10.00"},
            {"kind": "cost-addition", "reference": "CA-NOPE", "amount": "10.00"},
        ],
    )

    assert [f for f, _ in _findings(invoice)] == ["unknown-reference"] * 3


def test_another_carriers_order_is_not_carried(carried_order, other_carrier_api):
    order = carried_order()  # on the first carrier

    invoice = _send(other_carrier_api, [order_line(order)])

    [line] = InvoiceLine.objects.filter(invoice_id=invoice["id"])
    assert line.finding == "not-carried"
    assert line.order is None  # the other carrier's line names no one's order
    # The carrier reads no finding: it would learn which references exist elsewhere.
    assert "finding" not in invoice["lines"][0]


def test_a_cancelled_order_is_found(carrier_api, carried_order, client_a):
    order = carried_order()
    cancelled = client_a.post(f"/api/v1/orders/{order.id}/cancel", {"reason": "x"}, format="json")
    assert cancelled.status_code == 200

    invoice = _send(carrier_api, [order_line(order)])

    assert [f for f, _ in _findings(invoice)] == ["cancelled-order"]


def test_a_cost_addition_not_approved_is_found(carrier_api, carried_order):
    order = carried_order()
    body = cost_addition_body(str(order.id))
    asked = carrier_api.post("/api/v1/carrier/cost-additions", body, format="json").json()

    invoice = _send(
        carrier_api, [{"kind": "cost-addition", "reference": asked["id"], "amount": "45.00"}]
    )

    assert [f for f, _ in _findings(invoice)] == ["not-approved"]


def test_a_route_is_expected_at_its_vehicle_groups_rates(carrier, carrier_api, carried_order):
    route = route_for([carried_order()], carrier)  # 2 h, 12.5 km
    group = route.vehicle_group
    group.cost_per_vehicle, group.cost_per_km, group.cost_per_hour = 500, 4, 300
    group.save()

    invoice = _send(carrier_api, [{"kind": "route", "reference": route.slug, "amount": "1150.00"}])

    assert _findings(invoice) == [("match", "1150.00")]


def test_an_invoice_in_another_currency_is_not_compared(carrier_api, carried_order):
    invoice = _send(carrier_api, [order_line(carried_order())], currency="EUR")

    assert [f for f, _ in _findings(invoice)] == ["other-currency"]


def test_the_invoice_is_idempotent_on_its_number(carrier_api, carried_order):
    order = carried_order()
    first = _send(carrier_api, [order_line(order)])

    again = carrier_api.post(
        "/api/v1/carrier/invoices", invoice_body([order_line(order)]), format="json"
    )
    changed = carrier_api.post(
        "/api/v1/carrier/invoices", invoice_body([order_line(order, "1.00")]), format="json"
    )

    assert again.status_code == 200 and again.json()["id"] == first["id"]
    assert changed.status_code == 409 and changed.json()["existingId"] == first["id"]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"lines": []}, "lines"),
        ({"period": {"from": "2030-07-01", "to": "2030-06-01"}}, "period.to"),
        ({"issueDate": "2030-02-30"}, "issueDate"),
        ({"currency": "DK"}, "currency"),
        ({"lines": [{"kind": "pallet", "reference": "x", "amount": "1"}]}, "lines[0].kind"),
        ({"lines": [{"kind": "order", "reference": "x", "amount": "-1"}]}, "lines[0].amount"),
    ],
)
def test_it_refuses_a_bad_invoice_naming_the_field(carrier_api, overrides, field):
    body = {**invoice_body([{"kind": "order", "reference": "x", "amount": "1"}]), **overrides}

    response = carrier_api.post("/api/v1/carrier/invoices", body, format="json")

    assert response.status_code == 400, response.json()
    assert field in {e["field"] for e in response.json()["errors"]}
