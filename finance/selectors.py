"""Reads of finance: an order's current cost, cost additions and invoices by tenant, what
the audit compares with, and the totals finance reads per carrier and month.

The current cost has one rule, here: the current plan's price plus the approved cost
additions in the plan's currency (``order_costs``). The Plan API, the order document and
the audit all read it from this module.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Prefetch, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth

from accounts.tenancy import Tenant
from carriers.models import Carrier, Plan, PlanStatus
from config.errors import first_or_404
from config.money import money_round
from finance.models import (
    CostAddition,
    CostAdditionStatus,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    LineKind,
)
from orders.models import Order
from routing.models import Route, RouteStatus, Stop
from tracking.selectors import as_uuid, carried_by


@dataclass(frozen=True)
class CurrentCost:
    """What an order costs now: ``planned`` (the current plan's price; None on an own-fleet
    route) plus the approved ``additions``, in one currency."""

    currency: str
    planned: Decimal | None
    additions: Decimal

    @property
    def current(self) -> Decimal:
        return money_round((self.planned or Decimal(0)) + self.additions, self.currency)


def order_costs(orders: Iterable[Order]) -> dict:
    """Each order's ``CurrentCost`` by id (None: no price and nothing approved); two queries
    whatever the number of orders."""
    ids = [order.id for order in orders]
    costs: dict = dict.fromkeys(ids)
    if not ids:
        return costs
    plans = Plan.objects.filter(
        order_id__in=ids, is_current=True, status=PlanStatus.PLANNED, price__isnull=False
    ).values_list("order_id", "price", "currency")
    priced = {order_id: (price, currency) for order_id, price, currency in plans}
    approved: dict = defaultdict(dict)
    rows = (
        CostAddition.objects.filter(order_id__in=ids, status=CostAdditionStatus.APPROVED)
        .values("order_id", "currency")
        .annotate(total=Sum("approved_amount"))
    )
    for row in rows:
        approved[row["order_id"]][row["currency"]] = row["total"]
    for order_id in ids:
        if order_id in priced:
            price, currency = priced[order_id]
            additions = approved[order_id].get(currency, Decimal(0))
            costs[order_id] = CurrentCost(currency, price, additions)
        elif len(approved[order_id]) == 1:  # on a route: only what was approved on top
            [(currency, additions)] = approved[order_id].items()
            costs[order_id] = CurrentCost(currency, None, additions)
    return costs


def order_cost(order: Order) -> CurrentCost | None:
    return order_costs([order])[order.id]


# --- cost additions -------------------------------------------------------------------------


def cost_additions(*, tenant: Tenant) -> QuerySet[CostAddition]:
    """The tenant's cost additions, newest first: a carrier's own, a shipper's on its orders
    once approved (a request is not the shipper's cost until finance accepts it)."""
    additions = CostAddition.objects.of(tenant)
    if tenant.kind == "shipper":
        additions = additions.filter(status=CostAdditionStatus.APPROVED)
    return additions.select_related(
        "carrier", "order__shipper", "route__vehicle_group__depot"
    ).prefetch_related("evidence")


def cost_addition_get(*, tenant: Tenant, cost_addition_id) -> CostAddition:
    return first_or_404(
        cost_additions(tenant=tenant).filter(id=cost_addition_id),
        f"No cost addition with id '{cost_addition_id}'.",
    )


def cost_addition_by_reference(*, carrier: Carrier, live_mode: bool, reference: str):
    return CostAddition.objects.filter(
        carrier=carrier, live_mode=live_mode, reference=reference
    ).first()


def cost_addition_for_staff(cost_addition_id) -> CostAddition:
    return first_or_404(
        CostAddition.objects.select_related(
            "carrier", "order__shipper", "route__vehicle_group__depot"
        )
        .prefetch_related("evidence")
        .filter(id=cost_addition_id),
        f"No cost addition with id '{cost_addition_id}'.",
    )


def carried_order(*, carrier: Carrier, live_mode: bool, reference: str) -> Order | None:
    """The order ``carrier`` carries that ``reference`` names (Waybill id, else the
    shipper's creatorOrderId when only one carried order has it)."""
    orders = Order.objects.filter(carried_by(carrier, live_mode=live_mode)).select_related(
        "shipper"
    )
    waybill_id = as_uuid(reference)
    if waybill_id is not None:
        found = orders.filter(id=waybill_id).first()
        if found is not None:
            return found
    named = list(orders.filter(creator_order_id=reference)[:2])
    return named[0] if len(named) == 1 else None


def carried_route(*, carrier: Carrier, live_mode: bool, reference: str) -> Route | None:
    """The route (by id or slug) of a vehicle group ``carrier`` operates."""
    routes = Route.objects.filter(vehicle_group__operator=carrier, job__live_mode=live_mode)
    waybill_id = as_uuid(reference)
    lookup = Q(id=waybill_id) if waybill_id is not None else Q(slug=reference)
    return routes.filter(lookup).select_related("vehicle_group").first()


# --- what the audit compares with -----------------------------------------------------------


def order_any(*, live_mode: bool, reference: str) -> list[Order]:
    """Orders of any shipper a reference names, at most two: the audit tells "not yours"
    from "unknown" (finance sees it; the carrier never does)."""
    orders = Order.objects.filter(live_mode=live_mode)
    waybill_id = as_uuid(reference)
    if waybill_id is not None:
        found = list(orders.filter(id=waybill_id)[:1])
        if found:
            return found
    return list(orders.filter(creator_order_id=reference)[:2])


def carrier_ever_carried(*, carrier: Carrier, order: Order) -> bool:
    """Whether ``carrier`` was ever given ``order`` (a plan or a route stop, current or
    not): a cancelled order is carried by nobody, yet its carrier may have charged it."""
    return (
        Plan.objects.filter(order=order, carrier=carrier).exists()
        or Stop.objects.filter(order=order, route__vehicle_group__operator=carrier).exists()
    )


def route_planned_cost(route: Route) -> Decimal:
    """A route's cost at its vehicle group's rates: per vehicle, per km, per hour."""
    group = route.vehicle_group
    hours = Decimal(route.duration) / Decimal(3600)
    km = Decimal(str(route.distance_km))
    return group.cost_per_vehicle + group.cost_per_km * km + group.cost_per_hour * hours


def route_additions(*, route: Route, currency: str) -> Decimal:
    total = CostAddition.objects.filter(
        route=route, status=CostAdditionStatus.APPROVED, currency=currency
    ).aggregate(total=Sum("approved_amount"))["total"]
    return total or Decimal(0)


def route_is_cancelled(route: Route) -> bool:
    return route.status == RouteStatus.CANCELLED


def additions_invoiced_apart(*, order: Order, exclude_invoice=None) -> Decimal:
    """Approved additions of ``order`` billed on lines of their own (on invoices not
    disputed), which its order line therefore no longer includes."""
    lines = InvoiceLine.objects.filter(
        kind=LineKind.COST_ADDITION,
        cost_addition__order=order,
        cost_addition__status=CostAdditionStatus.APPROVED,
    ).exclude(invoice__status=InvoiceStatus.DISPUTED)
    if exclude_invoice is not None:
        lines = lines.exclude(invoice=exclude_invoice)
    ids = set(lines.values_list("cost_addition_id", flat=True))
    total = CostAddition.objects.filter(id__in=ids).aggregate(total=Sum("approved_amount"))
    return total["total"] or Decimal(0)


def already_invoiced(*, carrier: Carrier, live_mode: bool, kind: str, target_id) -> bool:
    """Whether a line for this order, route or cost addition is on an earlier invoice of
    the carrier that is not disputed (a disputed one is re-sent corrected)."""
    column = {LineKind.ORDER: "order", LineKind.ROUTE: "route"}.get(kind, "cost_addition")
    return (
        InvoiceLine.objects.filter(
            kind=kind,
            invoice__carrier=carrier,
            invoice__live_mode=live_mode,
            **{f"{column}_id": target_id},
        )
        .exclude(invoice__status=InvoiceStatus.DISPUTED)
        .exists()
    )


# --- invoices ---------------------------------------------------------------------------------


def _lines_loaded(lines: QuerySet[InvoiceLine]) -> QuerySet[InvoiceLine]:
    return lines.select_related("order__shipper", "route", "cost_addition").order_by("position")


def carrier_invoices(*, tenant: Tenant) -> QuerySet[Invoice]:
    return (
        Invoice.objects.of(tenant)
        .select_related("carrier")
        .prefetch_related(Prefetch("lines", queryset=_lines_loaded(InvoiceLine.objects.all())))
    )


def carrier_invoice_get(*, tenant: Tenant, invoice_id) -> Invoice:
    return first_or_404(
        carrier_invoices(tenant=tenant).filter(id=invoice_id),
        f"No invoice with id '{invoice_id}'.",
    )


def invoice_by_number(*, carrier: Carrier, live_mode: bool, number: str) -> Invoice | None:
    return Invoice.objects.filter(carrier=carrier, live_mode=live_mode, number=number).first()


def shipper_invoices(*, tenant: Tenant) -> QuerySet[Invoice]:
    """Approved invoices with at least one line of the shipper's, each carrying only those
    lines (``shipper_lines``)."""
    own = InvoiceLine.objects.of(tenant)
    return (
        Invoice.objects.filter(
            status=InvoiceStatus.APPROVED, live_mode=tenant.live_mode, lines__in=own
        )
        .distinct()
        .select_related("carrier")
        .prefetch_related(Prefetch("lines", queryset=_lines_loaded(own), to_attr="shipper_lines"))
    )


def invoice_for_staff(invoice_id) -> Invoice:
    return first_or_404(
        Invoice.objects.select_related("carrier")
        .prefetch_related(Prefetch("lines", queryset=_lines_loaded(InvoiceLine.objects.all())))
        .filter(id=invoice_id),
        f"No invoice with id '{invoice_id}'.",
    )


def invoices_for_export(invoice_ids: Iterable) -> list[Invoice]:
    return list(
        Invoice.objects.filter(id__in=list(invoice_ids))
        .select_related("carrier")
        .prefetch_related(Prefetch("lines", queryset=_lines_loaded(InvoiceLine.objects.all())))
        .order_by("carrier__name", "number")
    )


@dataclass(frozen=True)
class MonthTotal:
    carrier: str
    month: str  # YYYY-MM of the invoice's period start
    currency: str
    invoices: int
    invoiced: Decimal
    approved: Decimal
    additions_approved: Decimal


def totals_by_carrier_and_month(*, live_mode: bool = True) -> list[MonthTotal]:
    """Per carrier, month (of the invoice's period) and currency: invoices received, their
    invoiced and approved sums, and the cost additions approved in that month."""
    invoices = (
        InvoiceLine.objects.filter(invoice__live_mode=live_mode)
        .annotate(month=TruncMonth("invoice__period_from"))
        .values("invoice__carrier__name", "month", "invoice__currency")
        .annotate(
            invoices=Count("invoice", distinct=True),
            invoiced=Sum("amount"),
            approved=Sum("approved_amount", filter=Q(invoice__status=InvoiceStatus.APPROVED)),
        )
    )
    additions = (
        CostAddition.objects.filter(live_mode=live_mode, status=CostAdditionStatus.APPROVED)
        .annotate(month=TruncMonth("decided_at"))
        .values("carrier__name", "month", "currency")
        .annotate(total=Sum("approved_amount"))
    )
    table: dict[tuple, dict] = {}
    for row in invoices:
        key = (row["invoice__carrier__name"], _month(row["month"]), row["invoice__currency"])
        table[key] = {
            "invoices": row["invoices"],
            "invoiced": row["invoiced"] or Decimal(0),
            "approved": row["approved"] or Decimal(0),
        }
    for row in additions:
        key = (row["carrier__name"], _month(row["month"]), row["currency"])
        table.setdefault(key, {"invoices": 0, "invoiced": Decimal(0), "approved": Decimal(0)})
        table[key]["additions"] = row["total"]
    # Carriers by name, each one's newest month first.
    rows = sorted(table.items(), key=lambda item: item[0][1], reverse=True)
    rows.sort(key=lambda item: item[0][0])
    return [
        MonthTotal(
            carrier=carrier,
            month=month,
            currency=currency,
            invoices=values["invoices"],
            invoiced=money_round(values["invoiced"], currency),
            approved=money_round(values["approved"], currency),
            additions_approved=money_round(values.get("additions") or 0, currency),
        )
        for (carrier, month, currency), values in rows
    ]


def _month(value) -> str:
    return value.strftime("%Y-%m") if value is not None else ""
