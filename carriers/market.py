"""The carrier market as selection sees it: places, parcels and shipments; service areas,
rate cards and offers; the catalogue; and what is worked out once per service (its calendar,
its size limits) or once per shipment (weight, volume, sizes, local times).

Pure and in memory, like ``carriers.selection``, which reads it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from config.money import money_round, money_text

ZERO = Decimal(0)
INFINITY = Decimal("Infinity")

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
        return self._price(ShipmentFigures(shipment))

    def _price(self, figures: ShipmentFigures) -> tuple[Decimal, dict[str, str]] | str:
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
        total = money_round(base + fuel, self.currency)
        breakdown = {
            "chargeableWeightKg": _decimal_text(chargeable),
            "weight": money_text(weight_charge, self.currency),
            "collis": money_text(collo_charge, self.currency),
            "distance": money_text(distance_charge, self.currency),
            "tags": money_text(tag_charge, self.currency),
            "minimumTopUp": money_text(minimum_top_up, self.currency),
            "fuel": money_text(fuel, self.currency),
            "total": money_text(total, self.currency),
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


def _decimal_text(value: Decimal) -> str:
    return format(Decimal(value).quantize(Decimal("0.001")).normalize(), "f")


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
            self.next_day = tuple(next_operating_day(offer, d) - d for d in days)
            self.transit = tuple(add_operating_days(offer, d, offer.transit_days) - d for d in days)
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


class ShipmentFigures:
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


# --- calendar ---------------------------------------------------------------------------------


def next_operating_day(offer: Offer, day: date) -> date:
    while day.isoweekday() not in offer.operating_days:
        day += ONE_DAY
    return day


def add_operating_days(offer: Offer, day: date, count: int) -> date:
    for _ in range(count):
        day = next_operating_day(offer, day + ONE_DAY)
    return day
