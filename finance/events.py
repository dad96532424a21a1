"""The seed 000 finance returns: ``CostAdditionApproved`` (the updated cost and the reason)
and ``InvoiceApproved`` (the detail, each shipper's own lines), their shapes and builders.

Builders are pure: they render the objects the services loaded and run no query.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from config.times import carrier_zone, iso_local, order_zone
from finance.documents import carrier_reference, cost_document, money
from finance.models import CostAdditionReason, Finding, LineKind
from orders.documents import order_reference
from webhooks.catalogue import EventName, EventVersion, declare
from webhooks.payloads.common import OrderRef, PayloadModel


class CarrierRef(PayloadModel):
    id: str
    name: str
    slug: str


class Money(PayloadModel):
    amount: str
    currency: str


class OrderCost(PayloadModel):
    """What the order costs now: the plan's price plus the approved additions."""

    planned: Money | None  # null when the order is on an own-fleet route
    additions: Money
    current: Money


class CostAddition(PayloadModel):
    id: str
    reference: str  # the carrier's
    carrier: CarrierRef
    reasonCode: CostAdditionReason  # noqa: N815
    reason: str  # the carrier's words
    requestedAmount: Money  # noqa: N815
    amount: Money  # as approved: the amount asked, or less
    approvedAt: str  # noqa: N815
    approvedBy: str  # noqa: N815
    note: str  # finance's, if any


class CostAdditionApprovedV1(PayloadModel):
    """A carrier's cost addition was accepted by finance: the updated cost and the reason."""

    order: OrderRef
    costAddition: CostAddition  # noqa: N815
    cost: OrderCost
    correlationId: str  # noqa: N815
    timeOfEvent: str  # noqa: N815


class InvoiceLine(PayloadModel):
    position: int
    kind: LineKind
    reference: str  # as the carrier sent it
    order: OrderRef | None
    description: str
    costAdditionId: str | None  # noqa: N815
    expected: Money | None  # what Waybill expected the line to charge
    invoiced: Money
    amount: Money  # as approved
    finding: Finding  # what the audit found
    adjustmentReason: str  # noqa: N815  why finance approved another amount, if it did


class Period(PayloadModel):
    from_: str = Field(alias="from")
    to: str


class Invoice(PayloadModel):
    id: str
    number: str
    carrier: CarrierRef
    issuedAt: str  # noqa: N815  the invoice's date (YYYY-MM-DD)
    period: Period
    currency: str
    approvedAt: str  # noqa: N815
    approvedBy: str  # noqa: N815
    total: Money  # the approved amounts of the lines below
    invoicedTotal: Money  # noqa: N815
    lines: list[InvoiceLine]  # the receiving shipper's own lines only


class InvoiceApprovedV1(PayloadModel):
    """A carrier's invoice was finalised and approved: its detail, as far as it concerns the
    receiving shipper (each shipper whose orders it covers gets its own lines)."""

    invoice: Invoice
    correlationId: str  # noqa: N815
    timeOfEvent: str  # noqa: N815


def cost_addition_approved_v1(*, order, cost_addition, cost, time_of_event: datetime) -> dict:
    zone, currency = order_zone(order), cost_addition.currency
    return {
        "order": order_reference(order),
        "costAddition": {
            "id": str(cost_addition.id),
            "reference": cost_addition.reference,
            "carrier": carrier_reference(cost_addition.carrier),
            "reasonCode": cost_addition.reason_code,
            "reason": cost_addition.reason_text,
            "requestedAmount": money(cost_addition.amount, currency),
            "amount": money(cost_addition.approved_amount, currency),
            "approvedAt": iso_local(cost_addition.decided_at, zone),
            "approvedBy": cost_addition.decided_by,
            "note": cost_addition.decision_note,
        },
        "cost": cost_document(cost),
        "correlationId": "",
        "timeOfEvent": iso_local(time_of_event, zone),
    }


def _line(line, currency: str) -> dict[str, Any]:
    return {
        "position": line.position,
        "kind": line.kind,
        "reference": line.reference,
        "order": order_reference(line.order) if line.order else None,
        "description": line.description,
        "costAdditionId": str(line.cost_addition_id) if line.cost_addition_id else None,
        "expected": money(line.expected, currency),
        "invoiced": money(line.amount, currency),
        "amount": money(line.approved_amount, currency),
        "finding": line.finding,
        "adjustmentReason": line.adjustment_reason,
    }


def invoice_approved_v1(*, invoice, lines: list, time_of_event: datetime) -> dict:
    """``lines``: the receiving shipper's lines of ``invoice``, approved."""
    zone, currency = carrier_zone(invoice.carrier), invoice.currency
    return {
        "invoice": {
            "id": str(invoice.id),
            "number": invoice.number,
            "carrier": carrier_reference(invoice.carrier),
            "issuedAt": invoice.issue_date.isoformat(),
            "period": {
                "from": invoice.period_from.isoformat(),
                "to": invoice.period_to.isoformat(),
            },
            "currency": currency,
            "approvedAt": iso_local(invoice.decided_at, zone),
            "approvedBy": invoice.decided_by,
            "total": money(sum(line.approved_amount for line in lines), currency),
            "invoicedTotal": money(sum(line.amount for line in lines), currency),
            "lines": [_line(line, currency) for line in lines],
        },
        "correlationId": "",
        "timeOfEvent": iso_local(time_of_event, zone),
    }


declare(
    EventName.COST_ADDITION_APPROVED,
    "seed 000",
    {"1.0": EventVersion(CostAdditionApprovedV1, cost_addition_approved_v1)},
)
declare(
    EventName.INVOICE_APPROVED,
    "seed 000",
    {"1.0": EventVersion(InvoiceApprovedV1, invoice_approved_v1)},
)
