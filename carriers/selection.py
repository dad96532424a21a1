"""Carrier selection: every service option for a shipment, priced, timed and ranked.

Pure and in memory: ``select`` reads a ``Catalogue`` loaded once (services, areas, rate cards,
on-time figures, capacity loads) and a ``Shipment``, and touches no database, so a batch of
orders costs no queries beyond the one load. Booking capacity is the caller's business
(``carriers.services``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

CENT = Decimal("0.01")
ZERO = Decimal(0)
INFINITY = Decimal("Infinity")

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

POLICIES = ("cheapest", "fastest", "balanced")
# Balanced: weights of relative cost, relative delivery time and unreliability (1 − on-time).
BALANCED_WEIGHTS = (0.5, 0.3, 0.2)
# A carrier without history counts as this on-time rate, as if over this many deliveries.
ON_TIME_PRIOR_RATE = 0.9
ON_TIME_PRIOR_WEIGHT = 10
# How far ahead a pickup day is looked for (to meet a delivery frame that starts later).
MAX_DAYS_AHEAD = 21
EARTH_RADIUS_KM = 6371.0088


@dataclass(frozen=True, slots=True)
class Place:
    country_code: str = ""
    postal_code: str = ""
    latitude: float | None = None
    longitude: float | None = None


@dataclass(frozen=True, slots=True)
class Parcel:
    weight_kg: Decimal
    volume_m3: Decimal | None = None
    length_cm: Decimal | None = None
    width_cm: Decimal | None = None
    height_cm: Decimal | None = None


@dataclass(frozen=True, slots=True)
class Shipment:
    """What selection needs to know about an order."""

    pickup: Place
    delivery: Place
    parcels: tuple[Parcel, ...]
    tags: frozenset[str] = frozenset()
    pickup_from: datetime | None = None
    pickup_to: datetime | None = None
    delivery_from: datetime | None = None
    delivery_to: datetime | None = None

    @property
    def weight_kg(self) -> Decimal:
        return sum((p.weight_kg for p in self.parcels), ZERO)

    @property
    def volume_m3(self) -> Decimal:
        return sum((p.volume_m3 or ZERO for p in self.parcels), ZERO)

    @property
    def distance_km(self) -> float | None:
        a, b = self.pickup, self.delivery
        if None in (a.latitude, a.longitude, b.latitude, b.longitude):
            return None
        return great_circle_km(a.latitude, a.longitude, b.latitude, b.longitude)


def requirement_tags(
    tags: frozenset[str] | set[str], known: frozenset[str], namespaces: tuple[str, ...]
) -> frozenset[str]:
    """The tags that are handling requirements: listed by some service or vehicle group
    (``known``), or in a handling namespace (the part before the colon)."""
    return frozenset(t for t in tags if t in known or t.split(":", 1)[0] in namespaces)


def great_circle_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


@dataclass(frozen=True, slots=True)
class Area:
    kind: str  # country, range, prefix, radius
    country_code: str = ""
    postcode_from: str = ""
    postcode_to: str = ""
    prefixes: tuple[str, ...] = ()
    latitude: float | None = None
    longitude: float | None = None
    radius_km: float | None = None

    def contains(self, place: Place) -> bool:
        if self.kind == "radius":
            if place.latitude is None or place.longitude is None:
                return False
            distance = great_circle_km(
                self.latitude, self.longitude, place.latitude, place.longitude
            )
            return distance <= self.radius_km
        if place.country_code != self.country_code:
            return False
        if self.kind == "country":
            return True
        postcode = place.postal_code.replace(" ", "")
        if not postcode:
            return False
        if self.kind == "prefix":
            return postcode.startswith(self.prefixes)
        low, high = self.postcode_from, self.postcode_to
        if postcode.isdigit() and low.isdigit() and high.isdigit():
            return int(low) <= int(postcode) <= int(high)
        return low <= postcode <= high


@dataclass(frozen=True, slots=True)
class Rate:
    valid_from: date
    valid_to: date | None
    currency: str
    weight_breaks: tuple[tuple[Decimal, Decimal], ...]  # (up to kg, price), ascending
    per_kg: Decimal
    per_collo: Decimal
    distance_bands: tuple[tuple[Decimal, Decimal], ...]  # (up to km, price), ascending
    tag_surcharges: dict[str, Decimal]
    minimum_charge: Decimal
    fuel_surcharge_pct: Decimal
    volumetric_kg_per_m3: Decimal

    def valid_on(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)

    def price(self, shipment: Shipment) -> tuple[Decimal, dict[str, str]] | str:
        """(total, breakdown), or the reason the card cannot rate this shipment."""
        return self._price(_Figures(shipment))

    def _price(self, figures: _Figures) -> tuple[Decimal, dict[str, str]] | str:
        shipment = figures.shipment
        chargeable = max(figures.weight, figures.volume * self.volumetric_kg_per_m3)
        if self.weight_breaks:
            for bound, price in self.weight_breaks:
                if chargeable <= bound:
                    weight_charge = price
                    break
            else:
                bound, price = self.weight_breaks[-1]
                weight_charge = price + (chargeable - bound) * self.per_kg
        else:
            weight_charge = chargeable * self.per_kg
        distance_charge = ZERO
        if self.distance_bands:
            km = figures.distance_km()
            if km is None:
                return "the distance is unknown: the order has no positions"
            for bound, price in self.distance_bands:
                if km <= bound:
                    distance_charge = price
                    break
            else:
                return f"{km:.0f} km is beyond the rate card's last distance band"
        collo_charge = self.per_collo * figures.collis
        tag_charge = sum((self.tag_surcharges.get(t, ZERO) for t in shipment.tags), ZERO)
        subtotal = weight_charge + collo_charge + distance_charge + tag_charge
        minimum_top_up = max(ZERO, self.minimum_charge - subtotal)
        base = subtotal + minimum_top_up
        fuel = base * self.fuel_surcharge_pct / 100
        total = (base + fuel).quantize(CENT, ROUND_HALF_UP)
        breakdown = {
            "chargeableWeightKg": _decimal_text(chargeable),
            "weight": _money(weight_charge),
            "collis": _money(collo_charge),
            "distance": _money(distance_charge),
            "tags": _money(tag_charge),
            "minimumTopUp": _money(minimum_top_up),
            "fuel": _money(fuel),
            "total": _money(total),
        }
        return total, breakdown


@dataclass(frozen=True, slots=True)
class Offer:
    """One service of one carrier as selection sees it."""

    service_id: str
    code: str
    name: str
    carrier_id: str
    carrier_name: str
    carrier_slug: str
    time_zone: ZoneInfo
    transit_days: int
    cutoff: time
    operating_days: frozenset[int]
    pickup_window: tuple[time, time]
    delivery_window: tuple[time, time] | None
    handled_tags: frozenset[str]
    max_collo_weight_kg: Decimal | None
    max_collo_dimensions_cm: tuple[Decimal | None, Decimal | None, Decimal | None]
    max_total_weight_kg: Decimal | None
    max_total_volume_m3: Decimal | None
    max_collis: int | None
    capacity_orders: int | None
    capacity_kg: Decimal | None
    areas: tuple[Area, ...]
    rates: tuple[Rate, ...]  # newest validity first
    _plan: _OfferPlan = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_plan", _OfferPlan(self))

    @property
    def rank_key(self) -> tuple[str, str]:
        return (self.carrier_slug, self.code)

    def reference(self) -> dict[str, dict[str, str]]:
        return {
            "carrier": {
                "id": self.carrier_id,
                "name": self.carrier_name,
                "slug": self.carrier_slug,
            },
            "service": {"id": self.service_id, "code": self.code, "name": self.name},
        }


@dataclass
class Catalogue:
    offers: list[Offer]
    # Tags that are capabilities: handled by some service or in a handling namespace.
    requirement_tags: frozenset[str] = frozenset()
    requirement_namespaces: tuple[str, ...] = ()
    on_time: dict[str, tuple[int, int]] = field(default_factory=dict)  # carrier: (on time, all)
    loads: dict[tuple[str, date], tuple[int, Decimal]] = field(default_factory=dict)

    def requirements(self, tags: frozenset[str]) -> frozenset[str]:
        return requirement_tags(tags, self.requirement_tags, self.requirement_namespaces)

    def on_time_rate(self, carrier_id: str) -> float:
        on_time, total = self.on_time.get(carrier_id, (0, 0))
        return (on_time + ON_TIME_PRIOR_RATE * ON_TIME_PRIOR_WEIGHT) / (
            total + ON_TIME_PRIOR_WEIGHT
        )


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
            "price": {"amount": _money(self.price), "currency": self.currency},
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
            "cheapest": f"the lowest price ({_money(chosen.price)} {chosen.currency})",
            "fastest": f"the earliest delivery ({_window(chosen.delivery_window)['to']})",
            "balanced": f"the best balance of price, speed and on-time rate "
            f"(score {chosen.score:.3f})",
        }[self.policy]
        return (
            f"{chosen.offer.carrier_name} {chosen.offer.name}: {what} of "
            f"{others + 1} option{'s' if others else ''}; {len(self.rejections)} ruled out."
        )


def _money(value: Decimal) -> str:
    return str(Decimal(value).quantize(CENT, ROUND_HALF_UP))


def _decimal_text(value: Decimal) -> str:
    return format(Decimal(value).quantize(Decimal("0.001")).normalize(), "f")


def _window(window: tuple[datetime, datetime]) -> dict[str, str]:
    return {"from": window[0].isoformat(), "to": window[1].isoformat()}


# --- worked out once -----------------------------------------------------------------------

_UNSET = object()
ONE_DAY = timedelta(days=1)
DAYS_AHEAD = timedelta(days=MAX_DAYS_AHEAD)
MIDNIGHT = time(0)
NO_FRAMES = (None, None, None, None)


class _OfferPlan:
    """What evaluating an offer needs that depends on the offer alone.

    The keys let offers with the same areas, or the same calendar and windows, share their
    answers within one selection.
    """

    __slots__ = ("area_key", "caps", "next_day", "timing_key", "transit")

    def __init__(self, offer: Offer) -> None:
        limits = offer.max_collo_dimensions_cm
        self.caps = (
            # A missing limit is no limit: the collo may be turned to put any side there.
            sorted((INFINITY if c is None else c for c in limits), reverse=True)
            if any(limit is not None for limit in limits)
            else None
        )
        # Operating days repeat weekly: tabulate by weekday instead of walking the calendar.
        self.next_day = self.transit = None
        if any(weekday in offer.operating_days for weekday in range(1, 8)):
            monday = date(2024, 1, 1)
            days = [monday + timedelta(days=n) for n in range(7)]
            self.next_day = tuple(_next_operating_day(offer, d) - d for d in days)
            self.transit = tuple(
                _add_operating_days(offer, d, offer.transit_days) - d for d in days
            )
        self.area_key = _hashable(
            tuple(
                (a.kind, a.country_code, a.postcode_from, a.postcode_to, a.prefixes)
                + (a.latitude, a.longitude, a.radius_km)
                for a in offer.areas
            )
        )
        # The cut-off is left out: timing depends only on whether it has passed. fold is in:
        # it changes the instant datetime.combine gives, yet not time equality.
        self.timing_key = _hashable(
            (offer.time_zone, offer.operating_days, offer.transit_days)
            + tuple((t, t.fold) for t in offer.pickup_window)
            + tuple((t, t.fold) for t in offer.delivery_window or ())
            + (offer.delivery_window is None,)
        )


def _hashable(key: tuple) -> tuple | None:
    try:
        hash(key)
    except TypeError:
        return None
    return key


class _Figures:
    """A shipment's figures for one selection, worked out once for all its offers."""

    __slots__ = (
        "areas",
        "collis",
        "frames",
        "requirements",
        "shipment",
        "timings",
        "volume",
        "weight",
        "_distance",
        "_heaviest",
        "_local_now",
        "_sizes",
    )

    def __init__(self, shipment: Shipment, requirements: frozenset[str] = frozenset()) -> None:
        self.shipment = shipment
        self.weight = shipment.weight_kg
        self.volume = shipment.volume_m3
        self.collis = len(shipment.parcels)
        self.requirements = requirements
        self.frames = (
            shipment.pickup_from,
            shipment.pickup_to,
            shipment.delivery_from,
            shipment.delivery_to,
        )
        self.areas: dict[tuple, tuple[bool, bool]] = {}
        self.timings: dict[tuple, tuple | str] = {}
        self._local_now: dict[ZoneInfo, datetime] = {}
        self._distance = self._heaviest = self._sizes = _UNSET

    def distance_km(self) -> float | None:
        if self._distance is _UNSET:
            self._distance = self.shipment.distance_km
        return self._distance

    def heaviest(self) -> Decimal:
        if self._heaviest is _UNSET:
            self._heaviest = max((p.weight_kg for p in self.shipment.parcels), default=ZERO)
        return self._heaviest

    def sizes(self) -> tuple[Decimal, ...]:
        """Over the measured collis, the largest first, second and third dimension.

        A collo is over a service's sorted limits if one of its sorted dimensions is over the
        limit in the same place, so comparing this envelope gives the same answer.
        """
        if self._sizes is _UNSET:
            envelope: list[Decimal] = []
            for parcel in self.shipment.parcels:
                dims = [
                    d
                    for d in (parcel.length_cm, parcel.width_cm, parcel.height_cm)
                    if d is not None
                ]
                dims.sort(reverse=True)
                for i, d in enumerate(dims):
                    if i == len(envelope):
                        envelope.append(d)
                    elif d > envelope[i]:
                        envelope[i] = d
            self._sizes = tuple(envelope)
        return self._sizes

    def local_now(self, now: datetime, zone: ZoneInfo) -> datetime:
        local = self._local_now.get(zone)
        if local is None:
            local = self._local_now[zone] = now.astimezone(zone)
        return local


# --- hard constraints ---------------------------------------------------------------------


def _area_reasons(offer: Offer, figures: _Figures) -> list[tuple[str, str]]:
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


def _limit_reasons(offer: Offer, figures: _Figures) -> list[tuple[str, str]]:
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


def _next_operating_day(offer: Offer, day: date) -> date:
    while day.isoweekday() not in offer.operating_days:
        day += ONE_DAY
    return day


def _add_operating_days(offer: Offer, day: date, count: int) -> date:
    for _ in range(count):
        day = _next_operating_day(offer, day + ONE_DAY)
    return day


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
            day = _next_operating_day(offer, day)
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
            delivery_day = _add_operating_days(offer, day, offer.transit_days)
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
    offer: Offer, figures: _Figures, now: datetime, *, honour_cutoff: bool
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


def _time_reason(offer: Offer, figures: _Figures, now: datetime, missed: str) -> tuple[str, str]:
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
    on the option instead of ruling it out; rate card and capacity still apply.
    """
    figures = _Figures(shipment, catalogue.requirements(shipment.tags))
    return _evaluate(offer, figures, catalogue, now, waive=waive)


def _evaluate(
    offer: Offer, figures: _Figures, catalogue: Catalogue, now: datetime, *, waive: bool
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
        reasons.append(_time_reason(offer, figures, now, timing))
        if waive:
            timing = _timing(offer, NO_FRAMES, now, honour_cutoff=True)
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
    figures = _Figures(shipment, catalogue.requirements(shipment.tags))
    for offer in catalogue.offers:
        if only is not None and offer.service_id not in only:
            continue
        result = _evaluate(offer, figures, catalogue, now, waive=False)
        (options if isinstance(result, Option) else rejections).append(result)
    rejections.sort(key=lambda r: r.offer.rank_key)
    return Selection(policy, rank(options, policy), rejections)
