"""Reads of the tracking app: what a carrier may report on, and the timeline's last facts."""

from __future__ import annotations

import hmac
import uuid
from datetime import datetime

from django.db.models import Exists, Max, OuterRef, Q, QuerySet

from accounts.services import api_key_hash
from carriers.models import Carrier, Plan
from orders.models import Collo, Order
from routing.models import Route, RouteStatus, Stop
from tracking.models import CarrierEventsToken, TrackingEvent

EVENTS_TOKEN_PREFIX = "wb_evt_"
EVENTS_TOKEN_PREFIX_LENGTH = 14


def carrier_orders(*, carrier: Carrier, live_mode: bool) -> QuerySet[Order]:
    """The orders ``carrier`` carries: its current plan puts the order on one of the carrier's
    services, or the order is on a (not cancelled) route of a vehicle group it operates."""
    planned = Plan.objects.filter(order=OuterRef("pk"), is_current=True, carrier=carrier)
    routed = Stop.objects.filter(order=OuterRef("pk"), route__vehicle_group__operator=carrier)
    routed = routed.exclude(route__status=RouteStatus.CANCELLED)
    return Order.objects.filter(live_mode=live_mode).filter(Q(Exists(planned)) | Q(Exists(routed)))


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
