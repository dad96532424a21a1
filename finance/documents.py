"""Cost additions, invoices and an order's current cost as the API, the events, the admin and
the CSV export show them. The reads are ``finance.selectors``; here they are only rendered.

Times are in their place's zone (``config.times``): a cost addition's in its order's (or
its route's depot's), an invoice's in its carrier's.
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any

from config.money import money_round, money_text
from config.times import carrier_zone, iso_local, order_zone, route_zone
from finance.models import CostAddition, Invoice, InvoiceLine
from orders.documents import order_reference


def money(amount: Decimal | None, currency: str) -> dict[str, str] | None:
    if amount is None:
        return None
    return {"amount": money_text(amount, currency), "currency": currency}


def cost_document(cost) -> dict[str, Any] | None:
    """An order's ``CurrentCost``: the planned price, the approved additions, their sum."""
    if cost is None:
        return None
    return {
        "planned": money(cost.planned, cost.currency),
        "additions": money(cost.additions, cost.currency),
        "current": money(cost.current, cost.currency),
    }


def carrier_reference(carrier) -> dict[str, str]:
    return {"id": str(carrier.id), "name": carrier.name, "slug": carrier.slug}


def route_block(route) -> dict[str, str] | None:
    return {"id": str(route.id), "slug": route.slug} if route is not None else None


def cost_addition_zone(addition: CostAddition) -> str:
    if addition.order is not None:
        return order_zone(addition.order)
    return route_zone(addition.route)


def cost_addition_document(addition: CostAddition, *, cost=None) -> dict[str, Any]:
    """One cost addition; ``cost`` (the order's ``CurrentCost``) for a shipper's read."""
    zone, currency = cost_addition_zone(addition), addition.currency
    document = {
        "id": str(addition.id),
        "reference": addition.reference,
        "carrier": carrier_reference(addition.carrier),
        "order": order_reference(addition.order) if addition.order else None,
        "route": route_block(addition.route),
        "amount": money(addition.amount, currency),
        "reasonCode": addition.reason_code,
        "reason": addition.reason_text,
        "status": addition.status,
        "approvedAmount": money(addition.approved_amount, currency),
        "decisionNote": addition.decision_note,
        "decidedAt": iso_local(addition.decided_at, zone),
        "decidedBy": addition.decided_by,
        "requestedAt": iso_local(addition.requested_at, zone),
        "evidence": [
            {
                "id": str(image.id),
                "contentType": image.content_type,
                "width": image.width,
                "height": image.height,
                "size": image.size,
            }
            for image in addition.evidence.all()
        ],
    }
    if cost is not None or addition.order is not None:
        document["orderCost"] = cost_document(cost)
    return document


def _line_document(line: InvoiceLine, currency: str, *, audit: bool) -> dict[str, Any]:
    document = {
        "position": line.position,
        "kind": line.kind,
        "reference": line.reference,
        "description": line.description,
        "order": order_reference(line.order) if line.order else None,
        "route": route_block(line.route),
        "costAdditionId": str(line.cost_addition_id) if line.cost_addition_id else None,
        "invoiced": money(line.amount, currency),
        "approved": money(line.approved_amount, currency),
        "adjustmentReason": line.adjustment_reason,
        "disputed": line.disputed,
    }
    if audit:
        document["expected"] = money(line.expected, currency)
        document["finding"] = line.finding
    return document


def _total(amounts, currency: str) -> dict[str, str] | None:
    amounts = list(amounts)
    if any(a is None for a in amounts):
        return None
    return money(money_round(sum(amounts, Decimal(0)), currency), currency)


def invoice_document(
    invoice: Invoice, *, lines: list[InvoiceLine] | None = None, audit: bool = True
) -> dict[str, Any]:
    """An invoice with ``lines`` (default: all of them). ``audit`` shows each line's
    expected amount and finding: to finance and to shippers (for their own lines), not to
    the carrier, whom a finding would tell which references exist elsewhere."""
    lines = list(invoice.lines.all()) if lines is None else lines
    zone, currency = carrier_zone(invoice.carrier), invoice.currency
    disputed = invoice.disputed_at is not None
    return {
        "id": str(invoice.id),
        "number": invoice.number,
        "carrier": carrier_reference(invoice.carrier),
        "issueDate": invoice.issue_date.isoformat(),
        "period": {"from": invoice.period_from.isoformat(), "to": invoice.period_to.isoformat()},
        "currency": currency,
        "status": invoice.status,
        "receivedAt": iso_local(invoice.received_at, zone),
        "decidedAt": iso_local(invoice.decided_at, zone),
        "decidedBy": invoice.decided_by,
        "dispute": (
            {
                "reason": invoice.dispute_reason,
                "at": iso_local(invoice.disputed_at, zone),
                "by": invoice.disputed_by,
            }
            if disputed
            else None
        ),
        "totals": {
            "invoiced": _total((ln.amount for ln in lines), currency),
            "approved": _total((ln.approved_amount for ln in lines), currency),
        },
        "lines": [_line_document(line, currency, audit=audit) for line in lines],
    }


# --- the CSV export ---------------------------------------------------------------------------

CSV_COLUMNS = (
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
)


def _cell(value: str) -> str:
    # A carrier's text starting like a formula would run as one in a spreadsheet.
    return f"'{value}" if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def invoice_csv_rows(invoice: Invoice) -> list[list[str]]:
    """One row per line, in ``CSV_COLUMNS``' order; amounts as the API writes money."""
    currency = invoice.currency
    return [
        [
            _cell(invoice.number),
            invoice.carrier.slug,
            str(line.position),
            line.kind,
            _cell(line.order.creator_order_id) if line.order else "",
            _cell(line.reference),
            currency,
            money_text(line.expected, currency) if line.expected is not None else "",
            money_text(line.amount, currency),
            money_text(line.approved_amount, currency) if line.approved_amount is not None else "",
            line.finding,
            _cell(line.adjustment_reason),
        ]
        for line in invoice.lines.all()
    ]


def invoices_csv(invoices: list[Invoice]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for invoice in invoices:
        writer.writerows(invoice_csv_rows(invoice))
    return buffer.getvalue()
