"""The audit of an invoice's lines, in one place: what each line references, what Waybill
expected it to charge, and the finding (``finance.models.Finding``).

Per line, first what it references: an order the carrier carries (or once carried and was
cancelled), a route of a vehicle group the carrier operates, or one of the carrier's cost
additions; anything else is ``unknown-reference``, or ``not-carried`` when it exists but is
another carrier's. Then whether it was invoiced already (``duplicate``: earlier on this
invoice, or on an earlier invoice not disputed). Then the amount against the expected one:

- an order: its current cost (plan price plus approved cost additions, ``order_costs``),
  less the approved additions billed on lines of their own;
- a route: its vehicle group's rates (per vehicle, km and hour) plus approved additions;
- a cost addition: the approved amount (``not-approved`` while pending or rejected).

The difference is ``match`` at zero and ``within-tolerance`` while it is at most the
carrier's absolute tolerance and at most its percentage of the expected amount; beyond
either, ``over-tolerance``. An expected amount in another currency is never compared
(``other-currency``); an order on a route has no price of its own (``no-price``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from carriers.models import Carrier
from config.money import money_round, money_text
from finance import selectors
from finance.models import CostAddition, CostAdditionStatus, Finding, LineKind
from orders.models import Order, OrderStatus
from tracking.selectors import as_uuid


@dataclass
class LineSpec:
    """One line as the carrier sent it."""

    kind: str
    reference: str
    amount: Decimal
    description: str = ""


@dataclass
class AuditedLine:
    spec: LineSpec
    finding: str = Finding.MATCH
    detail: str = ""
    expected: Decimal | None = None
    order: Order | None = None
    route: object | None = None
    cost_addition: CostAddition | None = None
    targets: tuple = field(default_factory=tuple)


def amount_finding(
    *, expected: Decimal, invoiced: Decimal, carrier: Carrier, currency: str
) -> tuple[str, str]:
    """The finding of an invoiced amount against the expected one, and why in words."""
    difference = abs(invoiced - expected)
    if difference == 0:
        return Finding.MATCH, ""
    percent = (difference * 100 / expected) if expected else None
    words = f"differs by {money_text(difference, currency)} {currency}"
    if percent is not None:
        words += f" ({percent.quantize(Decimal('0.01'))} %)"
    tolerance = (
        f"tolerance {money_text(carrier.invoice_tolerance_amount, currency)} {currency} "
        f"and {carrier.invoice_tolerance_pct} %"
    )
    within = difference <= carrier.invoice_tolerance_amount and (
        percent is not None and percent <= carrier.invoice_tolerance_pct
    )
    if within:
        return Finding.WITHIN_TOLERANCE, f"{words}; {tolerance}"
    over = []
    if difference > carrier.invoice_tolerance_amount:
        over.append("amount")
    if percent is None or percent > carrier.invoice_tolerance_pct:
        over.append("percent")
    return Finding.OVER_TOLERANCE, f"{words}; over the {' and '.join(over)} {tolerance}"


def invoice_lines_audit(
    *, carrier: Carrier, live_mode: bool, currency: str, lines: list[LineSpec], invoice=None
) -> list[AuditedLine]:
    """Every line of an invoice audited; ``invoice`` is the invoice itself when its lines
    are audited again (its own lines are then no earlier invoice)."""
    audited = [_resolve(carrier, live_mode, spec) for spec in lines]
    seen: set[tuple] = set()
    for line in audited:
        if line.targets and line.finding == Finding.MATCH:
            earlier = line.targets in seen or selectors.already_invoiced(
                carrier=carrier,
                live_mode=live_mode,
                kind=line.spec.kind,
                target_id=line.targets[1],
            )
            if earlier:
                line.finding, line.detail = Finding.DUPLICATE, "Already invoiced."
        if line.targets:
            seen.add(line.targets)
    apart = _additions_on_own_lines(audited)
    for line in audited:
        if line.finding == Finding.MATCH:
            _expect(line, carrier=carrier, currency=currency, apart=apart, invoice=invoice)
    return audited


def _resolve(carrier: Carrier, live_mode: bool, spec: LineSpec) -> AuditedLine:
    line = AuditedLine(spec)
    if spec.kind == LineKind.ORDER:
        _resolve_order(line, carrier, live_mode)
    elif spec.kind == LineKind.ROUTE:
        line.route = selectors.carried_route(
            carrier=carrier, live_mode=live_mode, reference=spec.reference
        )
        if line.route is None:
            line.finding, line.detail = Finding.UNKNOWN_REFERENCE, "No route of yours."
    else:
        line.cost_addition = _cost_addition(carrier, live_mode, spec.reference)
        if line.cost_addition is None:
            line.finding, line.detail = Finding.UNKNOWN_REFERENCE, "No cost addition of yours."
        else:
            line.order = line.cost_addition.order
    target = line.order if spec.kind == LineKind.ORDER else line.route or line.cost_addition
    if target is not None and line.finding == Finding.MATCH:
        line.targets = (spec.kind, target.pk)
    return line


def _resolve_order(line: AuditedLine, carrier: Carrier, live_mode: bool) -> None:
    reference = line.spec.reference
    line.order = selectors.carried_order(carrier=carrier, live_mode=live_mode, reference=reference)
    if line.order is not None and line.order.status != OrderStatus.CANCELLED:
        return
    candidates = (
        [line.order]
        if line.order
        else selectors.order_any(live_mode=live_mode, reference=reference)
    )
    ours = [o for o in candidates if selectors.carrier_ever_carried(carrier=carrier, order=o)]
    cancelled = [o for o in ours if o.status == OrderStatus.CANCELLED]
    if cancelled:
        line.order = cancelled[0]
        line.finding, line.detail = Finding.CANCELLED_ORDER, "The order was cancelled."
    elif candidates:
        line.order = None
        line.finding = Finding.NOT_CARRIED
        line.detail = f"Order {candidates[0].id} is not carried by {carrier.slug}."
    else:
        line.finding, line.detail = Finding.UNKNOWN_REFERENCE, "No such order."


def _cost_addition(carrier: Carrier, live_mode: bool, reference: str) -> CostAddition | None:
    own = CostAddition.objects.filter(carrier=carrier, live_mode=live_mode).select_related(
        "order__shipper"
    )
    waybill_id = as_uuid(reference)
    if waybill_id is not None:
        found = own.filter(id=waybill_id).first()
        if found is not None:
            return found
    return own.filter(reference=reference).first()


def _additions_on_own_lines(audited: list[AuditedLine]) -> dict:
    """Per order, the approved additions this invoice bills on lines of their own."""
    apart: dict = {}
    for line in audited:
        addition = line.cost_addition
        if addition is None or addition.order_id is None:
            continue
        if addition.status == CostAdditionStatus.APPROVED and line.finding == Finding.MATCH:
            apart[addition.order_id] = apart.get(addition.order_id, 0) + addition.approved_amount
    return apart


def _expect(line: AuditedLine, *, carrier: Carrier, currency: str, apart: dict, invoice) -> None:
    expected, expected_currency, problem = _expected(
        line, currency=currency, apart=apart, invoice=invoice
    )
    if problem:
        line.finding, line.detail = problem
        return
    if expected_currency != currency:
        line.finding = Finding.OTHER_CURRENCY
        line.detail = f"Expected in {expected_currency}; the invoice is in {currency}."
        return
    line.expected = money_round(expected, currency)
    line.finding, line.detail = amount_finding(
        expected=line.expected, invoiced=line.spec.amount, carrier=carrier, currency=currency
    )


def _expected(line: AuditedLine, *, currency: str, apart: dict, invoice) -> tuple:
    """(expected amount, its currency, None) or (None, None, (finding, detail))."""
    if line.spec.kind == LineKind.COST_ADDITION:
        addition = line.cost_addition
        if addition.status != CostAdditionStatus.APPROVED:
            return None, None, (Finding.NOT_APPROVED, f"The cost addition is {addition.status}.")
        return addition.approved_amount, addition.currency, None
    if line.spec.kind == LineKind.ROUTE:
        # A vehicle group's rates have no currency of their own: they are the invoice's,
        # and only additions approved in it are summed with them.
        planned = selectors.route_planned_cost(line.route)
        return (
            planned + selectors.route_additions(route=line.route, currency=currency),
            currency,
            None,
        )
    cost = selectors.order_costs([line.order])[line.order.id]
    if cost is None or cost.planned is None:
        return None, None, (Finding.NO_PRICE, "The order is on a route: invoice the route.")
    billed_apart = selectors.additions_invoiced_apart(order=line.order, exclude_invoice=invoice)
    billed_apart += apart.get(line.order.id, 0)
    return cost.current - billed_apart, cost.currency, None
