"""A little for finance to look at in the demo: two cost additions (one approved, one
waiting) and one invoice, audited, over orders a demo carrier carries (test mode)."""

from __future__ import annotations

from decimal import Decimal

from django.utils import timezone

from carriers.models import Plan, PlanStatus
from finance import services
from finance.audit import LineSpec
from finance.models import CostAddition, CostAdditionReason

DEMO = "demo:carrier"


def demo_finance_load() -> str:
    """Idempotent: nothing happens once the demo's first cost addition exists."""
    if CostAddition.objects.filter(reference="DEMO-CA-1").exists():
        return "Demo finance: already loaded."
    plans = list(
        Plan.objects.filter(
            is_current=True, status=PlanStatus.PLANNED, order__live_mode=False, price__isnull=False
        )
        .select_related("carrier", "order")
        .order_by("carrier__slug", "order__creator_order_id")
    )
    if not plans:
        return "Demo finance: no planned order to charge."
    carrier = plans[0].carrier
    plans = [p for p in plans if p.carrier_id == carrier.id][:4]
    additions = [
        ("DEMO-CA-1", CostAdditionReason.WAITING_TIME, "35.00", "Waited 25 minutes at the dock."),
        ("DEMO-CA-2", CostAdditionReason.EXTRA_STOP, "60.00", "The receiver asked for a 2nd stop."),
    ]
    asked = []
    for (reference, code, amount, text), plan in zip(additions, plans, strict=False):
        addition, _ = services.cost_addition_request(
            carrier=carrier,
            live_mode=False,
            spec=services.CostAdditionSpec(
                reference=reference, amount=Decimal(amount), currency=plan.currency,
                reason_code=code, reason_text=text, order_reference=str(plan.order_id),
            ),
            actor=DEMO,
        )  # fmt: skip
        asked.append(addition)
    services.cost_addition_approve(cost_addition=asked[0], actor="demo:finance")
    today = timezone.localdate()
    lines = [
        LineSpec(kind="order", reference=str(plan.order_id), amount=plan.price)
        for plan in plans[:3]
    ]
    if lines:
        lines[-1].amount += Decimal("25.00")  # overcharged: the audit flags it
    services.invoice_receive(
        carrier=carrier,
        live_mode=False,
        spec=services.InvoiceSpec(
            number="DEMO-INV-1", issue_date=today, period_from=today.replace(day=1),
            period_to=today, currency=plans[0].currency, lines=lines,
        ),
        actor=DEMO,
    )  # fmt: skip
    return f"Demo finance: 2 cost additions and 1 invoice from {carrier.name}."
