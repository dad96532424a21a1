"""Carrier selection as properties: pure objects, no database.

The checker here is written from the rules as a dispatcher would state them, not from the
module's helpers: if the module and the checker disagree, one of them has the rule wrong.
"""

from __future__ import annotations

import dataclasses
import math
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from carriers.market import (
    MAX_DAYS_AHEAD,
    ON_TIME_PRIOR_RATE,
    Area,
    Catalogue,
    Offer,
    Parcel,
    Place,
    Rate,
    Shipment,
)
from carriers.selection import (
    CAPACITY_FULL,
    NO_RATE_CARD,
    NO_SERVICES,
    OUTSIDE_AREA,
    OVER_SIZE,
    OVER_WEIGHT,
    PAST_CUT_OFF,
    TAG_NOT_HANDLED,
    TOO_MANY_COLLIS,
    TOO_SLOW,
    select,
)

CPH = ZoneInfo("Europe/Copenhagen")
UTC = ZoneInfo("UTC")
ZONES = (CPH, ZoneInfo("Europe/London"), ZoneInfo("Europe/Helsinki"))
CENT = Decimal("0.01")
INFINITY = Decimal("Infinity")
# Tuesday 6 May 2025, 10:00 in Copenhagen: a working day well away from daylight-saving changes.
TUESDAY_MORNING = datetime(2025, 5, 6, 10, 0, tzinfo=CPH)
TUESDAY = TUESDAY_MORNING.date()
WEEKDAYS = frozenset({1, 2, 3, 4, 5})
STATIC_CODES = {OUTSIDE_AREA, TAG_NOT_HANDLED, OVER_WEIGHT, OVER_SIZE, TOO_MANY_COLLIS}
TIME_CODES = {PAST_CUT_OFF, TOO_SLOW}

# Copenhagen (city), Roskilde, Odense, Malmö: real places, real distances.
CPH_CITY = Place("DK", "1050", 55.6761, 12.5683)
ROSKILDE = Place("DK", "4000", 55.6415, 12.0803)
ODENSE = Place("DK", "5000", 55.4038, 10.4024)
MALMO = Place("SE", "21119", 55.6050, 13.0038)


# --- an independent reading of the rules ----------------------------------------------------


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    d_phi, d_lambda = phi2 - phi1, math.radians(lon2 - lon1)
    a = math.sin(d_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
    return 2 * 6371.0088 * math.atan2(math.sqrt(a), math.sqrt(1 - a))


def place_in_area(place: Place, area: Area) -> bool:
    if area.kind == "radius":
        if place.latitude is None or place.longitude is None:
            return False
        distance = haversine_km(area.latitude, area.longitude, place.latitude, place.longitude)
        return distance <= area.radius_km
    if place.country_code != area.country_code:
        return False
    if area.kind == "country":
        return True
    postcode = place.postal_code.replace(" ", "")
    if not postcode:
        return False
    if area.kind == "prefix":
        return any(postcode[: len(prefix)] == prefix for prefix in area.prefixes)
    assert area.kind == "range"
    return int(area.postcode_from) <= int(postcode) <= int(area.postcode_to)


def requirement_tags(shipment: Shipment, catalogue: Catalogue) -> set[str]:
    listed = {tag for offer in catalogue.offers for tag in offer.handled_tags}
    return {
        tag
        for tag in shipment.tags
        if tag in listed or tag.partition(":")[0] in catalogue.requirement_namespaces
    }


def parcel_fits(parcel: Parcel, limits) -> bool:
    """Turned any way: the longest side against the largest limit, and so on; no limit is ∞."""
    sides = sorted(d or Decimal(0) for d in (parcel.length_cm, parcel.width_cm, parcel.height_cm))
    caps = sorted(INFINITY if c is None else c for c in limits)
    return all(side <= cap for side, cap in zip(sides, caps, strict=True))


def total_weight(shipment: Shipment) -> Decimal:
    total = Decimal(0)
    for parcel in shipment.parcels:
        total += parcel.weight_kg
    return total


def total_volume(shipment: Shipment) -> Decimal:
    total = Decimal(0)
    for parcel in shipment.parcels:
        if parcel.volume_m3 is not None:
            total += parcel.volume_m3
    return total


def static_breaches(offer: Offer, shipment: Shipment, catalogue: Catalogue) -> set[str]:
    """Rules that need no calendar: where, what it needs, how heavy, how big, how many."""
    breaches = set()
    for place in (shipment.pickup, shipment.delivery):
        if not any(place_in_area(place, area) for area in offer.areas):
            breaches.add(OUTSIDE_AREA)
    if requirement_tags(shipment, catalogue) - offer.handled_tags:
        breaches.add(TAG_NOT_HANDLED)
    weights = [p.weight_kg for p in shipment.parcels]
    if offer.max_collo_weight_kg is not None and any(
        w > offer.max_collo_weight_kg for w in weights
    ):
        breaches.add(OVER_WEIGHT)
    if offer.max_total_weight_kg is not None and total_weight(shipment) > offer.max_total_weight_kg:
        breaches.add(OVER_WEIGHT)
    if not all(parcel_fits(p, offer.max_collo_dimensions_cm) for p in shipment.parcels):
        breaches.add(OVER_SIZE)
    if offer.max_total_volume_m3 is not None and total_volume(shipment) > offer.max_total_volume_m3:
        breaches.add(OVER_SIZE)
    if offer.max_collis is not None and len(shipment.parcels) > offer.max_collis:
        breaches.add(TOO_MANY_COLLIS)
    return breaches


def expected_price(rate: Rate, shipment: Shipment) -> Decimal | None:
    """What the card charges, written out the long way; None if it cannot rate the order."""
    weight = total_weight(shipment)
    volumetric = total_volume(shipment) * rate.volumetric_kg_per_m3
    chargeable = volumetric if volumetric > weight else weight
    fitting = [price for up_to, price in rate.weight_breaks if chargeable <= up_to]
    if fitting:
        weight_charge = fitting[0]
    elif rate.weight_breaks:
        last_up_to, last_price = rate.weight_breaks[-1]
        weight_charge = last_price + rate.per_kg * (chargeable - last_up_to)
    else:
        weight_charge = rate.per_kg * chargeable
    distance_charge = Decimal(0)
    if rate.distance_bands:
        a, b = shipment.pickup, shipment.delivery
        if None in (a.latitude, a.longitude, b.latitude, b.longitude):
            return None
        km = haversine_km(a.latitude, a.longitude, b.latitude, b.longitude)
        bands = [price for up_to, price in rate.distance_bands if Decimal(km) <= up_to]
        if not bands:
            return None
        distance_charge = bands[0]
    tags = sum(
        (rate.tag_surcharges[t] for t in shipment.tags if t in rate.tag_surcharges), Decimal(0)
    )
    subtotal = weight_charge + rate.per_collo * len(shipment.parcels) + distance_charge + tags
    base = max(subtotal, rate.minimum_charge)
    return (base * (100 + rate.fuel_surcharge_pct) / 100).quantize(CENT, rounding=ROUND_HALF_UP)


def earliest_pickup_day(
    offer: Offer, shipment: Shipment, now: datetime, *, honour_cutoff: bool = True
) -> date | None:
    """The first day a pickup meets the order's frames, trying every day of the horizon.

    Without ``honour_cutoff``: as if today's pickup were still open, whatever the clock says.
    """
    zone = offer.time_zone
    local_now = now.astimezone(zone)
    first = local_now.date()
    if honour_cutoff and local_now.time() > offer.cutoff:
        first += timedelta(days=1)
    if shipment.pickup_from is not None:
        first = max(first, shipment.pickup_from.astimezone(zone).date())
    # Selection looks MAX_DAYS_AHEAD days on, then takes the operating day it lands on.
    last = first + timedelta(days=MAX_DAYS_AHEAD)
    while last.isoweekday() not in offer.operating_days:
        last += timedelta(days=1)
    for n in range((last - first).days + 1):
        day = first + timedelta(days=n)
        if day.isoweekday() not in offer.operating_days:
            continue
        start = datetime.combine(day, offer.pickup_window[0], tzinfo=zone)
        end = datetime.combine(day, offer.pickup_window[1], tzinfo=zone)
        if honour_cutoff:
            if end <= now:
                continue
            start = max(start, now)
        if shipment.pickup_to is not None and start > shipment.pickup_to:
            continue
        delivery_day, counted = day, 0
        while counted < offer.transit_days:
            delivery_day += timedelta(days=1)
            counted += delivery_day.isoweekday() in offer.operating_days
        if offer.delivery_window is None:
            opens = datetime.combine(delivery_day, time(0), tzinfo=zone)
            closes = datetime.combine(delivery_day + timedelta(days=1), time(0), tzinfo=zone)
        else:
            opens = datetime.combine(delivery_day, offer.delivery_window[0], tzinfo=zone)
            closes = datetime.combine(delivery_day, offer.delivery_window[1], tzinfo=zone)
        if shipment.delivery_to is not None and opens > shipment.delivery_to:
            continue
        if shipment.delivery_from is not None and closes <= shipment.delivery_from:
            continue
        return day
    return None


def card_for(offer: Offer, day: date) -> Rate | None:
    valid = [r for r in offer.rates if r.valid_from <= day and (r.valid_to or day) >= day]
    return max(valid, key=lambda r: r.valid_from, default=None)


def operating_days_between(offer: Offer, after: date, up_to: date) -> int:
    days = (up_to - after).days
    return sum(
        1 for n in range(1, days + 1) if (after + timedelta(n)).isoweekday() in offer.operating_days
    )


def assert_meets_every_hard_rule(option, shipment: Shipment, catalogue: Catalogue, now: datetime):
    offer = option.offer
    zone = offer.time_zone
    assert static_breaches(offer, shipment, catalogue) == set()
    assert option.waived == []

    # Calendar: the pickup day is an operating day, not in the past, after today once past the
    # cut-off; the promised pickup lies in the service's window on that day and is not over.
    local_now = now.astimezone(zone)
    day = option.pickup_day
    assert day == earliest_pickup_day(offer, shipment, now)
    assert day.isoweekday() in offer.operating_days
    assert day >= local_now.date()
    if local_now.time() > offer.cutoff:
        assert day > local_now.date()
    pickup_from, pickup_to = option.pickup_window
    window_start = datetime.combine(day, offer.pickup_window[0], tzinfo=zone)
    window_end = datetime.combine(day, offer.pickup_window[1], tzinfo=zone)
    assert pickup_to == window_end
    assert window_start <= pickup_from < pickup_to
    assert pickup_to > now

    # Delivery: on an operating day, transit_days operating days after the pickup day.
    delivery_from, delivery_to = option.delivery_window
    delivery_day = delivery_from.astimezone(zone).date()
    assert delivery_day.isoweekday() in offer.operating_days
    assert delivery_day >= day
    assert operating_days_between(offer, day, delivery_day) == offer.transit_days
    if offer.delivery_window is None:
        assert (delivery_to - delivery_from) == timedelta(days=1)
        assert delivery_from.astimezone(zone).time() == time(0)
    else:
        assert delivery_from == datetime.combine(delivery_day, offer.delivery_window[0], zone)
        assert delivery_to == datetime.combine(delivery_day, offer.delivery_window[1], zone)

    # The order's own time frames.
    if shipment.pickup_to is not None:
        assert pickup_from <= shipment.pickup_to
    if shipment.delivery_to is not None:
        assert delivery_from <= shipment.delivery_to
    if shipment.delivery_from is not None:
        assert delivery_to > shipment.delivery_from

    # A card valid on the pickup day prices it, to the cent.
    card = card_for(offer, day)
    assert card is not None
    assert option.currency == card.currency
    assert isinstance(option.price, Decimal)
    assert option.price == expected_price(card, shipment)
    assert option.price.as_tuple().exponent == -2

    # Capacity left on the pickup day.
    orders, kg = catalogue.loads.get((offer.service_id, day), (0, Decimal(0)))
    if offer.capacity_orders is not None:
        assert orders < offer.capacity_orders
    if offer.capacity_kg is not None:
        assert kg + total_weight(shipment) <= offer.capacity_kg


# --- strategies -----------------------------------------------------------------------------
# Built once at import, and biased so that about half the cases leave a service to choose.

TAGS = ("Handling:2person", "Temperature:chilled", "Dangerous:UN1203", "fragile", "gift")
CARRIERS = (("c1", "alfa", "Alfa Fragt"), ("c2", "bravo", "Bravo Bud"), ("c3", "coast", "Coast"))
FIRST_DAY = date(2025, 5, 5)  # `now` falls within three weeks of this Monday


def decimals(low: int, high: int, scale: int = 1) -> st.SearchStrategy[Decimal]:
    return st.integers(low, high).map(lambda n: Decimal(n) / scale)


def maybe(strategy: st.SearchStrategy) -> st.SearchStrategy:
    return st.none() | strategy


def ascending(bounds: st.SearchStrategy, prices: st.SearchStrategy, max_size: int):
    """(up to, price) pairs with strictly increasing bounds."""
    return st.dictionaries(bounds, prices, max_size=max_size).map(
        lambda d: tuple((Decimal(b), d[b]) for b in sorted(d))
    )


def hour_window(first: int, last: int, longest: int):
    return st.tuples(st.integers(first, last), st.integers(1, longest)).map(
        lambda t: (time(t[0]), time(t[0] + t[1]))
    )


money = decimals(0, 20000, 100)
latitudes = st.integers(5500, 5700).map(lambda n: n / 100)
longitudes = st.integers(900, 1300).map(lambda n: n / 100)
countries = st.sampled_from(("DK", "DK", "SE"))
# Few postcodes, so ranges and prefixes often hit them (and their ends).
postcodes = st.sampled_from(("1050", "2100", "2800", "4000", "5000", "8000", "9999"))

places = st.builds(
    lambda country, postcode, position: Place(country, postcode, *(position or (None, None))),
    st.sampled_from(("DK",) * 5 + ("SE",)),
    postcodes,
    st.tuples(latitudes, longitudes, st.sampled_from((True, True, False))).map(
        lambda t: t[:2] if t[2] else None  # a third of the places have no position
    ),
)

areas = st.one_of(
    st.just(Area("country", "DK")),
    st.builds(Area, st.just("country"), countries),
    st.builds(
        lambda country, ends: Area("range", country, min(ends), max(ends)),
        countries,
        st.tuples(postcodes, postcodes),
    ),
    st.builds(
        lambda country, prefixes: Area("prefix", country, prefixes=tuple(prefixes)),
        countries,
        st.lists(
            st.sampled_from(("1", "2", "21", "28", "4", "40", "5", "8", "9")),
            min_size=1,
            max_size=3,
        ),
    ),
    st.builds(
        lambda lat, lon, km: Area("radius", latitude=lat, longitude=lon, radius_km=float(km)),
        latitudes,
        longitudes,
        st.integers(10, 400),
    ),
)

rates = st.builds(
    lambda start, days, **card: Rate(
        valid_from=FIRST_DAY + timedelta(days=start),
        valid_to=None if days is None else FIRST_DAY + timedelta(days=start + days),
        **card,
    ),
    st.integers(-30, 10),
    st.one_of(st.none(), st.none(), st.integers(0, 30)),  # most cards are open-ended
    currency=st.sampled_from(("DKK", "EUR")),
    weight_breaks=ascending(st.integers(1, 60), money, 3),
    per_kg=decimals(0, 500, 100),
    per_collo=decimals(0, 3000, 100),
    distance_bands=st.just(()) | ascending(st.integers(25, 400), money, 2),
    tag_surcharges=st.dictionaries(st.sampled_from(TAGS), money, max_size=2),
    minimum_charge=decimals(0, 15000, 100),
    fuel_surcharge_pct=decimals(0, 250, 10),
    volumetric_kg_per_m3=st.sampled_from((Decimal(0), Decimal(200), Decimal(250))),
)

NO_LIMITS = {
    "max_collo_weight_kg": None,
    "max_collo_dimensions_cm": (None, None, None),
    "max_total_weight_kg": None,
    "max_total_volume_m3": None,
    "max_collis": None,
}
limits = st.just(NO_LIMITS) | st.fixed_dictionaries(
    {
        "max_collo_weight_kg": maybe(decimals(5, 60)),
        "max_collo_dimensions_cm": st.tuples(
            maybe(decimals(40, 200)), maybe(decimals(30, 150)), maybe(decimals(20, 120))
        ),
        "max_total_weight_kg": maybe(decimals(20, 300)),
        "max_total_volume_m3": maybe(decimals(100, 3000, 1000)),
        "max_collis": maybe(st.integers(1, 6)),
    }
)
NO_CAPACITY = {"capacity_orders": None, "capacity_kg": None, "loads": {}}
capacities = st.just(NO_CAPACITY) | st.fixed_dictionaries(
    {
        "capacity_orders": maybe(st.integers(1, 3)),
        "capacity_kg": maybe(decimals(50, 300)),
        # Bookings already taken, by days from today: (orders, kg).
        "loads": st.dictionaries(
            st.integers(0, 3), st.tuples(st.integers(0, 3), decimals(0, 300)), max_size=3
        ),
    }
)
offer_fields = st.fixed_dictionaries(
    {
        "carrier": st.sampled_from(CARRIERS),
        "time_zone": st.sampled_from(ZONES),
        "transit_days": st.integers(0, 3),
        "cutoff": st.integers(8, 22).map(time),
        "operating_days": st.just(WEEKDAYS) | st.frozensets(st.integers(1, 7), min_size=1),
        "pickup_window": hour_window(6, 12, 10),
        "delivery_window": maybe(hour_window(7, 18, 5)),
        "handled_tags": st.frozensets(st.sampled_from(TAGS), max_size=4),
        "limits": limits,
        "capacity": capacities,
        # Half the services cover all of Denmark besides their other areas.
        "areas": st.tuples(st.booleans(), st.lists(areas, min_size=1, max_size=2)).map(
            lambda t: (Area("country", "DK"),) * t[0] + tuple(t[1])
        ),
        # Which of the case's rate cards the service uses (shared cards make equal prices).
        "rates": st.lists(st.integers(0, 2), min_size=1, max_size=2, unique=True),
    }
)


def offer_from(index: int, fields: dict, pool: list[Rate]) -> Offer:
    fields = dict(fields)
    carrier_id, slug, name = fields.pop("carrier")
    fields.update(fields.pop("limits"))
    capacity = dict(fields.pop("capacity"))
    del capacity["loads"]
    cards = [pool[i % len(pool)] for i in fields.pop("rates")]
    return Offer(
        service_id=f"s{index}",
        code=f"svc-{index}",  # with the carrier slug, unique: as the database has it
        name=f"Service {index}",
        carrier_id=carrier_id,
        carrier_name=name,
        carrier_slug=slug,
        rates=tuple(sorted(cards, key=lambda r: r.valid_from, reverse=True)),
        **capacity,
        **fields,
    )


parcels = st.builds(
    Parcel,
    weight_kg=decimals(1, 30) | decimals(1, 300, 10),  # whole kilos meet the weight breaks
    volume_m3=maybe(decimals(1, 400, 1000)),
    length_cm=maybe(decimals(5, 180)),
    width_cm=maybe(decimals(5, 120)),
    height_cm=maybe(decimals(5, 60)),
)

nows = st.builds(
    lambda day, hour, minute: datetime.combine(
        FIRST_DAY + timedelta(days=day), time(hour, minute), tzinfo=CPH
    ),
    st.integers(0, 20),
    st.integers(0, 23),
    st.sampled_from((0, 15, 59)),
)
# An order's time frames, as hours from now (None: no frame), and the zone they are given in.
frames = maybe(
    st.tuples(
        maybe(st.integers(-24, 120)),
        maybe(st.integers(-6, 72)),
        maybe(st.integers(-24, 200)),
        maybe(st.integers(0, 300)),
    )
).map(lambda hours: hours or (None, None, None, None))


@st.composite
def cases(draw) -> tuple[Shipment, Catalogue, datetime]:
    """A shipment, a catalogue of one to four services, and the moment of planning."""
    now = draw(nows)
    pool = draw(st.lists(rates, min_size=1, max_size=3))
    fields = draw(st.lists(offer_fields, min_size=1, max_size=4))
    offer_list = [offer_from(i, f, pool) for i, f in enumerate(fields)]
    frame_zone = draw(st.sampled_from((CPH, UTC)))
    at = [
        None if h is None else (now + timedelta(hours=h)).astimezone(frame_zone)
        for h in draw(frames)
    ]
    shipment = Shipment(
        pickup=draw(places),
        delivery=draw(places),
        parcels=tuple(draw(st.lists(parcels, min_size=1, max_size=4))),
        tags=draw(st.just(frozenset()) | st.frozensets(st.sampled_from(TAGS), max_size=2)),
        pickup_from=at[0],
        pickup_to=at[1],
        delivery_from=at[2],
        delivery_to=at[3],
    )
    catalogue = Catalogue(
        offers=offer_list,
        requirement_tags=frozenset(t for o in offer_list for t in o.handled_tags),
        requirement_namespaces=draw(
            st.sampled_from(((), ("Temperature",), ("Handling", "Dangerous")))
        ),
        on_time={
            carrier_id: (on_time, 50)
            for carrier_id, on_time in draw(
                st.dictionaries(st.sampled_from([c[0] for c in CARRIERS]), st.integers(0, 50))
            ).items()
        },
        loads={
            (offer.service_id, now.date() + timedelta(days=offset)): load
            for offer, f in zip(offer_list, fields, strict=True)
            for offset, load in f["capacity"]["loads"].items()
        },
    )
    return shipment, catalogue, now


PROPERTY = settings(max_examples=200, deadline=None)


# --- properties -----------------------------------------------------------------------------

POLICY_NAMES = ("cheapest", "fastest", "balanced")


def service_ids(options) -> list[str]:
    return [o.offer.service_id for o in options]


@PROPERTY
@given(cases())
def test_it_only_offers_services_that_meet_every_hard_rule(case):
    shipment, catalogue, now = case
    by_policy = {p: select(shipment, catalogue, policy=p, now=now) for p in POLICY_NAMES}

    for selection in by_policy.values():
        for option in selection.options:
            assert_meets_every_hard_rule(option, shipment, catalogue, now)
    # The policy orders the options; it does not change which services can go.
    assert len({frozenset(service_ids(s.options)) for s in by_policy.values()}) == 1


@PROPERTY
@given(cases())
def test_it_gives_every_service_either_an_option_or_its_reasons(case):
    shipment, catalogue, now = case
    selection = select(shipment, catalogue, now=now)

    ruled_out = {r.offer.service_id: r.codes for r in selection.rejections}
    assert sorted(service_ids(selection.options) + list(ruled_out)) == sorted(
        o.service_id for o in catalogue.offers
    )
    for offer in catalogue.offers:
        # Whatever needs no calendar is checked first, and every such rule broken is named.
        breaches = static_breaches(offer, shipment, catalogue)
        named = set(ruled_out.get(offer.service_id, ())) & STATIC_CODES
        assert named == breaches
        # Time is only given as a reason when no day in the horizon meets the frames; the
        # cut-off is blamed only once it has passed (in the carrier's own time zone) and
        # today's pickup would have met them.
        timed = set(ruled_out.get(offer.service_id, ())) & TIME_CODES
        if earliest_pickup_day(offer, shipment, now) is not None:
            assert timed == set()
        elif now.astimezone(offer.time_zone).time() > offer.cutoff and earliest_pickup_day(
            offer, shipment, now, honour_cutoff=False
        ):
            assert timed == {PAST_CUT_OFF}
        else:
            assert timed == {TOO_SLOW}
    for rejection in selection.rejections:
        assert rejection.reasons
        assert all(code and message for code, message in rejection.reasons)
    if selection.chosen is None:
        codes = {code for r in selection.rejections for code in r.codes}
        assert set(selection.unplanned_reasons) == codes
        assert len(selection.unplanned_reasons) == len(codes)


@PROPERTY
@given(cases())
def test_it_chooses_the_lowest_price_the_earliest_delivery_or_the_best_balance_as_asked(case):
    shipment, catalogue, now = case
    cheapest = select(shipment, catalogue, policy="cheapest", now=now)
    fastest = select(shipment, catalogue, policy="fastest", now=now)
    balanced = select(shipment, catalogue, policy="balanced", now=now)
    if cheapest.chosen is None:
        assert fastest.chosen is None and balanced.chosen is None
        return

    prices = [o.price for o in cheapest.options]
    assert cheapest.chosen.price == min(prices)
    assert all(price >= cheapest.chosen.price for price in prices)
    assert prices == sorted(prices)
    ends = [o.delivery_window[1] for o in fastest.options]
    assert fastest.chosen.delivery_window[1] == min(ends)
    assert all(end >= fastest.chosen.delivery_window[1] for end in ends)
    scores = [round(o.score, 9) for o in balanced.options]
    assert scores[0] == min(scores)
    assert all(0 <= score <= 1 for score in scores)


@PROPERTY
@given(cases(), st.randoms(use_true_random=False))
def test_it_ranks_the_same_whatever_the_order_of_the_catalogue(case, random):
    shipment, catalogue, now = case
    shuffled_offers = list(catalogue.offers)
    random.shuffle(shuffled_offers)
    shuffled = dataclasses.replace(catalogue, offers=shuffled_offers)

    for policy in POLICY_NAMES:
        first = select(shipment, catalogue, policy=policy, now=now)
        again = select(shipment, catalogue, policy=policy, now=now)
        reordered = select(shipment, shuffled, policy=policy, now=now)

        assert service_ids(again.options) == service_ids(first.options)
        assert service_ids(reordered.options) == service_ids(first.options)
        assert service_ids(reordered.rejections) == service_ids(first.rejections)
        if first.chosen is not None:
            assert reordered.chosen.price == first.chosen.price
            assert reordered.chosen.delivery_window == first.chosen.delivery_window


# --- constructed cases ----------------------------------------------------------------------


def a_rate(**overrides) -> Rate:
    fields = {
        "valid_from": date(2025, 1, 1),
        "valid_to": None,
        "currency": "DKK",
        "weight_breaks": (),
        "per_kg": Decimal(0),
        "per_collo": Decimal(0),
        "distance_bands": (),
        "tag_surcharges": {},
        "minimum_charge": Decimal(0),
        "fuel_surcharge_pct": Decimal(0),
        "volumetric_kg_per_m3": Decimal(0),
    }
    return Rate(**{**fields, **overrides})


def an_offer(code: str = "parcel", carrier: str = "alfa", **overrides) -> Offer:
    fields = {
        "service_id": f"{carrier}-{code}",
        "code": code,
        "name": code.title(),
        "carrier_id": f"id-{carrier}",
        "carrier_name": carrier.title(),
        "carrier_slug": carrier,
        "time_zone": CPH,
        "transit_days": 1,
        "cutoff": time(16),
        "operating_days": WEEKDAYS,
        "pickup_window": (time(8), time(18)),
        "delivery_window": None,
        "handled_tags": frozenset(),
        "max_collo_weight_kg": None,
        "max_collo_dimensions_cm": (None, None, None),
        "max_total_weight_kg": None,
        "max_total_volume_m3": None,
        "max_collis": None,
        "capacity_orders": None,
        "capacity_kg": None,
        "areas": (Area("country", "DK"),),
        "rates": (a_rate(weight_breaks=((Decimal(20), Decimal("79.00")),), per_kg=Decimal(2)),),
    }
    return Offer(**{**fields, **overrides})


def a_shipment(**overrides) -> Shipment:
    fields = {
        "pickup": CPH_CITY,
        "delivery": ROSKILDE,
        "parcels": (Parcel(Decimal(10)),),
    }
    return Shipment(**{**fields, **overrides})


def a_catalogue(*offers: Offer, **fields) -> Catalogue:
    """As the loader builds it: a tag some service lists is a requirement."""
    listed = frozenset(tag for offer in offers for tag in offer.handled_tags)
    return Catalogue(list(offers), requirement_tags=listed, **fields)


def select_one(offer: Offer, shipment: Shipment | None = None, now=TUESDAY_MORNING, **catalogue):
    return select(shipment or a_shipment(), a_catalogue(offer, **catalogue), now=now)


def rejected_codes(
    offer: Offer, shipment: Shipment | None = None, now=TUESDAY_MORNING, **catalogue
):
    selection = select_one(offer, shipment, now, **catalogue)
    assert selection.chosen is None, "the service should have been ruled out"
    [rejection] = selection.rejections
    return rejection.codes


def price_of(rate: Rate, shipment: Shipment | None = None) -> Decimal:
    selection = select_one(an_offer(rates=(rate,)), shipment)
    assert selection.chosen is not None
    return selection.chosen.price


def test_it_accepts_a_plain_order_the_default_service_can_carry():
    chosen = select_one(an_offer()).chosen

    assert chosen is not None
    assert chosen.pickup_day == TUESDAY
    assert chosen.pickup_window[0] == TUESDAY_MORNING
    assert chosen.delivery_window[0] == datetime(2025, 5, 7, tzinfo=CPH)


def test_it_rejects_a_service_that_only_serves_another_country():
    offer = an_offer(areas=(Area("country", "SE"),))

    assert rejected_codes(offer) == [OUTSIDE_AREA, OUTSIDE_AREA]
    assert rejected_codes(an_offer(), a_shipment(delivery=MALMO)) == [OUTSIDE_AREA]


def test_it_rejects_a_postcode_outside_the_service_range():
    offer = an_offer(areas=(Area("range", "DK", postcode_from="1000", postcode_to="2999"),))

    assert rejected_codes(offer) == [OUTSIDE_AREA]  # Roskilde 4000 is outside
    assert select_one(offer, a_shipment(delivery=Place("DK", "2999"))).chosen is not None


def test_it_rejects_a_postcode_without_a_served_prefix():
    offer = an_offer(areas=(Area("prefix", "DK", prefixes=("1", "40")),))

    assert rejected_codes(offer, a_shipment(delivery=ODENSE)) == [OUTSIDE_AREA]
    assert select_one(offer).chosen is not None  # 1050 and 4000 both served


def test_it_rejects_a_place_beyond_the_depot_radius():
    around_copenhagen = Area("radius", latitude=55.6761, longitude=12.5683, radius_km=50.0)
    offer = an_offer(areas=(around_copenhagen,))

    assert select_one(offer).chosen is not None  # Roskilde is about 31 km away
    assert rejected_codes(offer, a_shipment(delivery=ODENSE)) == [OUTSIDE_AREA]  # about 140 km
    without_position = Place("DK", "4000")
    assert rejected_codes(offer, a_shipment(delivery=without_position)) == [OUTSIDE_AREA]


def test_it_rejects_a_service_that_does_not_handle_a_required_tag():
    plain = an_offer("plain")
    two_person = an_offer("two-person", handled_tags=frozenset({"Handling:2person"}))
    shipment = a_shipment(tags=frozenset({"Handling:2person", "gift"}))

    selection = select(shipment, a_catalogue(plain, two_person), now=TUESDAY_MORNING)

    assert selection.chosen.offer == two_person
    assert [r.codes for r in selection.rejections] == [[TAG_NOT_HANDLED]]


def test_it_treats_a_tag_in_a_requirement_namespace_as_required_even_if_no_one_lists_it():
    shipment = a_shipment(tags=frozenset({"Temperature:frozen"}))

    assert select_one(an_offer(), shipment).chosen is not None
    codes = rejected_codes(an_offer(), shipment, requirement_namespaces=("Temperature",))
    assert codes == [TAG_NOT_HANDLED]


def test_it_rejects_a_collo_heavier_than_the_per_collo_limit():
    offer = an_offer(max_collo_weight_kg=Decimal(20))
    shipment = a_shipment(parcels=(Parcel(Decimal(5)), Parcel(Decimal("20.1"))))

    assert rejected_codes(offer, shipment) == [OVER_WEIGHT]
    assert select_one(offer, a_shipment(parcels=(Parcel(Decimal(20)),))).chosen is not None


def test_it_rejects_an_order_heavier_than_the_total_limit():
    offer = an_offer(max_collo_weight_kg=Decimal(20), max_total_weight_kg=Decimal(50))
    shipment = a_shipment(parcels=(Parcel(Decimal(18)),) * 3)

    assert rejected_codes(offer, shipment) == [OVER_WEIGHT]


def test_it_rejects_a_collo_too_large_even_when_turned():
    offer = an_offer(max_collo_dimensions_cm=(Decimal(120), Decimal(80), Decimal(60)))
    turned = Parcel(Decimal(5), length_cm=Decimal(60), width_cm=Decimal(120), height_cm=Decimal(80))
    too_large = Parcel(
        Decimal(5), length_cm=Decimal(100), width_cm=Decimal(90), height_cm=Decimal(90)
    )

    assert select_one(offer, a_shipment(parcels=(turned,))).chosen is not None
    assert rejected_codes(offer, a_shipment(parcels=(too_large,))) == [OVER_SIZE]


def test_it_lets_a_collo_lie_down_under_a_height_only_limit():
    offer = an_offer(max_collo_dimensions_cm=(None, None, Decimal(50)))
    flat = Parcel(Decimal(5), length_cm=Decimal(120), width_cm=Decimal(80), height_cm=Decimal(40))
    cube = Parcel(Decimal(5), length_cm=Decimal(60), width_cm=Decimal(60), height_cm=Decimal(60))

    assert select_one(offer, a_shipment(parcels=(flat,))).chosen is not None
    assert rejected_codes(offer, a_shipment(parcels=(cube,))) == [OVER_SIZE]


def test_it_rejects_an_order_over_the_volume_limit():
    offer = an_offer(max_total_volume_m3=Decimal("0.5"))
    shipment = a_shipment(parcels=(Parcel(Decimal(5), volume_m3=Decimal("0.3")),) * 2)

    assert rejected_codes(offer, shipment) == [OVER_SIZE]


def test_it_rejects_more_collis_than_the_service_takes():
    offer = an_offer(max_collis=2)

    assert rejected_codes(offer, a_shipment(parcels=(Parcel(Decimal(1)),) * 3)) == [TOO_MANY_COLLIS]


def test_it_blames_the_cut_off_when_only_todays_pickup_would_meet_the_frame():
    after_cut_off = datetime(2025, 5, 6, 17, 0, tzinfo=CPH)
    by_wednesday = a_shipment(delivery_to=datetime(2025, 5, 7, 23, 59, tzinfo=CPH))

    assert rejected_codes(an_offer(), by_wednesday, now=after_cut_off) == [PAST_CUT_OFF]
    before_cut_off = datetime(2025, 5, 6, 15, 0, tzinfo=CPH)
    assert select_one(an_offer(), by_wednesday, now=before_cut_off).chosen is not None


def test_it_picks_up_the_next_operating_day_once_past_the_cut_off():
    friday_evening = datetime(2025, 5, 9, 17, 0, tzinfo=CPH)

    chosen = select_one(an_offer(), now=friday_evening).chosen

    assert chosen.pickup_day == date(2025, 5, 12)  # Monday
    assert chosen.delivery_window[0] == datetime(2025, 5, 13, tzinfo=CPH)


def test_it_calls_a_service_too_slow_when_its_transit_misses_the_frame():
    three_days = an_offer(transit_days=3)
    by_wednesday = a_shipment(delivery_to=datetime(2025, 5, 7, 23, 59, tzinfo=CPH))

    assert rejected_codes(three_days, by_wednesday) == [TOO_SLOW]


def test_it_does_not_blame_the_cut_off_for_a_pickup_frame_that_closed_before_now():
    closed = a_shipment(pickup_to=datetime(2025, 5, 6, 9, 0, tzinfo=CPH))

    # 10:00 is before the 16:00 cut-off: the frame is simply missed.
    assert rejected_codes(an_offer(), closed) == [TOO_SLOW]


def test_it_waits_for_a_delivery_frame_that_opens_later():
    next_week = a_shipment(delivery_from=datetime(2025, 5, 13, 12, 0, tzinfo=CPH))

    chosen = select_one(an_offer(), next_week).chosen

    assert chosen.pickup_day == date(2025, 5, 12)
    assert chosen.delivery_window == (
        datetime(2025, 5, 13, tzinfo=CPH),
        datetime(2025, 5, 14, tzinfo=CPH),
    )


def test_it_rejects_when_no_rate_card_is_valid_on_the_pickup_day():
    expired = a_rate(valid_from=date(2025, 1, 1), valid_to=date(2025, 5, 5), per_kg=Decimal(1))
    from_june = a_rate(valid_from=date(2025, 6, 1), per_kg=Decimal(1))

    assert rejected_codes(an_offer(rates=(from_june, expired))) == [NO_RATE_CARD]
    assert rejected_codes(an_offer(rates=())) == [NO_RATE_CARD]


def test_it_uses_the_newest_card_valid_on_the_pickup_day():
    old = a_rate(valid_from=date(2025, 1, 1), per_kg=Decimal(1))
    new = a_rate(valid_from=date(2025, 5, 1), per_kg=Decimal(2))
    later = a_rate(valid_from=date(2025, 6, 1), per_kg=Decimal(3))

    chosen = select_one(an_offer(rates=(later, new, old))).chosen

    assert chosen.price == Decimal("20.00")


def test_it_rejects_a_distance_beyond_the_last_band():
    bands = a_rate(per_kg=Decimal(1), distance_bands=((Decimal(50), Decimal(0)),))

    assert select_one(an_offer(rates=(bands,))).chosen is not None  # Roskilde, ~31 km
    assert rejected_codes(an_offer(rates=(bands,)), a_shipment(delivery=ODENSE)) == [NO_RATE_CARD]
    unknown = a_shipment(delivery=Place("DK", "4000"))
    assert rejected_codes(an_offer(rates=(bands,)), unknown) == [NO_RATE_CARD]


def test_it_rejects_a_service_booked_to_capacity_that_day():
    by_orders = an_offer(capacity_orders=3)
    by_weight = an_offer(capacity_kg=Decimal(100))
    tuesday_loads = {("alfa-parcel", TUESDAY): (3, Decimal(95))}

    assert rejected_codes(by_orders, loads=tuesday_loads) == [CAPACITY_FULL]
    assert rejected_codes(by_weight, loads=tuesday_loads) == [CAPACITY_FULL]
    room = {("alfa-parcel", TUESDAY): (2, Decimal(90))}
    assert select_one(by_orders, loads=room).chosen is not None
    assert select_one(by_weight, loads=room).chosen is not None


def test_it_lists_every_reason_an_order_is_unplanned():
    abroad = an_offer("abroad", areas=(Area("country", "SE"),))
    small = an_offer("small", max_collis=1)
    shipment = a_shipment(parcels=(Parcel(Decimal(1)),) * 2)

    selection = select(shipment, a_catalogue(small, abroad), now=TUESDAY_MORNING)

    assert selection.chosen is None
    assert selection.unplanned_reasons == [OUTSIDE_AREA, TOO_MANY_COLLIS]
    assert "outside-area, too-many-collis" in selection.explanation()
    empty = select(shipment, a_catalogue(), now=TUESDAY_MORNING)
    assert empty.unplanned_reasons == [NO_SERVICES]


def test_it_lists_every_rule_a_service_breaks():
    strict = an_offer(
        areas=(Area("range", "DK", postcode_from="1000", postcode_to="2999"),),
        max_collo_weight_kg=Decimal(10),
        max_collo_dimensions_cm=(Decimal(50), Decimal(50), Decimal(50)),
        max_collis=1,
        transit_days=3,
    )
    shipment = a_shipment(
        tags=frozenset({"Handling:2person"}),
        parcels=(Parcel(Decimal(12), length_cm=Decimal(60)), Parcel(Decimal(1))),
        delivery_to=datetime(2025, 5, 7, 23, 59, tzinfo=CPH),
    )

    codes = rejected_codes(strict, shipment, requirement_namespaces=("Handling",))

    assert codes == [
        OUTSIDE_AREA,
        TAG_NOT_HANDLED,
        OVER_WEIGHT,
        OVER_SIZE,
        TOO_MANY_COLLIS,
        TOO_SLOW,
    ]


# --- price arithmetic -----------------------------------------------------------------------

BREAKS = ((Decimal(5), Decimal("49.00")), (Decimal(20), Decimal("79.00")))


def weighing(*kgs: str, **parcel) -> Shipment:
    return a_shipment(parcels=tuple(Parcel(Decimal(kg), **parcel) for kg in kgs))


def test_it_charges_the_first_weight_break_the_order_fits_under():
    card = a_rate(weight_breaks=BREAKS, per_kg=Decimal("2.50"))

    assert price_of(card, weighing("5")) == Decimal("49.00")
    assert price_of(card, weighing("5.001")) == Decimal("79.00")
    assert price_of(card, weighing("12", "8")) == Decimal("79.00")


def test_it_charges_per_kg_beyond_the_last_break():
    card = a_rate(weight_breaks=BREAKS, per_kg=Decimal("2.50"))

    assert price_of(card, weighing("25")) == Decimal("91.50")  # 79 + 5 × 2.50
    assert price_of(a_rate(per_kg=Decimal("1.25")), weighing("7")) == Decimal("8.75")


def test_it_charges_per_collo():
    card = a_rate(weight_breaks=BREAKS, per_collo=Decimal("4.00"))

    assert price_of(card, weighing("1", "1", "1")) == Decimal("61.00")  # 49 + 3 × 4


def test_it_charges_the_distance_band_the_trip_falls_in():
    bands = (
        (Decimal(25), Decimal(0)),
        (Decimal(100), Decimal("40.00")),
        (Decimal(200), Decimal(90)),
    )
    card = a_rate(weight_breaks=BREAKS, distance_bands=bands)

    nearby = a_shipment(delivery=Place("DK", "1300", 55.68, 12.58), parcels=(Parcel(Decimal(3)),))
    assert price_of(card, nearby) == Decimal("49.00")  # under a kilometre
    assert price_of(card, weighing("1")) == Decimal("89.00")  # Roskilde, ~31 km, 1 kg
    assert price_of(card, a_shipment(delivery=ODENSE)) == Decimal("169.00")  # ~140 km, 10 kg


def test_it_adds_the_surcharge_of_each_tag_the_order_carries():
    card = a_rate(
        weight_breaks=BREAKS,
        tag_surcharges={"Handling:2person": Decimal("150.00"), "fragile": Decimal("12.50")},
    )
    shipment = a_shipment(
        parcels=(Parcel(Decimal(3)),),
        tags=frozenset({"Handling:2person", "fragile", "gift"}),
    )

    assert price_of(card, shipment) == Decimal("211.50")


def test_it_tops_up_to_the_minimum_charge():
    card = a_rate(weight_breaks=BREAKS, minimum_charge=Decimal("65.00"))

    assert price_of(card, weighing("2")) == Decimal("65.00")
    assert price_of(card, weighing("10")) == Decimal("79.00")


def test_it_adds_the_fuel_surcharge_on_top_of_the_minimum():
    card = a_rate(
        weight_breaks=BREAKS, minimum_charge=Decimal("60.00"), fuel_surcharge_pct=Decimal(10)
    )

    assert price_of(card, weighing("2")) == Decimal("66.00")
    assert price_of(card, weighing("10")) == Decimal("86.90")


def test_it_charges_the_volumetric_weight_when_it_is_larger():
    card = a_rate(weight_breaks=BREAKS, per_kg=Decimal(1), volumetric_kg_per_m3=Decimal(250))

    light_and_bulky = weighing("2", volume_m3=Decimal("0.1"))  # 25 kg chargeable
    assert price_of(card, light_and_bulky) == Decimal("84.00")  # 79 + 5 × 1
    heavy_and_small = weighing("4", volume_m3=Decimal("0.01"))  # 2.5 kg volumetric
    assert price_of(card, heavy_and_small) == Decimal("49.00")


def test_it_rounds_half_a_cent_up():
    card = a_rate(per_kg=Decimal(1), fuel_surcharge_pct=Decimal("12.25"))

    price = price_of(card, weighing("10"))  # 10 + 1.225

    assert price == Decimal("11.23")
    assert isinstance(price, Decimal)
    assert price.as_tuple().exponent == -2
    assert price_of(a_rate(per_kg=Decimal("0.333")), weighing("1")) == Decimal("0.33")


# --- balanced policy ------------------------------------------------------------------------


def test_it_prefers_the_carrier_that_delivers_on_time_when_price_and_speed_tie():
    # The reliable carrier sorts last by name, so only its record can put it first.
    sloppy = an_offer(carrier="alfa")
    reliable = an_offer(carrier="bravo")
    on_time = {"id-alfa": (55, 100), "id-bravo": (97, 100)}

    for offers_in_order in ([reliable, sloppy], [sloppy, reliable]):
        catalogue = a_catalogue(*offers_in_order, on_time=on_time)
        selection = select(a_shipment(), catalogue, policy="balanced", now=TUESDAY_MORNING)

        assert selection.chosen.offer == reliable
        assert selection.chosen.price == selection.options[1].price
        assert selection.chosen.delivery_window == selection.options[1].delivery_window
        assert selection.chosen.score < selection.options[1].score


def test_it_gives_a_carrier_without_history_the_prior_on_time_rate():
    poor = an_offer(carrier="alfa")
    newcomer = an_offer(carrier="bravo")
    catalogue = a_catalogue(poor, newcomer, on_time={"id-alfa": (60, 100)})

    selection = select(a_shipment(), catalogue, policy="balanced", now=TUESDAY_MORNING)

    assert selection.chosen.offer == newcomer
    assert selection.chosen.on_time_rate == ON_TIME_PRIOR_RATE
    assert selection.options[1].on_time_rate < ON_TIME_PRIOR_RATE
