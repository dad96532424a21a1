"""Reads of tracking: the orders a carrier carries, timelines, ETA windows, proofs of delivery.

Shippers read through ``Order.objects.of(tenant)``; a carrier reaches an order only while it
carries it (its current plan is with the carrier, or it is on a route the carrier operates).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Exists, OuterRef, Prefetch, Q

from accounts.tenancy import Tenant
from carriers.models import Plan
from config.errors import NotFound, first_or_404
from orders.models import Collo, Order
from routing.models import RouteStatus, Stop, StopKind
from tracking.models import ProofOfDelivery, TrackingEvent


def carried_by(carrier, *, live_mode: bool) -> Q:
    """Orders ``carrier`` carries in that mode: planned on one of its services, or on a
    (not cancelled) route of a vehicle group it operates."""
    planned = Plan.objects.filter(order=OuterRef("pk"), is_current=True, carrier=carrier)
    routed = Stop.objects.filter(
        order=OuterRef("pk"), route__vehicle_group__operator=carrier
    ).exclude(route__status=RouteStatus.CANCELLED)
    return Q(live_mode=live_mode) & (Q(Exists(planned)) | Q(Exists(routed)))


def carrier_order_get(*, tenant: Tenant, order_id) -> Order:
    """An order the calling carrier carries; anything else (another carrier's, another
    mode's, unknown) is the same 404."""
    carrier = tenant.carrier
    if carrier is None:
        raise NotFound(f"No order with id '{order_id}'.")
    return first_or_404(
        Order.objects.filter(carried_by(carrier, live_mode=tenant.live_mode), id=order_id),
        f"No order with id '{order_id}' among the orders you carry.",
    )


def shipper_order_get(*, tenant: Tenant, order_id) -> Order:
    """One of the shipper's orders, with what its tracking documents show loaded."""
    return first_or_404(
        Order.objects.of(tenant).prefetch_related("collis").filter(id=order_id),
        f"No order with id '{order_id}'.",
    )


def collo_get(*, tenant: Tenant, barcode: str) -> Collo:
    """The shipper's collo with this barcode; the newest order's when several carry it."""
    return first_or_404(
        Collo.objects.filter(order__in=Order.objects.of(tenant), barcode=barcode)
        .select_related("order")
        .order_by("-order__created_at", "position"),
        f"No collo with barcode '{barcode}'.",
    )


def order_by_tracking_token(token: str) -> Order | None:
    return Order.objects.filter(tracking_token=token).first() if token else None


def order_timeline(order: Order) -> list[TrackingEvent]:
    """Every fact reported about ``order`` (its collis' included), oldest first."""
    return list(
        TrackingEvent.objects.filter(order=order)
        .select_related("collo")
        .order_by("time_of_event", "received_at")
    )


def collo_timeline(collo: Collo) -> list[TrackingEvent]:
    """The collo's own facts and its order's (a pickup of the order is the collo's too)."""
    return list(
        TrackingEvent.objects.filter(order_id=collo.order_id)
        .filter(Q(collo=collo) | Q(collo__isnull=True))
        .select_related("collo")
        .order_by("time_of_event", "received_at")
    )


@dataclass(frozen=True)
class EtaWindow:
    start: datetime | None
    end: datetime | None
    source: str  # "carrier" (an ETA update), "route" (the delivery stop), "promise" (the plan)


def eta_window(order: Order, timeline: list[TrackingEvent]) -> EtaWindow | None:
    """When the delivery is expected: the carrier's last ETA update, else the delivery stop
    of an open route, else the delivery window the carrier promised. None once there is
    nothing left to expect."""
    from orders.models import OrderStatus

    if order.status in (OrderStatus.DELIVERED, OrderStatus.RETURNED, OrderStatus.CANCELLED):
        return None
    reported = [e for e in timeline if e.eta_from or e.eta_to]
    if reported:
        last = max(reported, key=lambda e: (e.time_of_event, e.received_at))
        # An ETA given before a failed attempt is stale: wait for the carrier's next one.
        failed = [e for e in timeline if e.type.endswith("Failed")]
        if failed and max(e.time_of_event for e in failed) > last.time_of_event:
            return None
        return EtaWindow(last.eta_from, last.eta_to, "carrier")
    stop = (
        Stop.objects.filter(order=order, kind=StopKind.DELIVERY)
        .exclude(route__status__in=(RouteStatus.CANCELLED, RouteStatus.COMPLETED))
        .order_by("-route__created_at")
        .first()
    )
    if stop is not None:
        return EtaWindow(stop.window_from or stop.eta, stop.window_to or stop.eta, "route")
    plan = Plan.objects.filter(order=order, is_current=True).first()
    if plan is not None and (plan.promised_delivery_from or plan.promised_delivery_to):
        return EtaWindow(plan.promised_delivery_from, plan.promised_delivery_to, "promise")
    return None


def pod_of(order: Order) -> ProofOfDelivery | None:
    """The order's proof of delivery with its images and carrier, or None."""
    return (
        ProofOfDelivery.objects.filter(order=order)
        .select_related("carrier", "order")
        .prefetch_related(Prefetch("images"))
        .first()
    )


def pod_exists(order: Order) -> bool:
    return ProofOfDelivery.objects.filter(order=order).exists()


def pod_get(*, tenant: Tenant, order_id) -> ProofOfDelivery:
    """The shipper's order's POD; a 404 when the order is not the shipper's or has none."""
    order = shipper_order_get(tenant=tenant, order_id=order_id)
    pod = pod_of(order)
    if pod is None:
        raise NotFound(f"Order '{order_id}' has no proof of delivery yet.")
    pod.order = order  # with its collis loaded
    return pod
