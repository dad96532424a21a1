"""Carrier selection benchmark: ``carriers.selection.select`` over a batch of orders.

Run from the project root::

    .venv/bin/python bench/selection.py [--orders N] [--seed S] [--policy P]

It builds a throwaway SQLite database in a temporary folder (``DATABASE_URL`` and
``WAYBILL_VAR_DIR`` point there; nothing under ``var/`` is touched), migrates it and creates a
Danish carrier market as rows: 20 carriers of 3 services each, drawn from seven kinds (parcel,
economy, time-definite, same-day courier, two-person bulky, pallet, chilled), with

- service areas: the whole of DK, postcode ranges, postcode prefixes and radii around depots
  in Copenhagen, Aarhus and Odense;
- limits per collo (weight, dimensions) and per order (weight, volume, collis), handled tags
  (``Handling:2person``, ``Equipment:Taillift``, ``Fuel:Electric``, ``Temperature:Chilled``,
  ``Dangerous:LQ``), cut-off times, operating days, time-definite delivery windows and daily
  capacities, some of them already full;
- rate cards with weight breaks, per kg beyond the last break, per collo, distance bands,
  minimum charge, fuel surcharge, tag surcharges and a volumetric factor; an expired card per
  service, and some that change or run out in the coming days.

The catalogue is then read the way Waybill reads it, with ``carriers.selectors.catalogue_load``
(its time is reported), and N seeded random orders around Denmark (1-4 collis of parcels,
furniture or pallets; some requirement tags; some pickup and delivery time frames; a few
abroad or without positions) are selected against it, each planned at its own moment of a
fixed week (Thursday 5 March 2026 to the Sunday), so every run sees the same market.

Two passes over the same orders, after a short warm-up:

1. batch: ``select`` for every order in one loop; the wall clock gives orders/s;
2. per call: each ``select`` timed on its own; p50, p90, p99 and max in ms. This pass also
   counts orders with and without an option and the rejection codes, and hashes every
   option (price, breakdown, windows, score) and rejection (reasons) into a digest: for the
   same seed and N it changes only if selection's behaviour does.

Selection is single-threaded, so the figures are those of one core. Run it on a quiet
machine: a call the scheduler preempts for another busy process costs a time slice of a few
ms, which then is what p99 shows (and orders/s drops). The report starts with the load
average for that reason.

``--policy mixed`` (the default) gives each order its shipper's policy: 60 % cheapest, 25 %
balanced, 15 % fastest. ``--profile`` adds a cProfile of the batch. The last line of the
report is machine-readable::

    orders_per_s=X p99_ms=Y
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import io
import os
import pstats
import random
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as clock
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
COPENHAGEN = ZoneInfo("Europe/Copenhagen")
# A Thursday: orders are planned from then to the Sunday, across the weekend's gap.
PLANNING_DAY = date(2026, 3, 5)
PLANNING_DAYS = (0, 1, 2, 3)
PLANNING_DAY_WEIGHTS = (45, 40, 10, 5)
CARRIERS = 20
SERVICES_PER_CARRIER = 3
WARMUP_ORDERS = 200
POLICY_MIX = (("cheapest", 60), ("balanced", 25), ("fastest", 15))
TARGET_ORDERS_PER_S = 1000.0
TARGET_P99_MS = 20.0


class BenchError(Exception):
    """The benchmark cannot go on; the message says why."""


# --- Geography ----------------------------------------------------------------------------

# (lowest postcode, highest postcode, latitude, longitude, weight): where orders go.
_TOWNS = [
    (1000, 2450, 55.6761, 12.5683, 20.0),  # København
    (2500, 2990, 55.7000, 12.4500, 12.0),  # Københavns omegn
    (3000, 3000, 56.0361, 12.6136, 1.5),  # Helsingør
    (3400, 3400, 55.9267, 12.3008, 1.5),  # Hillerød
    (3000, 3670, 55.9000, 12.3500, 3.0),  # Nordsjælland
    (3700, 3790, 55.1000, 14.7000, 0.8),  # Bornholm
    (4000, 4000, 55.6415, 12.0803, 2.5),  # Roskilde
    (4200, 4200, 55.4028, 11.3546, 1.5),  # Slagelse
    (4300, 4300, 55.7156, 11.7128, 1.2),  # Holbæk
    (4600, 4600, 55.4580, 12.1821, 1.8),  # Køge
    (4700, 4700, 55.2299, 11.7609, 1.8),  # Næstved
    (4800, 4800, 54.7691, 11.8743, 1.0),  # Nykøbing F
    (5000, 5270, 55.4038, 10.4024, 6.0),  # Odense
    (5700, 5700, 55.0598, 10.6068, 1.2),  # Svendborg
    (6000, 6000, 55.4904, 9.4722, 2.5),  # Kolding
    (6400, 6400, 54.9094, 9.7922, 1.4),  # Sønderborg
    (6700, 6715, 55.4765, 8.4594, 2.8),  # Esbjerg
    (7000, 7000, 55.5657, 9.7526, 1.4),  # Fredericia
    (7100, 7100, 55.7113, 9.5364, 2.4),  # Vejle
    (7400, 7400, 56.1393, 8.9738, 1.9),  # Herning
    (7500, 7500, 56.3601, 8.6161, 1.1),  # Holstebro
    (7700, 7700, 56.9552, 8.6945, 0.6),  # Thisted
    (8000, 8270, 56.1629, 10.2039, 9.0),  # Aarhus
    (8600, 8600, 56.1697, 9.5451, 1.6),  # Silkeborg
    (8660, 8660, 56.0337, 9.9300, 1.0),  # Skanderborg
    (8700, 8700, 55.8607, 9.8503, 2.0),  # Horsens
    (8800, 8800, 56.4532, 9.4020, 1.5),  # Viborg
    (8900, 8960, 56.4607, 10.0364, 2.0),  # Randers
    (9000, 9220, 57.0488, 9.9217, 5.0),  # Aalborg
    (9800, 9800, 57.4642, 9.9823, 1.0),  # Hjørring
    (9900, 9900, 57.4407, 10.5366, 1.0),  # Frederikshavn
]
_TOWN_WEIGHTS = [t[4] for t in _TOWNS]
# Shippers' warehouses: (postcode, latitude, longitude).
_WAREHOUSES = [
    ("2605", 55.6496, 12.4214),  # Brøndby
    ("2630", 55.6502, 12.2921),  # Taastrup
    ("4600", 55.4580, 12.1821),  # Køge
    ("5220", 55.3867, 10.4479),  # Odense SØ
    ("6000", 55.4904, 9.4722),  # Kolding
    ("7100", 55.7113, 9.5364),  # Vejle
    ("7400", 56.1393, 8.9738),  # Herning
    ("8200", 56.1870, 10.1700),  # Aarhus N
    ("8700", 55.8607, 9.8503),  # Horsens
    ("9220", 57.0230, 9.9900),  # Aalborg Øst
]
# Deliveries abroad, which Danish services do not cover: (country, postcode, lat, lon).
_ABROAD = [
    ("SE", "21120", 55.6050, 13.0038),  # Malmö
    ("DE", "24937", 54.7837, 9.4321),  # Flensburg
    ("DE", "20095", 53.5511, 9.9937),  # Hamburg
]
# Depots for radius areas: (name, latitude, longitude).
_DEPOTS = {
    "cph": (55.6761, 12.5683),
    "aar": (56.1629, 10.2039),
    "ode": (55.4038, 10.4024),
}


# --- The carrier market -------------------------------------------------------------------

_CARRIER_NAMES = [
    "Nordlys Fragt",
    "Øresund Express",
    "Jyllands Kurer",
    "Fyns Pakke",
    "Bølge Logistik",
    "Kattegat Transport",
    "Vestkyst Distribution",
    "Hav & Land Fragt",
    "Lynbud",
    "Storebælt Cargo",
    "Grøn Kurer",
    "Danpal",
    "Limfjord Levering",
    "Skagen Linjen",
    "Møbeltransport Midt",
    "KøleKæden",
    "Byens Bud",
    "Sjællands Vognmand",
    "Trekant Logistik",
    "Viking Parcel",
]

# (kind, weight in the draw of a carrier's three services)
_KINDS = (
    ("parcel", 30),
    ("economy", 14),
    ("timed", 12),
    ("sameday", 14),
    ("bulky", 12),
    ("pallet", 10),
    ("chilled", 8),
)

_ZEALAND = ("1000", "4999")
_FUNEN = ("5000", "5999")
_JUTLAND = ("6000", "9990")
_URBAN_PREFIXES = ("1,2,40,46", "50,52", "80,82", "90,92")


@dataclass
class ServicePlan:
    """One service as rows: the Service fields, its areas and its rate cards."""

    fields: dict[str, Any]
    areas: list[dict[str, Any]]
    cards: list[dict[str, Any]]


def _d(value: float, places: str = "0.01") -> Decimal:
    return Decimal(str(value)).quantize(Decimal(places))


def _money_breaks(key: str, bounds: Sequence[float], prices: Sequence[float]) -> list[dict]:
    return [{key: str(b), "price": str(_d(p))} for b, p in zip(bounds, prices, strict=True)]


def _areas_for(rng: random.Random, kind: str) -> list[dict[str, Any]]:
    if kind == "sameday":
        depots = rng.sample(sorted(_DEPOTS), rng.choice((1, 1, 2)))
        return [
            {
                "kind": "radius",
                "depot_latitude": _DEPOTS[d][0],
                "depot_longitude": _DEPOTS[d][1],
                "radius_km": _d(rng.choice((25, 35, 45, 60)), "0.01"),
            }
            for d in depots
        ]
    if kind in ("chilled", "timed"):
        draw = rng.random()
        if draw < 0.4:
            return [
                {"kind": "prefix", "country_code": "DK", "postcode_prefixes": p}
                for p in rng.sample(_URBAN_PREFIXES, rng.randint(2, 4))
            ]
        if draw < 0.7:
            return [
                {"kind": "range", "country_code": "DK", "postcode_from": f, "postcode_to": t}
                for f, t in rng.sample((_ZEALAND, _FUNEN, ("8000", "8990")), 2)
            ]
        return [{"kind": "country", "country_code": "DK"}]
    draw = rng.random()
    if draw < 0.55:
        return [{"kind": "country", "country_code": "DK"}]
    if draw < 0.8:
        regions = rng.sample((_ZEALAND, _FUNEN, _JUTLAND), 2)
        areas = [
            {"kind": "range", "country_code": "DK", "postcode_from": f, "postcode_to": t}
            for f, t in regions
        ]
        # Islands served from the mainland depots by many hauliers.
        if rng.random() < 0.5:
            areas.append({"kind": "prefix", "country_code": "DK", "postcode_prefixes": "37"})
        return areas
    if draw < 0.92:
        return [
            {"kind": "prefix", "country_code": "DK", "postcode_prefixes": "1,2,3,4,5"},
            {
                "kind": "radius",
                "depot_latitude": _DEPOTS["aar"][0],
                "depot_longitude": _DEPOTS["aar"][1],
                "radius_km": _d(80),
            },
        ]
    return [
        {"kind": "prefix", "country_code": "DK", "postcode_prefixes": "6,7,8,9"},
        {"kind": "range", "country_code": "DK", "postcode_from": "5000", "postcode_to": "5499"},
    ]


def _cards(
    rng: random.Random, base: dict[str, Any], expiry: str, scale: float
) -> list[dict[str, Any]]:
    """An expired card, the current one, and maybe a successor; prices scale by ``scale``."""

    def scaled(card: dict[str, Any], factor: float) -> dict[str, Any]:
        out = dict(card)
        out["weight_breaks"] = [
            {"upToKg": b["upToKg"], "price": str(_d(float(b["price"]) * factor))}
            for b in card["weight_breaks"]
        ]
        for name in ("per_kg", "per_collo", "minimum_charge"):
            out[name] = _d(float(card[name]) * factor, "0.0001" if name == "per_kg" else "0.01")
        return out

    current = scaled(base, scale)
    old = scaled(base, scale * 0.94)
    old.update(
        valid_from=PLANNING_DAY - timedelta(days=430),
        valid_to=PLANNING_DAY - timedelta(days=60),
        fuel_surcharge_pct=_d(max(0.0, float(base["fuel_surcharge_pct"]) - 3)),
    )
    current.update(valid_from=PLANNING_DAY - timedelta(days=59), valid_to=None)
    cards = [old, current]
    if expiry == "successor":
        current["valid_to"] = PLANNING_DAY + timedelta(days=rng.randint(4, 12))
        nxt = scaled(base, scale * 1.04)
        nxt.update(valid_from=current["valid_to"] + timedelta(days=1), valid_to=None)
        cards.append(nxt)
    elif expiry == "runs-out":
        current["valid_to"] = PLANNING_DAY + timedelta(days=rng.randint(3, 6))
    return cards


def _service_plan(rng: random.Random, kind: str, scale: float) -> ServicePlan:
    """A service of ``kind`` with the limits, areas and prices such services have."""
    weekdays = [1, 2, 3, 4, 5]
    fuel = _d(rng.uniform(6, 22))
    surcharges: dict[str, str] = {}
    distance: list[dict] = []
    fields: dict[str, Any] = {
        "operating_days": weekdays,
        "pickup_window_start": clock(8),
        "pickup_window_end": clock(rng.choice((16, 17, 18))),
    }
    if kind in ("parcel", "economy"):
        fast = kind == "parcel"
        fields.update(
            code=kind,
            name="Erhvervspakke" if fast else "Economy",
            transit_days=1 if fast else rng.choice((2, 3)),
            cutoff_time=clock(rng.choice((15, 16, 17, 18)) if fast else rng.choice((13, 14))),
            operating_days=weekdays + [6] if fast and rng.random() < 0.3 else weekdays,
            handled_tags=["Fuel:Electric"] if rng.random() < 0.35 else [],
            max_collo_weight_kg=_d(rng.choice((20, 30, 35)), "0.001"),
            max_collo_length_cm=_d(rng.choice((120, 150)), "0.1"),
            max_collo_width_cm=_d(60, "0.1"),
            max_collo_height_cm=_d(60, "0.1"),
            max_total_weight_kg=_d(rng.choice((150, 250)), "0.001"),
            max_total_volume_m3=_d(rng.choice((1.5, 2.5)), "0.0001"),
            max_collis=rng.choice((3, 5, 10, 20)),
            daily_capacity_orders=rng.choice((None, None, 3000)),
        )
        breaks = _money_breaks("upToKg", (1, 5, 10, 20, 30), (42, 52, 69, 89, 119))
        card = {
            "weight_breaks": breaks,
            "per_kg": 4.5,
            "per_collo": rng.choice((0, 5, 8)),
            "minimum_charge": 45,
            "volumetric_kg_per_m3": _d(rng.choice((200, 250))),
        }
        if fields["handled_tags"]:
            surcharges["Fuel:Electric"] = str(_d(rng.choice((0, 9, 15))))
        if not fast:
            scale *= 0.8
    elif kind == "timed":
        evening = rng.random() < 0.5
        fields.update(
            code="timed",
            name="Aftenlevering" if evening else "Formiddag 8-12",
            transit_days=1,
            cutoff_time=clock(rng.choice((12, 14, 15))),
            operating_days=weekdays + [6],
            delivery_window_start=clock(17) if evening else clock(8),
            delivery_window_end=clock(21) if evening else clock(12),
            handled_tags=["Fuel:Electric"] if rng.random() < 0.5 else [],
            max_collo_weight_kg=_d(30, "0.001"),
            max_collo_length_cm=_d(150, "0.1"),
            max_collo_width_cm=_d(80, "0.1"),
            max_collo_height_cm=_d(60, "0.1"),
            max_total_weight_kg=_d(120, "0.001"),
            max_collis=8,
            daily_capacity_orders=rng.choice((400, 800, None)),
        )
        card = {
            "weight_breaks": _money_breaks("upToKg", (5, 10, 20, 30), (79, 95, 119, 149)),
            "per_kg": 6,
            "per_collo": 10,
            "minimum_charge": 79,
            "volumetric_kg_per_m3": _d(250),
        }
    elif kind == "sameday":
        fields.update(
            code="sameday",
            name="Samme dag",
            transit_days=0,
            cutoff_time=clock(rng.choice((11, 12, 13))),
            operating_days=weekdays + [6, 7] if rng.random() < 0.3 else weekdays,
            pickup_window_start=clock(9),
            pickup_window_end=clock(15),
            delivery_window_start=clock(17),
            delivery_window_end=clock(21),
            handled_tags=["Fuel:Electric"]
            + (["Temperature:Chilled"] if rng.random() < 0.3 else []),
            max_collo_weight_kg=_d(25, "0.001"),
            max_collo_length_cm=_d(100, "0.1"),
            max_collo_width_cm=_d(60, "0.1"),
            max_collo_height_cm=_d(60, "0.1"),
            max_total_weight_kg=_d(60, "0.001"),
            max_total_volume_m3=_d(0.8, "0.0001"),
            max_collis=3,
            daily_capacity_orders=rng.choice((150, 250, 400)),
        )
        distance = _money_breaks("upToKm", (10, 25, 50, 80), (0, 35, 79, 139))
        card = {
            "weight_breaks": _money_breaks("upToKg", (5, 15, 25), (129, 159, 199)),
            "per_kg": 8,
            "per_collo": 15,
            "minimum_charge": 129,
            "volumetric_kg_per_m3": _d(0),
        }
        surcharges["Temperature:Chilled"] = "60.00"
    elif kind == "bulky":
        fields.update(
            code="2man",
            name="To-mands levering",
            transit_days=rng.choice((2, 3, 4)),
            cutoff_time=clock(12),
            handled_tags=["Handling:2person", "Equipment:Taillift"],
            max_collo_weight_kg=_d(rng.choice((120, 150)), "0.001"),
            max_collo_length_cm=_d(250, "0.1"),
            max_collo_width_cm=_d(120, "0.1"),
            max_collo_height_cm=_d(110, "0.1"),
            max_total_weight_kg=_d(500, "0.001"),
            max_total_volume_m3=_d(6, "0.0001"),
            max_collis=8,
            daily_capacity_orders=rng.choice((60, 120)),
            daily_capacity_kg=_d(rng.choice((8000, 15000)), "0.001"),
        )
        distance = _money_breaks("upToKm", (50, 150, 300, 450), (0, 150, 300, 450))
        card = {
            "weight_breaks": _money_breaks(
                "upToKg", (30, 60, 100, 200, 300), (349, 449, 599, 799, 999)
            ),
            "per_kg": 2.5,
            "per_collo": 25,
            "minimum_charge": 349,
            "volumetric_kg_per_m3": _d(200),
        }
        surcharges.update({"Handling:2person": "250.00", "Equipment:Taillift": "175.00"})
    elif kind == "pallet":
        fields.update(
            code="pallet",
            name="Palle",
            transit_days=rng.choice((1, 2)),
            cutoff_time=clock(rng.choice((12, 14))),
            pickup_window_start=clock(7),
            pickup_window_end=clock(15),
            handled_tags=["Equipment:Taillift"] + (["Dangerous:LQ"] if rng.random() < 0.4 else []),
            max_collo_weight_kg=_d(1000, "0.001"),
            max_collo_length_cm=_d(240, "0.1"),
            max_collo_width_cm=_d(120, "0.1"),
            max_collo_height_cm=_d(220, "0.1"),
            max_total_weight_kg=_d(3000, "0.001"),
            max_total_volume_m3=_d(12, "0.0001"),
            max_collis=6,
            daily_capacity_kg=_d(rng.choice((30000, 60000)), "0.001"),
        )
        distance = _money_breaks("upToKm", (100, 250, 500), (0, 120, 260))
        card = {
            "weight_breaks": _money_breaks("upToKg", (100, 300, 600, 1000), (450, 650, 850, 1150)),
            "per_kg": 0.9,
            "per_collo": 40,
            "minimum_charge": 450,
            "volumetric_kg_per_m3": _d(333),
        }
        surcharges.update({"Equipment:Taillift": "150.00", "Dangerous:LQ": "95.00"})
    elif kind == "chilled":
        fields.update(
            code="chilled",
            name="Kølevarer",
            transit_days=1,
            cutoff_time=clock(13),
            operating_days=weekdays + [6],
            pickup_window_start=clock(6),
            pickup_window_end=clock(14),
            delivery_window_start=clock(6),
            delivery_window_end=clock(12),
            handled_tags=["Temperature:Chilled", "Fuel:Electric"],
            max_collo_weight_kg=_d(30, "0.001"),
            max_collo_length_cm=_d(80, "0.1"),
            max_collo_width_cm=_d(60, "0.1"),
            max_collo_height_cm=_d(60, "0.1"),
            max_total_weight_kg=_d(90, "0.001"),
            max_collis=6,
            daily_capacity_orders=rng.choice((200, 300)),
        )
        card = {
            "weight_breaks": _money_breaks("upToKg", (5, 10, 20, 30), (99, 119, 149, 179)),
            "per_kg": 6,
            "per_collo": 12,
            "minimum_charge": 99,
            "volumetric_kg_per_m3": _d(250),
        }
        surcharges["Temperature:Chilled"] = "45.00"
    else:
        raise BenchError(f"unknown service kind {kind}")
    card.update(
        currency="DKK",
        distance_bands=distance,
        tag_surcharges=surcharges,
        fuel_surcharge_pct=fuel,
    )
    expiry = rng.choices(("open", "successor", "runs-out"), weights=(80, 14, 6))[0]
    return ServicePlan(fields, _areas_for(rng, kind), _cards(rng, card, expiry, scale))


def market_create(rng: random.Random) -> dict[str, int]:
    """The carriers, services, areas, rate cards and capacity loads, as rows; their counts."""
    from carriers.models import CapacityLoad, Carrier, RateCard, Service, ServiceArea

    counts: Counter[str] = Counter()
    kinds, weights = zip(*_KINDS, strict=True)
    for number, name in enumerate(_CARRIER_NAMES[:CARRIERS]):
        slug = name.lower().replace(" & ", "-").replace(" ", "-")
        slug = slug.translate(str.maketrans({"ø": "o", "æ": "ae", "å": "aa"}))
        carrier = Carrier(name=name, slug=slug, contact_email=f"ops@{slug}.example")
        carrier.full_clean()
        carrier.save()
        counts["carriers"] += 1
        chosen: list[str] = []
        while len(chosen) < SERVICES_PER_CARRIER:
            kind = rng.choices(kinds, weights=weights)[0]
            if kind not in chosen:
                chosen.append(kind)
        scale = rng.uniform(0.85, 1.25)
        for kind in chosen:
            plan = _service_plan(rng, kind, scale)
            service = Service(carrier=carrier, **plan.fields)
            service.full_clean()
            service.save()
            counts["services"] += 1
            for area_fields in plan.areas:
                area = ServiceArea(service=service, **area_fields)
                area.full_clean()
                area.save()
                counts["areas"] += 1
            for card_fields in plan.cards:
                card = RateCard(service=service, **card_fields)
                card.full_clean()
                card.save()
                counts["rate cards"] += 1
            # Some services are already booked for the first days, a few to the brim.
            for offset in (0, 1, 4):
                if rng.random() < 0.35:
                    cap = service.daily_capacity_orders
                    kg = service.daily_capacity_kg
                    full = rng.random() < 0.3 + 0.1 * (number % 3)
                    CapacityLoad.objects.create(
                        service=service,
                        day=PLANNING_DAY + timedelta(days=offset),
                        orders=cap if cap and full else rng.randint(0, 40),
                        weight_kg=kg if kg and full else _d(rng.uniform(0, 500), "0.001"),
                    )
                    counts["capacity loads"] += 1
    return dict(counts)


# --- Orders ---------------------------------------------------------------------------------


def _town_place(rng: random.Random) -> Any:
    from carriers.market import Place

    low, high, lat, lon, _ = rng.choices(_TOWNS, weights=_TOWN_WEIGHTS)[0]
    postcode = low + 10 * rng.randint(0, (high - low) // 10)
    spread = 0.04 if high - low > 200 else 0.025
    return Place(
        "DK",
        str(postcode),
        round(lat + rng.uniform(-spread, spread), 6),
        round(lon + rng.uniform(-1.7 * spread, 1.7 * spread), 6),
    )


def _parcels(rng: random.Random, kind: str) -> tuple:
    from carriers.market import Parcel

    parcels = []
    count = {"parcel": (1, 4), "bulky": (1, 3), "pallet": (1, 2)}[kind]
    for _ in range(rng.randint(*count)):
        if kind == "parcel":
            weight = rng.choice((rng.uniform(0.2, 5), rng.uniform(1, 15), rng.uniform(5, 32)))
            dims = (rng.randint(15, 130), rng.randint(10, 65), rng.randint(5, 60))
        elif kind == "bulky":
            weight = rng.uniform(15, 160)
            dims = (rng.randint(60, 240), rng.randint(40, 115), rng.randint(20, 105))
        else:
            weight = rng.uniform(80, 950)
            dims = (120, 80, rng.randint(40, 210))
        length, width, height = (Decimal(d) for d in dims)
        if kind == "parcel" and rng.random() < 0.12:
            # Webshops that send no dimensions.
            parcels.append(Parcel(_d(weight, "0.1")))
            continue
        volume = (length * width * height / Decimal(1_000_000)).quantize(Decimal("0.001"))
        parcels.append(Parcel(_d(weight, "0.1"), volume, length, width, height))
    return tuple(parcels)


def _frames(rng: random.Random, now: datetime, kind: str) -> dict[str, datetime]:
    """Some orders carry pickup or delivery time frames, on working days; most are loose."""
    today = now.astimezone(COPENHAGEN).date()

    def at(working_days: int, hour: int) -> datetime:
        day = today
        for _ in range(working_days):
            day += timedelta(days=1)
            while day.isoweekday() > 5:
                day += timedelta(days=1)
        return datetime.combine(day, clock(hour), tzinfo=COPENHAGEN)

    draw = rng.random()
    if draw < 0.45:
        return {}
    if draw < 0.70:
        days = rng.randint(1, 5) if kind == "parcel" else rng.randint(3, 7)
        start = rng.choice((8, 8, 10, 12, 16))
        end = 16 if start == 8 else start + 2 if start < 16 else 21
        return {"delivery_from": at(days, start), "delivery_to": at(days, end)}
    if draw < 0.85:
        days = rng.randint(1, 2)
        return {
            "pickup_from": at(days, 9),
            "pickup_to": at(days, 15),
            "delivery_from": at(days, 15),
            "delivery_to": at(days + rng.randint(2, 4), 0),
        }
    if draw < 0.95 and kind == "parcel":
        # A deadline: this evening when ordered in the morning, else the next working noon.
        if now.astimezone(COPENHAGEN).hour < 11 and rng.random() < 0.5:
            return {"delivery_to": at(0, 21)}
        return {"delivery_to": at(1, 12)}
    return {"pickup_from": at(rng.randint(2, 6), 8)}


def orders_make(rng: random.Random, count: int) -> list[tuple[Any, datetime, str]]:
    """``count`` (shipment, planning moment, shipper policy) triples."""
    from carriers.market import Place, Shipment

    policies, policy_weights = zip(*POLICY_MIX, strict=True)
    orders = []
    for _ in range(count):
        day = PLANNING_DAY + timedelta(days=rng.choices(PLANNING_DAYS, PLANNING_DAY_WEIGHTS)[0])
        minute = rng.randint(6 * 60, 22 * 60)
        now = datetime.combine(day, clock(minute // 60, minute % 60), tzinfo=COPENHAGEN)
        if rng.random() < 0.85:
            postcode, lat, lon = rng.choice(_WAREHOUSES)
            pickup = Place("DK", postcode, lat, lon)
        else:
            pickup = _town_place(rng)  # returns and private senders
        draw = rng.random()
        if draw < 0.015:
            country, postcode, lat, lon = rng.choice(_ABROAD)
            delivery = Place(country, postcode, lat, lon)
        elif draw < 0.035:
            place = _town_place(rng)
            delivery = Place(place.country_code, place.postal_code)  # not geocoded
        else:
            delivery = _town_place(rng)
        kind = rng.choices(("parcel", "bulky", "pallet"), weights=(70, 22, 8))[0]
        tags = {"Outbound"}
        if rng.random() < 0.5:
            tags.add("Mainland")
        if kind == "bulky" and rng.random() < 0.6:
            tags.add("Handling:2person")
        if kind != "parcel" and rng.random() < 0.3:
            tags.add("Equipment:Taillift")
        if kind == "parcel" and rng.random() < 0.05:
            tags.add("Temperature:Chilled")
        if kind == "parcel" and rng.random() < 0.08:
            tags.add("Fuel:Electric")
        if kind == "pallet" and rng.random() < 0.1:
            tags.add("Dangerous:LQ")
        shipment = Shipment(
            pickup=pickup,
            delivery=delivery,
            parcels=_parcels(rng, kind),
            tags=frozenset(tags),
            **_frames(rng, now, kind),
        )
        orders.append((shipment, now, rng.choices(policies, policy_weights)[0]))
    return orders


# --- Measuring ------------------------------------------------------------------------------


def percentile(values: Sequence[float], p: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * p / 100.0
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def _fingerprint(selection: Any) -> bytes:
    """Everything a plan keeps of a selection, without the random row ids."""
    parts = [selection.policy]
    for o in selection.options:
        parts.append(
            repr(
                (
                    o.offer.rank_key,
                    str(o.price),
                    o.currency,
                    sorted(o.breakdown.items()),
                    o.pickup_day.isoformat(),
                    [t.isoformat() for t in o.pickup_window + o.delivery_window],
                    round(o.on_time_rate, 9),
                    round(o.score, 9),
                    o.waived,
                )
            )
        )
    for r in selection.rejections:
        parts.append(repr((r.offer.rank_key, r.reasons)))
    return "\n".join(parts).encode()


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=10000, help="orders to select (10000)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the market and orders (1)")
    parser.add_argument(
        "--policy",
        choices=["mixed", "cheapest", "fastest", "balanced"],
        default="mixed",
        help="mixed: each order its shipper's policy, 60/25/15 cheapest/balanced/fastest",
    )
    parser.add_argument(
        "--profile", action="store_true", help="print a cProfile of the batch pass too"
    )
    parser.add_argument(
        "--keep-database", action="store_true", help="leave the temporary database behind"
    )
    args = parser.parse_args(argv)
    if args.orders < 1:
        parser.error("--orders must be at least 1")
    return args


def django_setup(folder: Path) -> None:
    """Django on a fresh SQLite file in ``folder``, migrated."""
    os.environ["DATABASE_URL"] = f"sqlite:///{folder / 'bench.sqlite3'}"
    os.environ["WAYBILL_VAR_DIR"] = str(folder / "var")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", interactive=False, verbosity=0)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="waybill-bench-selection-"))
    try:
        return run(args, folder)
    finally:
        if args.keep_database:
            print(f"database kept in {folder}", file=sys.stderr)
        else:
            shutil.rmtree(folder, ignore_errors=True)


def run(args: argparse.Namespace, folder: Path) -> int:
    load = ", ".join(f"{n:.2f}" for n in os.getloadavg())
    print(f"load average: {load} ({os.cpu_count()} CPUs)")
    began = time.perf_counter()
    django_setup(folder)
    print(f"database: SQLite in {folder}, migrated in {time.perf_counter() - began:.1f} s")

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from carriers.selection import REJECTION_CODES, select
    from carriers.selectors import catalogue_load

    rng = random.Random(args.seed)
    counts = market_create(rng)
    print("market: " + ", ".join(f"{n} {what}" for what, n in counts.items()))

    load_at = datetime.combine(PLANNING_DAY, clock(6), tzinfo=COPENHAGEN)
    load_s = []
    for _ in range(5):
        with CaptureQueriesContext(connection) as queries:
            t0 = time.perf_counter()
            catalogue = catalogue_load(now=load_at)
            load_s.append(time.perf_counter() - t0)
    print(
        f"catalogue_load(): {load_s[0] * 1000:.1f} ms cold, "
        f"{percentile(load_s[1:], 50) * 1000:.1f} ms warm (median of 4), "
        f"{len(queries)} queries; {len(catalogue.offers)} offers"
    )

    orders = orders_make(random.Random(f"orders-{args.seed}"), args.orders)
    if args.policy != "mixed":
        orders = [(s, now, args.policy) for s, now, _ in orders]
    policy_counts = Counter(policy for _, _, policy in orders)
    framed = sum(
        1
        for s, _, _ in orders
        if (s.pickup_from, s.pickup_to, s.delivery_from, s.delivery_to) != (None,) * 4
    )
    collis = Counter(len(s.parcels) for s, _, _ in orders)
    print(
        f"orders: {len(orders)} (seed {args.seed}); collis "
        + ", ".join(f"{n}: {c}" for n, c in sorted(collis.items()))
        + f"; {framed} with time frames"
    )
    print(
        f"policy: {args.policy} ("
        + ", ".join(f"{p} {policy_counts[p]}" for p, _ in POLICY_MIX if policy_counts[p])
        + ")"
    )

    for shipment, now, policy in orders[:WARMUP_ORDERS]:
        select(shipment, catalogue, policy=policy, now=now)

    profiler = cProfile.Profile() if args.profile else None
    if profiler:
        profiler.enable()
    t0 = time.perf_counter()
    for shipment, now, policy in orders:
        select(shipment, catalogue, policy=policy, now=now)
    batch_s = time.perf_counter() - t0
    if profiler:
        profiler.disable()
    orders_per_s = len(orders) / batch_s

    latencies: list[float] = []
    digest = hashlib.sha256()
    with_option = 0
    rejection_codes: Counter[str] = Counter()
    unplanned: Counter[str] = Counter()
    chosen_kinds: Counter[str] = Counter()
    option_count = 0
    clock_ = time.perf_counter
    for shipment, now, policy in orders:
        t0 = clock_()
        selection = select(shipment, catalogue, policy=policy, now=now)
        latencies.append(clock_() - t0)
        digest.update(_fingerprint(selection))
        option_count += len(selection.options)
        for rejection in selection.rejections:
            rejection_codes.update(rejection.codes)
        if selection.chosen is not None:
            with_option += 1
            chosen_kinds[selection.chosen.offer.code] += 1
        else:
            unplanned.update(selection.unplanned_reasons)

    p50, p90, p99 = (percentile(latencies, p) * 1000 for p in (50, 90, 99))
    print()
    print(
        f"batch: {len(orders)} orders in {batch_s:.2f} s = {orders_per_s:.1f} orders/s "
        f"({len(catalogue.offers)} services each)"
        + (" under cProfile, so slower" if profiler else "")
    )
    print(
        f"per call ms: p50 {p50:.2f}  p90 {p90:.2f}  p99 {p99:.2f}  max {max(latencies) * 1000:.2f}"
    )
    print(
        f"orders with an option: {with_option}; without: {len(orders) - with_option}; "
        f"options per order: {option_count / len(orders):.1f}"
    )
    print("chosen service kinds: " + ", ".join(f"{k} {n}" for k, n in chosen_kinds.most_common()))
    total = sum(rejection_codes.values())
    print(f"rejection reasons ({total} over {len(orders) * len(catalogue.offers)} evaluations):")
    for code in REJECTION_CODES:
        print(f"  {code:<16} {rejection_codes[code]:>8}")
    if unplanned:
        print(
            "unplanned orders' reasons: "
            + ", ".join(f"{code} {n}" for code, n in unplanned.most_common())
        )
    print(f"result digest: {digest.hexdigest()[:16]}")
    met = orders_per_s >= TARGET_ORDERS_PER_S and p99 <= TARGET_P99_MS
    print(
        f"targets: >= {TARGET_ORDERS_PER_S:.0f} orders/s and p99 <= {TARGET_P99_MS:.0f} ms: "
        + ("met" if met else "MISSED")
    )
    if profiler:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(20)
        print(out.getvalue())
    print(f"orders_per_s={orders_per_s:.1f} p99_ms={p99:.2f}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as exc:
        print(f"bench/selection.py: {exc}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print("bench/selection.py: interrupted.", file=sys.stderr)
        sys.exit(130)
