"""Reads of tracking: the orders a carrier carries, carrier events tokens, the facts applied
so far, timelines, ETA windows, proofs of delivery.

Shippers read through ``Order.objects.of(tenant)``; a carrier reaches an order only while it
carries it (its current plan is with the carrier, or it is on a route the carrier operates).
"""

from __future__ import annotations

import hmac
import uuid
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Exists, Max, OuterRef, Prefetch, Q, QuerySet

from accounts.services import api_key_hash
from accounts.tenancy import Tenant
from carriers.models import Carrier, Plan
from config.errors import NotFound, first_or_404
from orders.models import Collo, Order
from routing.models import Route, RouteStatus, Stop, StopKind
from tracking.models import CarrierEventsToken, ProofOfDelivery, TrackingEvent

EVENTS_TOKEN_PREFIX = "wb_evt_"
EVENTS_TOKEN_PREFIX_LENGTH = 14


def carrier_orders(*, carrier: Carrier, live_mode: bool) -> QuerySet[Order]:
    """The orders ``carrier`` carries (``carried_by``)."""
    return Order.objects.filter(carried_by(carrier, live_mode=live_mode))


def carrier_routes(*, carrier: Carrier, live_mode: bool) -> QuerySet[Route]:
    """The routes ``carrier`` drives: those of the vehicle groups it operates."""
    return Route.objects.filter(vehicle_group__operator=carrier, job__live_mode=live_mode)


def as_uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except (ValueError, AttributeError, TypeError):
        return None


def carrier_orders_by_reference(
    *, carrier: Carrier, live_mode: bool, order_id: str = "", barcode: str = ""
) -> list[Order]:
    """The carried orders an order reference (Waybill id or creatorOrderId) or a collo barcode
    names, at most two (two means the reference is ambiguous)."""
    orders = carrier_orders(carrier=carrier, live_mode=live_mode)
    if order_id:
        # By primary key first: an OR with creator_order_id (indexed only after the shipper)
        # would scan every order.
        waybill_id = as_uuid(order_id)
        if waybill_id is not None:
            found = list(orders.filter(id=waybill_id).select_related("shipper")[:1])
            if found:
                return found
        orders = orders.filter(creator_order_id=order_id)
    elif barcode:
        orders = orders.filter(collis__barcode=barcode)
    else:
        return []
    return list(orders.select_related("shipper").distinct()[:2])


def order_route_of_carrier(*, order: Order, carrier: Carrier) -> Route | None:
    """The route ``carrier`` drives ``order`` on, if any (the newest not cancelled)."""
    stop = (
        Stop.objects.filter(order=order, route__vehicle_group__operator=carrier)
        .exclude(route__status=RouteStatus.CANCELLED)
        .select_related("route")
        .order_by("-route__created_at")
        .first()
    )
    return stop.route if stop else None


def collo_of_order(*, order: Order, barcode: str = "", collo_id: str = "") -> Collo | None:
    collis = Collo.objects.filter(order=order)
    if barcode:
        return collis.filter(barcode=barcode).first()
    waybill_id = as_uuid(collo_id)
    return collis.filter(id=waybill_id).first() if waybill_id else None


def last_applied_time(*, order: Order | None, collo: Collo | None = None, route=None):
    """When the newest fact applied to the collo (or, without one, the order; for a route fact,
    the route) happened: a fact older than that is kept but moves nothing."""
    events = TrackingEvent.objects.filter(applied=True)
    if collo is not None:
        events = events.filter(collo=collo)
    elif order is not None:
        events = events.filter(order=order)
    else:
        events = events.filter(route=route, order__isnull=True)
    return events.aggregate(last=Max("time_of_event"))["last"]


def collo_states(*, order: Order, fact_types: dict[str, str]) -> dict:
    """Per collo of ``order``, the state (``fact_types[type]``) its newest applied fact that
    has one left it in, or None."""
    states = {collo_id: None for collo_id in order.collis.values_list("id", flat=True)}
    newest: dict = {}
    rows = TrackingEvent.objects.filter(
        order=order, collo__isnull=False, applied=True, type__in=list(fact_types)
    ).values_list("collo_id", "type", "time_of_event", "received_at")
    for collo_id, kind, at, received in rows:
        key: tuple[datetime, datetime] = (at, received)
        if collo_id in states and (collo_id not in newest or key >= newest[collo_id]):
            newest[collo_id] = key
            states[collo_id] = fact_types[kind]
    return states


def carrier_events_token_find(*, plain: str) -> CarrierEventsToken | None:
    """The live (not revoked) token ``plain`` is, or None; compared in constant time."""
    if not plain.startswith(EVENTS_TOKEN_PREFIX):
        return None
    token = (
        CarrierEventsToken.objects.select_related("carrier")
        .filter(prefix=plain[:EVENTS_TOKEN_PREFIX_LENGTH], revoked_at__isnull=True)
        .first()
    )
    if token is None or not hmac.compare_digest(token.hashed, api_key_hash(plain)):
        return None
    return token


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
