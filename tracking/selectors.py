"""Reads of tracking: the orders a carrier carries, carrier events tokens, the facts applied
so far, timelines, ETA windows, proofs of delivery.

Shippers read through ``Order.objects.of(tenant)``; a carrier reaches an order only while it
carries it (its current plan is with the carrier, or it is on a route the carrier operates).
"""

from __future__ import annotations

import hmac
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Exists, Max, OuterRef, Prefetch, Q, QuerySet

from accounts.models import Shipper
from accounts.services import api_key_hash
from accounts.tenancy import Tenant
from carriers.models import Carrier, Plan
from config.errors import NotFound, first_or_404
from config.sql import (
    Columns,
    any_of,
    current_connection,
    for_update_of,
    param,
    quote,
    rows_read,
)
from orders.models import Collo, Order
from routing.models import Route, RouteStatus, Stop, StopKind, VehicleGroup
from tracking.models import CarrierEventsToken, ProofOfDelivery, TrackingEvent
from webhooks.selectors import orders_subscriptions_statement, subscriptions_by_tenant

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
    *,
    carrier: Carrier,
    live_mode: bool,
    order_id: str = "",
    barcode: str = "",
    known: dict | None = None,
) -> list[Order]:
    """The carried orders an order reference (Waybill id or creatorOrderId) or a collo barcode
    names, at most two (two means the reference is ambiguous). ``known``: what
    ``carried_orders_by_id`` found for Waybill ids already."""
    if order_id:
        # By primary key first: an OR with creator_order_id (indexed only after the shipper)
        # would scan every order.
        waybill_id = as_uuid(order_id)
        if waybill_id is not None:
            if known is None:
                known = carried_orders_by_id(
                    carrier=carrier, live_mode=live_mode, order_ids=[waybill_id]
                )
            if waybill_id in known:
                return [known[waybill_id]]
    orders = carrier_orders(carrier=carrier, live_mode=live_mode)
    if order_id:
        orders = orders.filter(creator_order_id=order_id)
    elif barcode:
        orders = orders.filter(collis__barcode=barcode)
    else:
        return []
    return list(orders.select_related("shipper").distinct()[:2])


def collo_of_order(*, order: Order, barcode: str = "", collo_id: str = "") -> Collo | None:
    collis = Collo.objects.filter(order=order)
    if barcode:
        return collis.filter(barcode=barcode).first()
    waybill_id = as_uuid(collo_id)
    return collis.filter(id=waybill_id).first() if waybill_id else None


@dataclass
class _Row:
    """What the rules read of one timeline row."""

    collo_id: Any
    type: str
    time_of_event: datetime
    received_at: datetime
    applied: bool
    eta_from: datetime | None
    eta_to: datetime | None

    @property
    def key(self) -> tuple:
        return (self.time_of_event, self.received_at)


@dataclass
class TimelineState:
    """The timelines of a batch's orders as far as the rules read them: when the last fact
    was applied to each order, collo and route, each collo's state, the last ETA reported,
    the stops the orders are on. Read once; ``add`` keeps it current as facts are applied."""

    rows: dict = field(default_factory=dict)  # order id -> [_Row]
    collis: dict = field(default_factory=dict)  # order id -> [collo id]
    stops: dict = field(default_factory=dict)  # order id -> [Stop], newest route first
    route_applied: dict = field(default_factory=dict)  # route id -> last time applied

    def add(self, event: TrackingEvent) -> None:
        if event.order_id is None:
            if event.applied and event.route_id is not None:
                last = self.route_last_applied(event.route_id)
                if last is None or event.time_of_event > last:
                    self.route_applied[event.route_id] = event.time_of_event
            return
        self.rows.setdefault(event.order_id, []).append(_row_of(event))

    def last_applied(self, fact) -> datetime | None:
        """When the newest fact applied to the fact's collo (or, without one, its order; for
        a route fact, its route) happened: a fact older than that is kept but moves nothing."""
        if fact.order is None:
            return self.route_last_applied(fact.route.id)
        rows = self.rows.get(fact.order.id, ())
        collo_id = fact.collo.id if fact.collo is not None else None
        times = [
            r.time_of_event
            for r in rows
            if r.applied and (collo_id is None or r.collo_id == collo_id)
        ]
        return max(times, default=None)

    def route_last_applied(self, route_id) -> datetime | None:
        if route_id not in self.route_applied:
            events = TrackingEvent.objects.filter(applied=True, route_id=route_id, order=None)
            self.route_applied[route_id] = events.aggregate(last=Max("time_of_event"))["last"]
        return self.route_applied[route_id]

    def collo_states(self, order_id, event: TrackingEvent, fact_types: dict[str, str]) -> list:
        """Per collo of the order, the state (``fact_types[type]``) its newest applied fact
        that has one left it in (``event``, being applied, included), or None."""
        newest: dict = {}
        for row in [*self.rows.get(order_id, ()), _row_of(event)]:
            if not (row.applied and row.collo_id is not None and row.type in fact_types):
                continue
            if row.collo_id not in newest or row.key >= newest[row.collo_id][0]:
                newest[row.collo_id] = (row.key, fact_types[row.type])
        return [newest[c][1] if c in newest else None for c in self.collis.get(order_id, ())]

    def last_eta(self, order_id) -> tuple[datetime | None, datetime | None]:
        rows = [r for r in self.rows.get(order_id, ()) if r.eta_from is not None]
        last = max(rows, key=lambda r: r.key, default=None)
        return (last.eta_from, last.eta_to) if last else (None, None)

    def latest_stop(self, order_id) -> Stop | None:
        """The order's stop on its newest route, whoever drives it."""
        return next(iter(self.stops.get(order_id, ())), None)

    def carrier_route(self, order_id, carrier: Carrier) -> Route | None:
        """The route ``carrier`` drives the order on, if any (the newest not cancelled)."""
        return next(
            (
                stop.route
                for stop in self.stops.get(order_id, ())
                if stop.route.vehicle_group.operator_id == carrier.id
                and stop.route.status != RouteStatus.CANCELLED
            ),
            None,
        )


def _row_of(event: TrackingEvent) -> _Row:
    return _Row(
        event.collo_id,
        event.type,
        event.time_of_event,
        event.received_at,
        event.applied,
        event.eta_from,
        event.eta_to,
    )


_LOCKED_ORDER = Columns(Order, "o")
_LOCKED_SHIPPER = Columns(Shipper, "s")
_TIMELINE_ROW = Columns(
    TrackingEvent,
    "t",
    fields=[
        "order", "collo", "type", "time_of_event", "received_at", "applied", "eta_from",
        "eta_to",
    ],
)  # fmt: skip
_SEEN = Columns(TrackingEvent, "t", fields=["id", "external_id"])


@dataclass
class FactsState:
    """What applying a list of facts reads before it writes: the orders (locked, with their
    shippers) by id, their timelines, and which of the facts' event ids the carrier
    reported before (event id -> timeline row id); and the webhook subscriptions of the
    orders' shippers, which their events fan out to."""

    orders: dict
    timeline: TimelineState
    seen: dict
    subscriptions: dict  # the orders' shippers', for ``webhooks.services.events_append``


def facts_state(
    *,
    carrier: Carrier,
    order_ids,
    external_ids,
    with_collis: bool,
    carried_in: bool | None = None,
) -> FactsState:
    """The ``FactsState`` for these orders and event ids. The orders are locked
    (``SELECT … FOR UPDATE`` in id order, so two batches never wait on each other in a
    circle) in the statement that reads them and whether they are on a route; with
    ``carried_in`` (a mode), only those ``carrier`` carries in it (``carried_by``) are read
    and locked. The timelines, the ids seen before and the subscriptions are read beside the
    lock, in the same round trip on PostgreSQL. Stops are read only for orders on a route,
    collis only when asked."""
    order_ids, external_ids = set(order_ids), set(external_ids)
    carried_by = (carrier, carried_in) if carried_in is not None else None
    statements = {
        "timelines": _timeline_statement(order_ids) if order_ids else None,
        "seen": _seen_statement(carrier, external_ids) if external_ids else None,
        "locked": _lock_statement(order_ids, carried_by) if order_ids else None,
        "subscriptions": orders_subscriptions_statement(order_ids) if order_ids else None,
    }
    asked = {name: statement for name, statement in statements.items() if statement}
    rows = dict.fromkeys(statements, [])
    rows.update(zip(asked, rows_read(list(asked.values())), strict=True))
    orders, routed = _locked_orders(rows["locked"])
    tenants = {(o.shipper_id, o.live_mode) for o in orders.values()}
    subscriptions = subscriptions_by_tenant(rows["subscriptions"], tenants)
    timeline = _timeline(rows["timelines"], set(orders))
    seen = {}
    connection = current_connection()
    for row in rows["seen"]:
        row_id, external_id = _SEEN.values(row, connection=connection)
        seen[external_id] = str(row_id)
    if routed:
        stops = (
            Stop.objects.filter(order_id__in=list(routed))
            .select_related("route__vehicle_group__depot")
            .order_by("-route__created_at")
        )
        for stop in stops:
            timeline.stops.setdefault(stop.order_id, []).append(stop)
    if with_collis and orders:
        for collo_id, order_id in Collo.objects.filter(order_id__in=list(orders)).values_list(
            "id", "order_id"
        ):
            timeline.collis.setdefault(order_id, []).append(collo_id)
    return FactsState(orders, timeline, seen, subscriptions)


def _lock_statement(order_ids, carried_by: tuple | None, lock: bool = True) -> tuple[str, list]:
    where, params = any_of('"o"."id"', Order._meta.pk, order_ids)
    joins = f'JOIN {quote(Shipper._meta.db_table)} s ON s."id" = o."shipper_id"'
    if carried_by is not None:
        # Reached from the orders, the carrier's plans and stops are read for them alone.
        carrier, live_mode = carried_by
        carrier_id = param(Carrier._meta.pk, carrier.id)
        joins += (
            f' LEFT JOIN {quote(Plan._meta.db_table)} p ON p."order_id" = o."id" AND p."is_current"'
        )
        on_stop, stop_params = any_of('st."order_id"', Stop._meta.get_field("order"), order_ids)
        where += (
            ' AND o."live_mode" = %s AND (p."carrier_id" = %s OR o."id" IN ('
            f'SELECT st."order_id" FROM {quote(Stop._meta.db_table)} st '
            f'JOIN {quote(Route._meta.db_table)} r ON r."id" = st."route_id" '
            f'JOIN {quote(VehicleGroup._meta.db_table)} g ON g."id" = r."vehicle_group_id" '
            f'WHERE {on_stop} AND g."operator_id" = %s AND r."status" <> %s))'
        )
        params += [live_mode, carrier_id, *stop_params, carrier_id, str(RouteStatus.CANCELLED)]
    statement = (
        f"SELECT {_LOCKED_ORDER.sql}, {_LOCKED_SHIPPER.sql}, EXISTS (SELECT 1 FROM "
        f'{quote(Stop._meta.db_table)} st WHERE st."order_id" = "o"."id") '
        f"FROM {quote(Order._meta.db_table)} o {joins} "
        f'WHERE {where} ORDER BY o."id"{for_update_of("o") if lock else ""}'
    )
    return statement, params


def _locked_orders(rows) -> tuple[dict, set]:
    """The locked orders by id, their shippers loaded; and the ids of those on a route."""
    orders, routed, shippers = {}, set(), {}
    connection = current_connection()
    for row in rows:
        order = _LOCKED_ORDER.instance(row, connection=connection)
        if order.shipper_id not in shippers:  # a batch's orders are mostly one shipper's
            shippers[order.shipper_id] = _LOCKED_SHIPPER.instance(
                row, _LOCKED_ORDER.width, connection
            )
        order.shipper = shippers[order.shipper_id]
        orders[order.id] = order
        if row[-1]:
            routed.add(order.id)
    return orders, routed


# Each statement by the one index that answers it: asked together (``t."order_id" = … OR
# t."external_id" = …``) PostgreSQL planned a scan of the table while it was small, and
# its prepared plan kept scanning as the table grew.
def _timeline_statement(order_ids) -> tuple[str, list]:
    fields = TrackingEvent._meta
    by_order, params = any_of('t."order_id"', fields.get_field("order"), order_ids)
    statement = (
        f"SELECT {_TIMELINE_ROW.sql} FROM {quote(fields.db_table)} t WHERE {by_order} "
        'ORDER BY t."order_id", t."time_of_event", t."received_at"'
    )
    return statement, params


def _seen_statement(carrier: Carrier, external_ids) -> tuple[str, list]:
    fields = TrackingEvent._meta
    by_id, params = any_of('t."external_id"', fields.get_field("external_id"), external_ids)
    statement = (
        f"SELECT {_SEEN.sql} FROM {quote(fields.db_table)} t "
        # ``<> ''`` as the unique index on the event ids has it, so that index answers.
        f"""WHERE t."carrier_id" = %s AND t."external_id" <> '' AND {by_id}"""
    )
    return statement, [param(fields.get_field("carrier"), carrier.id), *params]


def _timeline(rows, order_ids) -> TimelineState:
    state = TimelineState()
    connection = current_connection()
    for row in rows:
        order_id, *rest = _TIMELINE_ROW.values(row, connection=connection)
        if order_id in order_ids:
            state.rows.setdefault(order_id, []).append(_Row(*rest))
    return state


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


def _carrier_plans(carrier) -> QuerySet[Plan]:
    return Plan.objects.filter(is_current=True, carrier=carrier)


def _carrier_stops(carrier) -> QuerySet[Stop]:
    return Stop.objects.filter(route__vehicle_group__operator=carrier).exclude(
        route__status=RouteStatus.CANCELLED
    )


def carried_by(carrier, *, live_mode: bool) -> Q:
    """Orders ``carrier`` carries in that mode: planned on one of its services (its current
    plan), or on a (not cancelled) route of a vehicle group it operates."""
    planned = _carrier_plans(carrier).filter(order=OuterRef("pk"))
    routed = _carrier_stops(carrier).filter(order=OuterRef("pk"))
    return Q(live_mode=live_mode) & (Q(Exists(planned)) | Q(Exists(routed)))


def carried_orders_by_id(*, carrier: Carrier, live_mode: bool, order_ids) -> dict:
    """Which of ``order_ids`` ``carrier`` carries (``carried_by``), by id, with their
    shippers: the statement ``facts_state`` locks them with, without the lock."""
    order_ids = set(order_ids)
    if not order_ids:
        return {}
    [rows] = rows_read([_lock_statement(order_ids, (carrier, live_mode), lock=False)])
    return _locked_orders(rows)[0]


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
