"""Writes of finance: carriers' cost additions and invoices arriving, and finance's
decisions on them. Each decision is claimed with a compare-and-set on the status (a second
decision is a 409), written with who and when, recorded in the order's history, and its
event appended in the same transaction.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from carriers.models import Carrier, Plan, PlanStatus
from config.errors import Conflict, InvalidInput, NotFound
from config.money import money_round, money_text
from config.times import carrier_zone
from finance import selectors
from finance.audit import LineSpec, invoice_lines_audit
from finance.models import (
    INVOICE_MOVES,
    CostAddition,
    CostAdditionEvidence,
    CostAdditionStatus,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
)
from orders.models import Order, OrderHistory
from tracking.pod import checked_image_save, image_check
from webhooks.catalogue import EventName
from webhooks.services import event_build, events_append

# An invoice holds at most this many lines: one request, audited line by line.
MAX_INVOICE_LINES = 1000


def _fingerprint(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _history(order: Order | None, actor: str, action: str, changes: dict, note: str = "") -> None:
    # Finance never moves an order's status: its decisions are history entries of their own.
    if order is not None:
        OrderHistory(
            order=order, actor=actor, action=action, changes=changes, note=note[:500]
        ).save()


# --- cost additions -------------------------------------------------------------------------


@dataclass
class CostAdditionSpec:
    reference: str
    amount: Decimal
    currency: str
    reason_code: str
    reason_text: str = ""
    order_reference: str = ""
    route_reference: str = ""


def cost_addition_request(
    *, carrier: Carrier, live_mode: bool, spec: CostAdditionSpec, actor: str
) -> tuple[CostAddition, bool]:
    """Record a carrier's cost addition; the same reference again returns the first one
    (``created`` False), or is a 409 when it asked for something else."""
    spec.currency = spec.currency.upper()
    spec.amount = money_round(spec.amount, spec.currency)
    fingerprint = _fingerprint(asdict(spec))
    existing = selectors.cost_addition_by_reference(
        carrier=carrier, live_mode=live_mode, reference=spec.reference
    )
    if existing is not None:
        return _same_request(existing, fingerprint, "reference"), False
    order, route = _carried_target(carrier, live_mode, spec)
    try:
        with transaction.atomic():
            addition = CostAddition.objects.create(
                carrier=carrier,
                live_mode=live_mode,
                reference=spec.reference,
                order=order,
                route=route,
                amount=spec.amount,
                currency=spec.currency,
                reason_code=spec.reason_code,
                reason_text=spec.reason_text,
                fingerprint=fingerprint,
            )
            _history(
                order,
                actor,
                "cost_addition_requested",
                {
                    "costAddition": str(addition.id),
                    "amount": money_text(spec.amount, spec.currency),
                },
                f"{carrier.name} asks {spec.amount} {spec.currency}: {spec.reason_code}.",
            )
    except IntegrityError:  # the same reference, sent twice at once: the first one won
        existing = selectors.cost_addition_by_reference(
            carrier=carrier, live_mode=live_mode, reference=spec.reference
        )
        if existing is None:
            raise
        return _same_request(existing, fingerprint, "reference"), False
    return addition, True


def _same_request(existing, fingerprint: str, field_name: str):
    if existing.fingerprint != fingerprint:
        raise Conflict(
            f"'{getattr(existing, field_name, '')}' was sent before with other content.",
            code="reference_reused",
            errors=[{"field": field_name, "code": "reused", "message": "Use a new one."}],
            extra={"existingId": str(existing.id)},
        )
    return existing


def _carried_target(carrier: Carrier, live_mode: bool, spec: CostAdditionSpec) -> tuple:
    if spec.order_reference:
        order = selectors.carried_order(
            carrier=carrier, live_mode=live_mode, reference=spec.order_reference
        )
        if order is None:
            raise NotFound(f"No order '{spec.order_reference}' among the orders you carry.")
        plan = Plan.objects.filter(order=order, is_current=True, status=PlanStatus.PLANNED).first()
        # Currencies are never mixed in a sum: the addition is in the price's currency.
        if plan is not None and plan.currency and plan.currency != spec.currency:
            raise InvalidInput.for_field(
                "currency", f"The order's price is in {plan.currency}; ask in it.", "currency"
            )
        return order, None
    route = selectors.carried_route(
        carrier=carrier, live_mode=live_mode, reference=spec.route_reference
    )
    if route is None:
        raise NotFound(f"No route '{spec.route_reference}' among the routes you drive.")
    return None, route


def cost_addition_evidence_add(
    *, cost_addition: CostAddition, uploads: list[tuple[str, Any]]
) -> list[CostAdditionEvidence]:
    """Add images (``(field, uploaded file)``) proving a pending cost addition; each is
    checked as a POD image is before anything is stored."""
    if not uploads:
        raise InvalidInput.for_field("evidence", "Send at least one image.", "required")
    images = [image_check(file, field_name=name, kind="evidence") for name, file in uploads]
    with transaction.atomic():
        addition = CostAddition.objects.select_for_update().get(id=cost_addition.id)
        if addition.status != CostAdditionStatus.PENDING:
            raise Conflict(f"The cost addition is {addition.status}; its evidence is closed.")
        if addition.evidence.count() + len(images) > settings.POD_MAX_IMAGES:
            raise InvalidInput.for_field(
                "evidence",
                f"A cost addition holds at most {settings.POD_MAX_IMAGES} images.",
                "too_many_images",
            )
        return [
            checked_image_save(CostAdditionEvidence(cost_addition=addition), image)
            for image in images
        ]


def _decide(addition: CostAddition, to: str, columns: dict[str, Any]) -> CostAddition:
    """Claim the decision: only a pending cost addition moves, once."""
    claimed = CostAddition.objects.filter(id=addition.id, status=CostAdditionStatus.PENDING)
    if not claimed.update(status=to, **columns):
        current = CostAddition.objects.get(id=addition.id).status
        raise Conflict(
            f"The cost addition is already {current}; a decision is final.",
            code="already_decided",
        )
    return selectors.cost_addition_for_staff(addition.id)


@transaction.atomic
def cost_addition_approve(
    *, cost_addition: CostAddition, actor: str, amount: Decimal | None = None, note: str = ""
) -> CostAddition:
    """Approve the amount asked, or less; the order's cost grows by it and its shipper gets
    ``CostAdditionApproved`` with the updated cost and the reason."""
    currency = cost_addition.currency
    approved = cost_addition.amount if amount is None else money_round(amount, currency)
    if approved <= 0 or approved > cost_addition.amount:
        raise InvalidInput.for_field(
            "amount",
            f"Approve more than 0 and at most the {cost_addition.amount} {currency} asked.",
            "out_of_range",
        )
    addition = _decide(
        cost_addition,
        CostAdditionStatus.APPROVED,
        {
            "approved_amount": approved,
            "decision_note": note[:500],
            "decided_at": timezone.now(),
            "decided_by": actor,
        },
    )
    order = addition.order
    _history(
        order,
        actor,
        "cost_addition_approved",
        {"costAddition": str(addition.id), "amount": money_text(approved, currency)},
        note or f"{addition.reason_code}: {addition.reason_text}",
    )
    if order is not None:
        cost = selectors.order_cost(order)
        events_append(events=[_cost_addition_event(addition, cost)])
    return addition


def _cost_addition_event(addition: CostAddition, cost):
    order = addition.order
    return event_build(
        type=EventName.COST_ADDITION_APPROVED,
        live_mode=addition.live_mode,
        shipper=order.shipper,
        carrier=addition.carrier,
        entity_type="COST_ADDITION",
        entity_id=addition.id,
        entity_ref=addition.reference,
        root_entity_type="ORDER",
        root_entity_id=order.id,
        root_entity_ref=order.creator_order_id,
        order=order,
        cost_addition=addition,
        cost=cost,
        time_of_event=addition.decided_at,
    )


@transaction.atomic
def cost_addition_reject(*, cost_addition: CostAddition, actor: str, reason: str) -> CostAddition:
    """Reject with a reason the carrier reads; nothing reaches the shipper."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput.for_field("reason", "Say why the cost addition is rejected.", "required")
    addition = _decide(
        cost_addition,
        CostAdditionStatus.REJECTED,
        {"decision_note": reason[:500], "decided_at": timezone.now(), "decided_by": actor},
    )
    _history(
        addition.order, actor, "cost_addition_rejected", {"costAddition": str(addition.id)}, reason
    )
    return addition


# --- invoices -------------------------------------------------------------------------------


@dataclass
class InvoiceSpec:
    number: str
    issue_date: date
    period_from: date
    period_to: date
    currency: str
    lines: list[LineSpec] = field(default_factory=list)


def invoice_receive(
    *, carrier: Carrier, live_mode: bool, spec: InvoiceSpec, actor: str
) -> tuple[Invoice, bool]:
    """Record and audit a carrier's invoice; the same number again returns the first one
    (``created`` False), or is a 409 when its content differs."""
    spec.currency = spec.currency.upper()
    for line in spec.lines:
        line.amount = money_round(line.amount, spec.currency)
    fingerprint = _fingerprint(asdict(spec))
    existing = selectors.invoice_by_number(carrier=carrier, live_mode=live_mode, number=spec.number)
    if existing is not None:
        return _same_request(existing, fingerprint, "number"), False
    if spec.period_from > spec.period_to:
        raise InvalidInput.for_field("period.to", "The period ends before it starts.")
    audited = invoice_lines_audit(
        carrier=carrier, live_mode=live_mode, currency=spec.currency, lines=spec.lines
    )
    try:
        with transaction.atomic():
            invoice = Invoice.objects.create(
                carrier=carrier,
                live_mode=live_mode,
                number=spec.number,
                issue_date=spec.issue_date,
                period_from=spec.period_from,
                period_to=spec.period_to,
                currency=spec.currency,
                fingerprint=fingerprint,
            )
            InvoiceLine.objects.bulk_create(
                [_line_row(invoice, index, line) for index, line in enumerate(audited, start=1)]
            )
    except IntegrityError:  # the same number, sent twice at once: the first one won
        existing = selectors.invoice_by_number(
            carrier=carrier, live_mode=live_mode, number=spec.number
        )
        if existing is None:
            raise
        return _same_request(existing, fingerprint, "number"), False
    return invoice, True


def _line_row(invoice: Invoice, position: int, line) -> InvoiceLine:
    return InvoiceLine(
        invoice=invoice,
        position=position,
        kind=line.spec.kind,
        reference=line.spec.reference,
        description=line.spec.description,
        order=line.order,
        route=line.route,
        cost_addition=line.cost_addition,
        amount=line.spec.amount,
        expected=line.expected,
        finding=line.finding,
        finding_detail=line.detail[:300],
    )


@dataclass
class Adjustment:
    amount: Decimal
    reason: str


def _claim_invoice(invoice: Invoice, to: str, columns: dict[str, Any]) -> Invoice:
    movable = [status for status, moves in INVOICE_MOVES.items() if to in moves]
    claimed = Invoice.objects.filter(id=invoice.id, status__in=movable)
    if not claimed.update(status=to, **columns):
        current = Invoice.objects.get(id=invoice.id).status
        raise Conflict(f"The invoice is {current}; it can no longer be {to}.", code="invoice_final")
    return selectors.invoice_for_staff(invoice.id)


@transaction.atomic
def invoice_approve(
    *, invoice: Invoice, actor: str, adjustments: dict[int, Adjustment] | None = None
) -> Invoice:
    """Approve and finalise: each line at its invoiced amount, or as adjusted (each
    adjustment with its reason); every shipper with orders on it gets ``InvoiceApproved``
    with its own lines."""
    adjustments = adjustments or {}
    positions = {line.position for line in invoice.lines.all()}
    for index, (position, adjustment) in enumerate(sorted(adjustments.items())):
        if position not in positions:
            raise InvalidInput.for_field(
                f"lines[{index}].position", f"The invoice has no line {position}."
            )
        if not adjustment.reason.strip():
            raise InvalidInput.for_field(
                f"lines[{index}].reason", "Say why the line is adjusted.", "required"
            )
    now = timezone.now()
    invoice = _claim_invoice(
        invoice, InvoiceStatus.APPROVED, {"decided_at": now, "decided_by": actor}
    )
    for line in invoice.lines.all():
        adjustment = adjustments.get(line.position)
        line.approved_amount = (
            money_round(adjustment.amount, invoice.currency) if adjustment else line.amount
        )
        line.adjustment_reason = adjustment.reason.strip()[:500] if adjustment else ""
    InvoiceLine.objects.bulk_update(
        list(invoice.lines.all()), ["approved_amount", "adjustment_reason"]
    )
    _invoice_history(invoice, actor, "invoice_approved", "")
    events_append(events=_invoice_events(invoice))
    return invoice


def _invoice_history(invoice: Invoice, actor: str, action: str, note: str) -> None:
    seen = set()
    for line in invoice.lines.all():
        if line.order is None or line.order_id in seen:
            continue
        seen.add(line.order_id)
        changes = {
            "invoice": str(invoice.id),
            "number": invoice.number,
            "lines": [ln.position for ln in invoice.lines.all() if ln.order_id == line.order_id],
        }
        _history(line.order, actor, action, changes, note or f"Invoice {invoice.number}.")


def _invoice_events(invoice: Invoice) -> list:
    by_shipper: dict = {}
    for line in invoice.lines.all():
        if line.order is not None:
            by_shipper.setdefault(line.order.shipper_id, (line.order.shipper, []))[1].append(line)
    return [
        event_build(
            type=EventName.INVOICE_APPROVED,
            live_mode=invoice.live_mode,
            shipper=shipper,
            carrier=invoice.carrier,
            entity_type="INVOICE",
            entity_id=invoice.id,
            entity_ref=invoice.number,
            root_entity_type="INVOICE",
            root_entity_id=invoice.id,
            root_entity_ref=invoice.number,
            time_zone=carrier_zone(invoice.carrier),
            invoice=invoice,
            lines=lines,
            time_of_event=invoice.decided_at,
        )
        for shipper, lines in by_shipper.values()
    ]


@transaction.atomic
def invoice_dispute(
    *, invoice: Invoice, actor: str, reason: str, positions: list[int] | None = None
) -> Invoice:
    """Dispute the invoice (the lines named, or all) with a reason the carrier reads."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput.for_field("reason", "Say why the invoice is disputed.", "required")
    known = {line.position for line in invoice.lines.all()}
    positions = sorted(set(positions or known))
    for index, position in enumerate(positions):
        if position not in known:
            raise InvalidInput.for_field(f"lines[{index}]", f"The invoice has no line {position}.")
    now = timezone.now()
    invoice = _claim_invoice(
        invoice,
        InvoiceStatus.DISPUTED,
        {"dispute_reason": reason[:500], "disputed_at": now, "disputed_by": actor},
    )
    InvoiceLine.objects.filter(invoice=invoice, position__in=positions).update(disputed=True)
    invoice = selectors.invoice_for_staff(invoice.id)
    _invoice_history(invoice, actor, "invoice_disputed", reason)
    return invoice
