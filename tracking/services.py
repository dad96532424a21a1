"""Applying what carriers report: the timeline, the status roll-up through the one status
writer, routes' progress, and the seed 004 events shippers subscribe to."""

from __future__ import annotations

import secrets
from copy import copy
from dataclasses import dataclass, field

from django.db import IntegrityError, OperationalError, transaction
from django.utils import timezone

from accounts.services import api_key_hash
from carriers.models import Carrier
from config.errors import Conflict, WaybillError
from config.sql import instance_new, rows_insert, writes_together
from notifications.services import order_etas_changed
from orders.models import Order, OrderStatus, order_can_move
from orders.services import order_statuses_move
from routing.models import ROUTE_PROGRESS, Route, RouteStatus
from routing.services import route_status_move
from tracking import intake, selectors
from tracking.events import seed_events_for
from tracking.facts import COLLO_FACTS, ETA_UPDATED, ROUTE_FACTS, CarrierFact
from tracking.models import CarrierEventsToken, TrackingEvent
from webhooks.catalogue import EventName
from webhooks.services import events_append

S = OrderStatus
E = EventName
# PostgreSQL's SQLSTATE for a transaction ended to break a circle of lock waits.
DEADLOCK_DETECTED = "40P01"


class FactOutcome:
    APPLIED = "applied"  # stored, and moved what it moves
    RECORDED = "recorded"  # stored in the timeline, older than what was applied: moved nothing
    DUPLICATE = "duplicate"  # its id was seen before from this carrier: nothing changed
    REFUSED = "refused"  # stored, but its move is illegal (e.g. delivered after returned)


@dataclass
class FactResult:
    """What became of one fact: ``applied`` (it moved something), ``recorded`` (kept in the
    timeline, older than what was applied), ``duplicate`` (its id was seen before), or
    ``refused`` (kept, its move illegal: ``error`` says why)."""

    outcome: str
    tracking_event_id: str | None = None
    error: WaybillError | None = None
    order_id: str | None = None  # the order the fact was about


# --- the rules --------------------------------------------------------------------------------

# Order facts that move the order itself; arrivals and a failed pickup only go in the timeline.
ORDER_FACT_TARGETS = {
    E.ORDER_PICKUP_COMPLETED: S.PICKED_UP,
    E.ORDER_DELIVERY_COMPLETED: S.DELIVERED,
    E.ORDER_DELIVERY_FAILED: S.DELIVERY_FAILED,
    E.ORDER_RETURN_COMPLETED: S.RETURNED,
}
# What a collo fact says of its collo; the order's status is rolled up from all its collis.
# A receiver collecting a collo at a collection point is its delivery; one not collected or
# rejected there has failed it.
COLLO_FACT_STATES = {
    E.COLLO_PICKUP_COMPLETED: "picked_up",
    E.COLLO_LOADED_ON_LINEHAUL: "picked_up",
    E.COLLO_DELIVERY_COMPLETED: "delivered",
    E.COLLECTION_POINT_COLLO_COLLECTED: "delivered",
    E.COLLO_DELIVERY_FAILED: "failed",
    E.COLLECTION_POINT_COLLO_NOT_COLLECTED: "failed",
    E.COLLECTION_POINT_COLLO_REJECTED: "failed",
}
# How far along an order is: a fact never moves it to a status ranked lower.
_PROGRESS_RANK = {
    S.CREATED: 0,
    S.UNPLANNED: 0,
    S.PLANNED: 0,
    S.ON_ROUTE: 0,
    S.PICKED_UP: 1,
    S.PARTIALLY_DELIVERED: 2,
    S.DELIVERY_FAILED: 2,
    S.DELIVERED: 3,
    S.RETURNED: 3,
}
_FINAL_RANK = 3
# A route's work for an order is done in these; a route whose orders all are is completed.
ROUTE_DONE_ORDER_STATUSES = frozenset({S.DELIVERED, S.DELIVERY_FAILED, S.RETURNED, S.CANCELLED})
# How far a fact on one of its orders moves a route: the first pickup-related fact dispatches
# it, goods picked up or any delivery fact puts it in progress.
ROUTE_FACT_TARGETS = {
    E.ORDER_PICKUP_ARRIVED: RouteStatus.DISPATCHED,
    E.ORDER_PICKUP_FAILED: RouteStatus.DISPATCHED,
    E.ORDER_PICKUP_COMPLETED: RouteStatus.IN_PROGRESS,
    E.COLLO_PICKUP_COMPLETED: RouteStatus.IN_PROGRESS,
    E.COLLO_LOADED_ON_LINEHAUL: RouteStatus.IN_PROGRESS,
    E.ORDER_DELIVERY_ARRIVED: RouteStatus.IN_PROGRESS,
    E.ORDER_DELIVERY_COMPLETED: RouteStatus.IN_PROGRESS,
    E.ORDER_DELIVERY_FAILED: RouteStatus.IN_PROGRESS,
    E.ORDER_RETURN_COMPLETED: RouteStatus.IN_PROGRESS,
    E.COLLO_DELIVERY_ARRIVED: RouteStatus.IN_PROGRESS,
    E.COLLO_DELIVERY_COMPLETED: RouteStatus.IN_PROGRESS,
    E.COLLO_DELIVERY_FAILED: RouteStatus.IN_PROGRESS,
    E.COLLECTION_POINT_COLLO_COLLECTED: RouteStatus.IN_PROGRESS,
    E.COLLECTION_POINT_COLLO_NOT_COLLECTED: RouteStatus.IN_PROGRESS,
    E.COLLECTION_POINT_COLLO_REJECTED: RouteStatus.IN_PROGRESS,
}


def collo_states_rolled_up(states: list[str | None]) -> str | None:
    """The order status its collis' states add up to, or None when they say nothing."""
    if not states:
        return None
    if all(state == "delivered" for state in states):
        return S.DELIVERED
    if "delivered" in states:
        return S.PARTIALLY_DELIVERED
    if "failed" in states:
        return S.DELIVERY_FAILED
    return S.PICKED_UP if "picked_up" in states else None


# --- applying facts ---------------------------------------------------------------------------


def carrier_events_take(
    *, carrier: Carrier, live_mode: bool, items: list
) -> list[FactResult | WaybillError]:
    """What became of each item ``carrier`` posted: read (``tracking.intake``), its order
    found among those the carrier carries in ``live_mode``, and applied
    (``carrier_facts_apply``), all in one transaction; an item that cannot be read or names
    nothing the carrier carries is its error, and the others are applied all the same.

    The orders the items name by Waybill id are checked, locked and read with their
    timelines in one round trip; orders named otherwise (a creatorOrderId, a barcode) are
    found next and locked after them. Two requests locking such orders in opposite orders
    would wait on each other: PostgreSQL ends one, answered as a Conflict to try again."""
    read = intake.intake_items_read(items)
    try:
        with transaction.atomic():
            state = selectors.facts_state(
                carrier=carrier,
                order_ids=intake.waybill_order_ids(read),
                external_ids=intake.reported_event_ids(read),
                with_collis=any(
                    not isinstance(e, WaybillError) and e[0].type in COLLO_FACTS for e in read
                ),
                carried_in=live_mode,
            )
            parsed = intake.intake_items_resolve(
                read, carrier=carrier, live_mode=live_mode, known=state.orders
            )
            facts = [p for p in parsed if not isinstance(p, WaybillError)]
            # In this transaction, without a savepoint of its own: what fails fails it all.
            applied = iter(_facts_apply(carrier, facts, state))
    except OperationalError as exc:
        if getattr(exc.__cause__, "sqlstate", None) != DEADLOCK_DETECTED:
            raise
        raise Conflict(
            "Another request was changing the same orders; try again.", code="conflict"
        ) from None
    return [p if isinstance(p, WaybillError) else next(applied) for p in parsed]


def carrier_facts_apply(
    *, carrier: Carrier, facts: list[CarrierFact], state: selectors.FactsState | None = None
) -> list[FactResult]:
    """Apply ``facts`` reported by ``carrier``, in order, in one transaction: each is stored
    in the timeline (once per carrier and event id), and unless it is older than the last fact
    applied to its collo (or order, or route) it moves the order's status (collis rolled up),
    its route's, and the ETA window; its seed 004 events are appended with it. A fact whose
    move is illegal is kept as refused and changes nothing else.

    Set-based, with the outcome of applying the facts one by one: the orders are locked, and
    what was seen and applied before is read, once for all the facts (``state``, when the
    caller read it in this transaction already for the facts' orders and event ids); the
    orders' moves are written together (``_Batch.moves_write``) whenever a fact must see
    them; timeline rows and events are written in bulk at the end."""
    if not facts:
        return []
    with transaction.atomic():
        return _facts_apply(carrier, facts, state)


def _facts_apply(
    carrier: Carrier, facts: list[CarrierFact], state: selectors.FactsState | None
) -> list[FactResult]:
    if not facts:
        return []
    batch = _Batch.load(carrier, facts, state)
    results = [_fact_apply(batch, fact) for fact in facts]
    batch.flush()
    # Seed 004's schedule trigger: the receiver hears of a new ETA window once it commits.
    order_etas_changed(
        etas=[
            (row.order_id, row.eta_from, row.eta_to)
            for row in batch.rows
            if row.applied and row.type == ETA_UPDATED and row.order_id
        ]
    )
    return results


@dataclass
class _Move:
    """An order's move a fact asked for, to be written with the batch's others, and what
    the fact's events are built from once it is."""

    order: Order
    steps: list[str]
    fact: CarrierFact
    tracking_event: TrackingEvent | None
    before: str
    slot: list


@dataclass
class _Batch:
    """What applying a list of facts reads once and writes once; ``timeline`` and ``seen``
    follow the facts as they are applied, so a fact sees the ones before it in the list.
    ``slots`` holds each fact's events, in the facts' order."""

    carrier: Carrier
    timeline: selectors.TimelineState
    orders: dict
    seen: dict
    subscriptions: dict  # of the orders' shippers, read with them
    rows: list = field(default_factory=list)
    slots: list = field(default_factory=list)
    moves: dict = field(default_factory=dict)  # order id -> _Move not written yet

    @classmethod
    def load(
        cls, carrier: Carrier, facts: list[CarrierFact], state: selectors.FactsState | None
    ) -> _Batch:
        order_ids = {f.order.id for f in facts if f.order is not None}
        if state is None or not order_ids <= set(state.orders):
            # Orders found by reference are locked now, beside those locked already.
            state = selectors.facts_state(
                carrier=carrier,
                order_ids=order_ids,
                external_ids={f.external_id for f in facts if f.external_id},
                with_collis=any(f.type in COLLO_FACTS for f in facts),
            )
        return cls(carrier, state.timeline, state.orders, state.seen, state.subscriptions)

    @property
    def actor(self) -> str:
        return f"carrier:{self.carrier.slug}"

    def moves_write(self) -> None:
        """Write the pending moves, then build their facts' events."""
        self.moves_events(self.moves_send())

    def moves_send(self) -> list[_Move]:
        """Write the pending moves, one status writer call per step and target (each order
        has at most one move pending)."""
        moves, self.moves = list(self.moves.values()), {}
        self.orders_move(moves)
        return moves

    def moves_events(self, moves: list[_Move]) -> None:
        for move in moves:
            move.slot += _events(self, move.tracking_event, move.before)

    def orders_move(self, moves: list[_Move]) -> None:
        for index in range(max((len(m.steps) for m in moves), default=0)):
            groups: dict[tuple, list[_Move]] = {}
            for move in moves:
                if index < len(move.steps):
                    groups.setdefault((move.steps[index], move.fact.type), []).append(move)
            for (to, kind), group in groups.items():
                order_statuses_move(
                    orders=[m.order for m in group],
                    to=to,
                    actor=self.actor,
                    reason=f"{kind} reported by {self.carrier.name}",
                    action="tracking",
                    updates_by_order=_stamps(to, group),
                )

    def flush(self) -> None:
        try:
            # On PostgreSQL the writes are on their way as they are made: the server writes
            # the moves and the timeline while the moves' events are built.
            with writes_together():
                moves = self.moves_send()
                rows_insert(self.rows)
                self.moves_events(moves)
                events = [event for slot in self.slots for event in slot]
                if events:
                    events_append(events=events, subscriptions=self.subscriptions)
        except IntegrityError:
            # The same event id got in from another request meanwhile: nothing of this is kept.
            raise Conflict(
                "Another request reported one of these events at the same time; try again.",
                code="conflict",
            ) from None


def _stamps(to: str, moves: list[_Move]) -> dict:
    # A delivery is stamped when the carrier says it happened.
    if to != S.DELIVERED:
        return {}
    return {m.order.id: {"delivered_at": m.fact.time_of_event} for m in moves}


def _fact_apply(batch: _Batch, fact: CarrierFact) -> FactResult:
    result = _fact_applied(batch, fact)
    result.order_id = str(fact.order.id) if fact.order is not None else None
    return result


def _fact_applied(batch: _Batch, fact: CarrierFact) -> FactResult:
    if fact.order is not None:
        fact.order = batch.orders[fact.order.id]
        if fact.route is None:
            fact.route = batch.timeline.carrier_route(fact.order.id, batch.carrier)
    with_route = fact.type in ROUTE_FACTS or (
        fact.route is not None and fact.type in ROUTE_FACT_TARGETS
    )
    if with_route or (fact.order is not None and fact.order.id in batch.moves):
        batch.moves_write()  # this fact reads what they write
    seen = batch.seen.get(fact.external_id) if fact.external_id else None
    if seen:
        return FactResult(FactOutcome.DUPLICATE, seen)
    last = batch.timeline.last_applied(fact)
    applies = last is None or fact.time_of_event >= last
    tracking_event = _tracking_event(batch.carrier, fact, applies)
    if fact.external_id:
        batch.seen[fact.external_id] = str(tracking_event.id)
    batch.rows.append(tracking_event)
    slot: list = []
    batch.slots.append(slot)
    before = fact.order.status if fact.order is not None else None
    steps: list[str] = []
    if tracking_event.applied:
        try:
            steps = _order_steps_for(batch, fact, tracking_event)
            if with_route:
                _route_effects(batch, fact, steps)
        except Conflict as exc:
            tracking_event.applied = False
            batch.timeline.add(tracking_event)
            return FactResult(FactOutcome.REFUSED, str(tracking_event.id), exc)
    batch.timeline.add(tracking_event)
    if steps and not with_route:
        # Written with others' when a later fact must see it, or at the end; events then.
        batch.moves[fact.order.id] = _Move(fact.order, steps, fact, tracking_event, before, slot)
        return FactResult(FactOutcome.APPLIED, str(tracking_event.id))
    slot += _events(batch, tracking_event, before)
    outcome = FactOutcome.APPLIED if tracking_event.applied else FactOutcome.RECORDED
    return FactResult(outcome, str(tracking_event.id))


def _events(batch: _Batch, tracking_event: TrackingEvent, before: str | None) -> list:
    """The fact's seed 004 events, built from the state after it, and the order's own when a
    collo fact finished the order."""
    events = seed_events_for(tracking_event=tracking_event, known=batch.timeline)
    order = tracking_event.order
    after = order.status if order is not None else None  # the writer set it
    return events + _rolled_up_events(batch, tracking_event, before, after)


def _route_effects(batch: _Batch, fact: CarrierFact, steps: list[str]) -> None:
    """A fact on a route: the order's moves and the route's, written at once and together
    (a cancelled route refuses the fact, the order's moves rolled back with it)."""
    kept = dict(fact.order.__dict__) if fact.order is not None else {}
    try:
        with transaction.atomic():
            if fact.type in ROUTE_FACTS:
                _route_completed(fact.route, fact)
                return
            batch.orders_move([_Move(fact.order, steps, fact, None, "", [])])
            route = _route_reach(fact.route.id, ROUTE_FACT_TARGETS[fact.type])
            if route.status != RouteStatus.COMPLETED and _route_done(route):
                _route_reach(route.id, RouteStatus.COMPLETED)
    except Conflict:
        if kept:
            fact.order.__dict__.update(kept)  # the writer's in-memory moves, rolled back too
        raise


def _tracking_event(carrier: Carrier, fact: CarrierFact, applied: bool) -> TrackingEvent:
    """The fact's timeline row, written with the batch's others."""
    latitude, longitude = fact.position or (None, None)
    return instance_new(
        TrackingEvent,
        carrier=carrier,
        external_id=fact.external_id,
        type=fact.type,
        order=fact.order,
        collo=fact.collo,
        route=fact.route,
        time_of_event=fact.time_of_event,
        received_at=timezone.now(),
        latitude=latitude,
        longitude=longitude,
        driver=fact.driver,
        executor=fact.executor,
        deviation=fact.deviation,
        images=fact.images,
        eta_from=fact.eta_from,
        eta_to=fact.eta_to,
        source=fact.source,
        applied=applied,
        raw=fact.raw,
    )


# A collo fact that delivers (or fails) the whole order also sends the order's own event:
# subscribers to OrderDeliveryCompleted hear of an order whose collis were scanned one by one.
ROLLED_UP_EVENTS = {
    OrderStatus.DELIVERED: EventName.ORDER_DELIVERY_COMPLETED,
    OrderStatus.DELIVERY_FAILED: EventName.ORDER_DELIVERY_FAILED,
}


def _rolled_up_events(batch: _Batch, tracking_event: TrackingEvent, before, after) -> list:
    if not tracking_event.applied or tracking_event.type not in COLLO_FACTS:
        return []
    if after == before or after not in ROLLED_UP_EVENTS:
        return []
    order_level = copy(tracking_event)  # unsaved: the order's fact, built like a reported one
    order_level.type, order_level.collo = ROLLED_UP_EVENTS[after], None
    return seed_events_for(tracking_event=order_level, known=batch.timeline)


def _order_steps_for(batch: _Batch, fact: CarrierFact, tracking_event: TrackingEvent) -> list:
    """The statuses the fact moves its order through (none for a route fact, an arrival, or
    an order further along already); an illegal move (a delivery on a returned or cancelled
    order) is a Conflict. A delivery reported before its pickup passes through picked_up;
    collo facts move the order to what its collis' states add up to."""
    if fact.order is None:
        return []
    target = ORDER_FACT_TARGETS.get(fact.type)
    if fact.type in COLLO_FACTS:
        states = batch.timeline.collo_states(fact.order.id, tracking_event, COLLO_FACT_STATES)
        target = collo_states_rolled_up(states)
    current = fact.order.status
    if not target or current == target:
        return []
    steps = _order_steps(current, target)
    if steps:
        return steps
    rank, wanted = _PROGRESS_RANK.get(current), _PROGRESS_RANK[target]
    if rank is not None and (rank > wanted or rank == wanted < _FINAL_RANK):
        return []  # further along already: a fact never moves a status backwards
    raise Conflict(
        f"Order {fact.order.creator_order_id} is {current}; {fact.type} cannot move it to "
        f"{target}.",
        code="illegal_status_move",
        errors=[
            {
                "field": "type",
                "code": "illegal_status_move",
                "message": f"{fact.type} on an order that is {current}.",
            }
        ],
    )


def _order_steps(current: str, target: str) -> list[str]:
    if order_can_move(current, target):
        return [target]
    if order_can_move(current, S.PICKED_UP) and order_can_move(S.PICKED_UP, target):
        return [S.PICKED_UP, target]
    return []


def _lock_route(route_id) -> Route:
    return Route.objects.select_for_update(of=("self",)).get(id=route_id)


def _route_reach(route_id, to: str, updates: dict | None = None) -> Route:
    """Move the route forward to ``to`` through the statuses before it; one already there or
    further is left alone, a cancelled one is a Conflict."""
    route = _lock_route(route_id)
    if route.status not in ROUTE_PROGRESS:
        raise Conflict(
            f"Route {route.slug} is {route.status}; it takes no more events.",
            code="illegal_route_status_move",
        )
    position = ROUTE_PROGRESS.index(route.status)
    for step in ROUTE_PROGRESS[position + 1 : ROUTE_PROGRESS.index(to) + 1]:
        route_status_move(route=route, to=step, updates=updates if step == to else None)
    return route


def _route_done(route: Route) -> bool:
    statuses = set(Order.objects.filter(stops__route=route).values_list("status", flat=True))
    return bool(statuses) and statuses <= ROUTE_DONE_ORDER_STATUSES


def _route_completed(route: Route, fact: CarrierFact) -> None:
    """A RouteCompleted: the route is completed with what it really took."""
    figures = fact.figures
    duration = figures.get("duration")
    actual = {
        "actual_start_time": figures.get("startTime"),
        "actual_end_time": figures.get("endTime") or fact.time_of_event,
        "actual_distance_km": figures.get("distance"),
        "actual_duration": round(duration) if duration is not None else None,
    }
    actual = {k: v for k, v in actual.items() if v is not None}
    route = _route_reach(route.id, RouteStatus.COMPLETED, updates=actual)
    if actual:  # completed earlier by its orders: the figures are still news
        Route.objects.filter(id=route.id).update(**actual)


# --- the token a platform authenticates with -------------------------------------------------


def carrier_events_token_issue(
    *, carrier: Carrier, live_mode: bool
) -> tuple[CarrierEventsToken, str]:
    """Issue a token for ``POST /api/v1/carrier/events?token=…``; the plain token is returned
    once and never stored (only its hash, like API keys)."""
    plain = selectors.EVENTS_TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = CarrierEventsToken.objects.create(
        carrier=carrier,
        live_mode=live_mode,
        prefix=plain[: selectors.EVENTS_TOKEN_PREFIX_LENGTH],
        hashed=api_key_hash(plain),
    )
    return token, plain


def carrier_events_token_revoke(*, token: CarrierEventsToken) -> CarrierEventsToken:
    CarrierEventsToken.objects.filter(id=token.id, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    token.refresh_from_db()
    return token
