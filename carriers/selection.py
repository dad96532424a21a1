"""Carrier selection: every service option for a shipment, priced, timed and ranked.

Pure and in memory: ``select`` reads a ``Catalogue`` loaded once (services, areas, rate cards,
on-time figures, capacity loads) and a ``Shipment``, and touches no database, so a batch of
orders costs no queries beyond the one load. Booking capacity is the caller's business
(``carriers.services``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from carriers.market import (
    DAYS_AHEAD,
    MIDNIGHT,
    ONE_DAY,
    ZERO,
    Catalogue,
    Offer,
    Shipment,
    ShipmentFigures,
    add_operating_days,
    next_operating_day,
)
from config.money import money_text

# Rejection codes, in the order the checks run; also the reasons an unplanned order carries.
OUTSIDE_AREA = "outside-area"
TAG_NOT_HANDLED = "tag-not-handled"
OVER_WEIGHT = "over-weight"
OVER_SIZE = "over-size"
TOO_MANY_COLLIS = "too-many-collis"
PAST_CUT_OFF = "past-cut-off"
TOO_SLOW = "too-slow"
NO_RATE_CARD = "no-rate-card"
CAPACITY_FULL = "capacity-full"
NO_SERVICES = "no-active-services"
REJECTION_CODES = (
    OUTSIDE_AREA,
    TAG_NOT_HANDLED,
    OVER_WEIGHT,
    OVER_SIZE,
    TOO_MANY_COLLIS,
    PAST_CUT_OFF,
    TOO_SLOW,
    NO_RATE_CARD,
    CAPACITY_FULL,
)
# The ``reasons`` of OrderPlanningFailed, a contract: its JSON Schema publishes them as an enum.
PLANNING_FAILURE_REASONS = (*REJECTION_CODES, NO_SERVICES)
PlanningFailureReason = Literal[PLANNING_FAILURE_REASONS]  # type: ignore[valid-type]

POLICIES = ("cheapest", "fastest", "balanced")
# Balanced: weights of relative cost, relative delivery time and unreliability (1 − on-time).
BALANCED_WEIGHTS = (0.5, 0.3, 0.2)


@dataclass(slots=True)
class Option:
    offer: Offer
    price: Decimal
    currency: str
    breakdown: dict[str, str]
    pickup_day: date
    pickup_window: tuple[datetime, datetime]
    delivery_window: tuple[datetime, datetime]
    on_time_rate: float
    score: float = 0.0
    waived: list[tuple[str, str]] = field(default_factory=list)

    def document(self) -> dict:
        return {
            **self.offer.reference(),
            "price": {"amount": money_text(self.price, self.currency), "currency": self.currency},
            "priceBreakdown": self.breakdown,
            "pickupDay": self.pickup_day.isoformat(),
            "promisedPickup": _window(self.pickup_window),
            "promisedDelivery": _window(self.delivery_window),
            "onTimeRate": round(self.on_time_rate, 4),
            "score": round(self.score, 6),
            "waived": [{"code": c, "message": m} for c, m in self.waived],
        }


@dataclass(slots=True)
class Rejection:
    offer: Offer
    reasons: list[tuple[str, str]]  # (code, message)

    @property
    def codes(self) -> list[str]:
        return [code for code, _ in self.reasons]

    def document(self) -> dict:
        return {
            **self.offer.reference(),
            "reasons": [{"code": c, "message": m} for c, m in self.reasons],
        }


@dataclass
class Selection:
    policy: str
    options: list[Option]  # ranked, best first
    rejections: list[Rejection]

    @property
    def chosen(self) -> Option | None:
        return self.options[0] if self.options else None

    def put_first(self, option: Option) -> None:
        """Make ``option`` the choice (a dispatcher's override): its service is then an
        option, first, and no longer also among the ruled out."""
        service_id = option.offer.service_id
        self.options = [option] + [o for o in self.options if o.offer.service_id != service_id]
        self.rejections = [r for r in self.rejections if r.offer.service_id != service_id]

    def reject(self, option: Option, code: str, message: str) -> None:
        """Move a ranked option to the rejections (capacity taken meanwhile)."""
        self.options.remove(option)
        self.rejections.append(Rejection(option.offer, [(code, message)]))

    @property
    def unplanned_reasons(self) -> list[str]:
        if not self.rejections:
            return [NO_SERVICES]
        found = {code for r in self.rejections for code in r.codes}
        return [code for code in REJECTION_CODES if code in found]

    def explanation(self) -> str:
        chosen = self.chosen
        if chosen is None:
            return "No service can take this order: " + ", ".join(self.unplanned_reasons) + "."
        others = len(self.options) - 1
        what = {
            "cheapest": "the lowest price "
            f"({money_text(chosen.price, chosen.currency)} {chosen.currency})",
            "fastest": f"the earliest delivery ({_window(chosen.delivery_window)['to']})",
            "balanced": f"the best balance of price, speed and on-time rate "
            f"(score {chosen.score:.3f})",
        }[self.policy]
        return (
            f"{chosen.offer.carrier_name} {chosen.offer.name}: {what} of "
            f"{others + 1} option{'s' if others else ''}; {len(self.rejections)} ruled out."
        )


def _window(window: tuple[datetime, datetime]) -> dict[str, str]:
    return {"from": window[0].isoformat(), "to": window[1].isoformat()}


# --- hard constraints ---------------------------------------------------------------------


def _area_reasons(offer: Offer, figures: ShipmentFigures) -> list[tuple[str, str]]:
    shipment = figures.shipment
    places = (shipment.pickup, shipment.delivery)
    key = offer._plan.area_key
    inside = figures.areas.get(key) if key is not None else None
    if inside is None:
        inside = tuple(any(area.contains(place) for area in offer.areas) for place in places)
        if key is not None:
            figures.areas[key] = inside
    reasons = []
    for label, place, ok in zip(("pickup", "delivery"), places, inside, strict=True):
        if not ok:
            where = place.postal_code or "no postcode"
            reasons.append(
                (
                    OUTSIDE_AREA,
                    f"The {label} ({place.country_code or '??'} {where}) is outside "
                    "the service's area.",
                )
            )
    return reasons


def _limit_reasons(offer: Offer, figures: ShipmentFigures) -> list[tuple[str, str]]:
    reasons = []
    if offer.max_collo_weight_kg is not None:
        heaviest = figures.heaviest()
        if heaviest > offer.max_collo_weight_kg:
            reasons.append(
                (
                    OVER_WEIGHT,
                    f"A collo weighs {heaviest} kg; the limit per collo is "
                    f"{offer.max_collo_weight_kg} kg.",
                )
            )
    if offer.max_total_weight_kg is not None and figures.weight > offer.max_total_weight_kg:
        reasons.append(
            (
                OVER_WEIGHT,
                f"The order weighs {figures.weight} kg; the limit is "
                f"{offer.max_total_weight_kg} kg.",
            )
        )
    caps = offer._plan.caps
    if caps is not None and any(d > c for d, c in zip(figures.sizes(), caps, strict=False)):
        reasons.append((OVER_SIZE, "A collo is larger than the service's dimensions."))
    if offer.max_total_volume_m3 is not None and figures.volume > offer.max_total_volume_m3:
        reasons.append(
            (
                OVER_SIZE,
                f"The order's volume {figures.volume} m³ is over the limit of "
                f"{offer.max_total_volume_m3} m³.",
            )
        )
    if offer.max_collis is not None and figures.collis > offer.max_collis:
        reasons.append(
            (
                TOO_MANY_COLLIS,
                f"{figures.collis} collis; the service takes at most {offer.max_collis}.",
            )
        )
    return reasons


# --- time ---------------------------------------------------------------------------------


def _timing(
    offer: Offer, frames: tuple, now: datetime, *, honour_cutoff: bool
) -> tuple[date, tuple[datetime, datetime], tuple[datetime, datetime]] | str:
    """(pickup day, promised pickup, promised delivery) or why the frames cannot be met.

    ``frames`` is the order's (pickup from, pickup to, delivery from, delivery to).
    """
    pickup_from, pickup_to, delivery_from, delivery_to = frames
    plan = offer._plan
    zone = offer.time_zone
    combine = datetime.combine
    local_now = now.astimezone(zone)
    day = local_now.date()
    if honour_cutoff and local_now.time() > offer.cutoff:
        day += ONE_DAY
    if pickup_from is not None:
        day = max(day, pickup_from.astimezone(zone).date())
    last_day = day + DAYS_AHEAD
    start, end = offer.pickup_window[0], offer.pickup_window[1]
    window = offer.delivery_window
    while day <= last_day:
        if plan.next_day is None:
            day = next_operating_day(offer, day)
        else:
            day += plan.next_day[day.weekday()]
        pickup = (combine(day, start, tzinfo=zone), combine(day, end, tzinfo=zone))
        if honour_cutoff and pickup[0] < local_now:
            if pickup[1] <= local_now:
                day += ONE_DAY
                continue
            pickup = (local_now, pickup[1])
        if pickup_to is not None and pickup[0] > pickup_to:
            return "pickup"
        if plan.transit is None:
            delivery_day = add_operating_days(offer, day, offer.transit_days)
        else:
            delivery_day = day + plan.transit[day.weekday()]
        if window is not None:
            delivery = (
                combine(delivery_day, window[0], tzinfo=zone),
                combine(delivery_day, window[1], tzinfo=zone),
            )
        else:
            delivery = (
                combine(delivery_day, MIDNIGHT, tzinfo=zone),
                combine(delivery_day + ONE_DAY, MIDNIGHT, tzinfo=zone),
            )
        if delivery_to is not None and delivery[0] > delivery_to:
            return "delivery"
        if delivery_from is None or delivery[1] > delivery_from:
            return day, pickup, delivery
        day += ONE_DAY
    return "delivery"


def _timing_shared(
    offer: Offer, figures: ShipmentFigures, now: datetime, *, honour_cutoff: bool
) -> tuple[date, tuple[datetime, datetime], tuple[datetime, datetime]] | str:
    key = offer._plan.timing_key
    if key is None:
        return _timing(offer, figures.frames, now, honour_cutoff=honour_cutoff)
    late = honour_cutoff and figures.local_now(now, offer.time_zone).time() > offer.cutoff
    key = (key, honour_cutoff, late)
    timing = figures.timings.get(key)
    if timing is None:
        timing = _timing(offer, figures.frames, now, honour_cutoff=honour_cutoff)
        figures.timings[key] = timing
    return timing


def _timing_waived(
    offer: Offer, frames: tuple, now: datetime, code: str
) -> tuple[date, tuple[datetime, datetime], tuple[datetime, datetime]] | str:
    """The timing of a dispatcher's override of a service that cannot meet the order's time
    frames: the waiver relaxes only the rule that ruled the service out, and the days still
    come from the order's frames.

    Past the cut-off (``code``), the pickup is today after all, within the frames, if the
    service's window is still open. Otherwise (too slow, or faster than the frames allow) the
    frames' starts hold, the pickup never before its frame and the delivery never before its
    frame, and their ends give: the first pickup day from the frame's on whose delivery
    reaches the delivery frame.
    """
    pickup_from, pickup_to, delivery_from, _ = frames
    if code == PAST_CUT_OFF:
        timing = _timing(offer, frames, now, honour_cutoff=False)
        if not isinstance(timing, str):
            day, pickup, delivery = timing
            start = max(pickup[0], now.astimezone(offer.time_zone))
            if start < pickup[1] and (pickup_to is None or start <= pickup_to):
                return day, (start, pickup[1]), delivery
    return _timing(offer, (pickup_from, None, delivery_from, None), now, honour_cutoff=True)


def _time_reason(
    offer: Offer, figures: ShipmentFigures, now: datetime, missed: str
) -> tuple[str, str]:
    without_cutoff = _timing_shared(offer, figures, now, honour_cutoff=False)
    past_cutoff = now.astimezone(offer.time_zone).time() > offer.cutoff
    if past_cutoff and not isinstance(without_cutoff, str):
        return (
            PAST_CUT_OFF,
            f"Past the cut-off of {offer.cutoff:%H:%M} ({offer.time_zone.key}); the next pickup "
            f"misses the order's {missed} time frame.",
        )
    return (TOO_SLOW, f"The service cannot meet the order's {missed} time frame.")


# --- selection ----------------------------------------------------------------------------


def evaluate(
    offer: Offer, shipment: Shipment, catalogue: Catalogue, now: datetime, *, waive: bool = False
) -> Option | Rejection:
    """One service against one shipment: a priced, timed option or every reason it is not.

    With ``waive`` (a dispatcher's override) area, tag, limit and time-frame rules are noted
    on the option instead of ruling it out, each relaxing only itself: the pickup and delivery
    days still come from the order's time frames (``_timing_waived``). Rate card and capacity
    still apply.
    """
    figures = ShipmentFigures(shipment, catalogue.requirements(shipment.tags))
    return _evaluate(offer, figures, catalogue, now, waive=waive)


def _evaluate(
    offer: Offer, figures: ShipmentFigures, catalogue: Catalogue, now: datetime, *, waive: bool
) -> Option | Rejection:
    reasons = _area_reasons(offer, figures)
    missing = figures.requirements - offer.handled_tags
    if missing:
        reasons.append(
            (TAG_NOT_HANDLED, f"The service does not handle {', '.join(sorted(missing))}.")
        )
    reasons += _limit_reasons(offer, figures)
    timing = _timing_shared(offer, figures, now, honour_cutoff=True)
    if isinstance(timing, str):
        time_reason = _time_reason(offer, figures, now, timing)
        reasons.append(time_reason)
        if waive:
            timing = _timing_waived(offer, figures.frames, now, time_reason[0])
        if isinstance(timing, str):
            return Rejection(offer, reasons)
    if reasons and not waive:
        return Rejection(offer, reasons)
    day, pickup, delivery = timing
    rate = next((r for r in offer.rates if r.valid_on(day)), None)
    if rate is None:
        return Rejection(offer, [(NO_RATE_CARD, f"No rate card is valid on {day}.")])
    priced = rate._price(figures)
    if isinstance(priced, str):
        return Rejection(offer, [(NO_RATE_CARD, f"The rate card cannot price it: {priced}.")])
    load_orders, load_kg = catalogue.loads.get((offer.service_id, day), (0, ZERO))
    if offer.capacity_orders is not None and load_orders + 1 > offer.capacity_orders:
        return Rejection(
            offer, [(CAPACITY_FULL, f"{offer.capacity_orders} orders booked for {day} already.")]
        )
    if offer.capacity_kg is not None and load_kg + figures.weight > offer.capacity_kg:
        return Rejection(
            offer, [(CAPACITY_FULL, f"{load_kg} of {offer.capacity_kg} kg booked for {day}.")]
        )
    price, breakdown = priced
    return Option(
        offer,
        price,
        rate.currency,
        breakdown,
        day,
        pickup,
        delivery,
        catalogue.on_time_rate(offer.carrier_id),
        waived=reasons,
    )


def rank(options: list[Option], policy: str) -> list[Option]:
    """Best first by ``policy``; ties go to price, then delivery, then carrier slug and code."""
    if policy == "fastest":
        return sorted(
            options,
            key=lambda o: (o.delivery_window[1], o.delivery_window[0], o.price, o.offer.rank_key),
        )
    if policy == "balanced" and options:
        low, high = min(o.price for o in options), max(o.price for o in options)
        earliest = min(o.delivery_window[1] for o in options)
        latest = max(o.delivery_window[1] for o in options)
        price_span = float(high - low) or 1.0
        time_span = (latest - earliest).total_seconds() or 1.0
        w_cost, w_time, w_reliability = BALANCED_WEIGHTS
        for o in options:
            o.score = (
                w_cost * float(o.price - low) / price_span
                + w_time * (o.delivery_window[1] - earliest).total_seconds() / time_span
                + w_reliability * (1 - o.on_time_rate)
            )
        return sorted(
            options,
            key=lambda o: (round(o.score, 9), o.price, o.delivery_window[1], o.offer.rank_key),
        )
    return sorted(options, key=lambda o: (o.price, o.delivery_window[1], o.offer.rank_key))


def select(
    shipment: Shipment,
    catalogue: Catalogue,
    *,
    policy: str = "cheapest",
    now: datetime,
    only: set[str] | None = None,
) -> Selection:
    """Every option and every rejection for ``shipment``, ranked by ``policy``.

    ``only`` limits the services considered (by id), as a dispatcher's override does.
    """
    if policy not in POLICIES:
        raise ValueError(f"Unknown policy {policy!r}; one of {', '.join(POLICIES)}.")
    options: list[Option] = []
    rejections: list[Rejection] = []
    figures = ShipmentFigures(shipment, catalogue.requirements(shipment.tags))
    for offer in catalogue.offers:
        if only is not None and offer.service_id not in only:
            continue
        result = _evaluate(offer, figures, catalogue, now, waive=False)
        (options if isinstance(result, Option) else rejections).append(result)
    rejections.sort(key=lambda r: r.offer.rank_key)
    return Selection(policy, rank(options, policy), rejections)
