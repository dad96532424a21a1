"""The demo carriers' services, areas and rate cards (DKK, Copenhagen and Denmark)."""

from __future__ import annotations

from datetime import date, time
from decimal import Decimal
from typing import Any

from carriers.models import AreaKind, Carrier, RateCard, Service, ServiceArea

CPH = (55.6761, 12.5683)


def _breaks(key: str, pairs: list[tuple[str, str]]) -> list[dict[str, str]]:
    return [{key: bound, "price": price} for bound, price in pairs]


# carrier slug → services: (code, name, settings, areas, rate card)
DEMO_SERVICES: dict[str, list[tuple[str, str, dict[str, Any], list[dict], dict[str, Any]]]] = {
    "cph-bikes": [
        (
            "bike-same-day",
            "Cargo bike, same day",
            {
                "transit_days": 0,
                "cutoff_time": time(14, 0),
                "pickup_window_start": time(8, 0),
                "pickup_window_end": time(17, 0),
                "handled_tags": ["Fuel:Electric"],
                "max_collo_weight_kg": 25,
                "max_total_weight_kg": 60,
                "max_collis": 4,
                "max_collo_length_cm": 120,
                "max_collo_width_cm": 80,
                "max_collo_height_cm": 80,
                "daily_capacity_orders": 40,
            },
            [{"kind": AreaKind.RADIUS, "radius_km": 9, "depot": CPH}],
            {
                "weight_breaks": _breaks("upToKg", [("5", "89"), ("15", "129"), ("25", "169")]),
                "per_kg": "4",
                "distance_bands": _breaks("upToKm", [("3", "0"), ("6", "25"), ("12", "45")]),
                "minimum_charge": "89",
            },
        ),
    ],
    "dao-express": [
        (
            "same-day",
            "Same day",
            {
                "transit_days": 0,
                "cutoff_time": time(12, 0),
                "pickup_window_start": time(8, 0),
                "pickup_window_end": time(16, 0),
                "max_collo_weight_kg": 30,
                "max_total_weight_kg": 90,
                "max_collis": 6,
                "daily_capacity_orders": 60,
            },
            [{"kind": AreaKind.POSTCODE_RANGE, "from": "1000", "to": "2990"}],
            {
                "weight_breaks": _breaks("upToKg", [("5", "119"), ("20", "169"), ("30", "199")]),
                "per_kg": "3",
                "per_collo": "10",
                "distance_bands": _breaks("upToKm", [("15", "0"), ("40", "40")]),
                "minimum_charge": "119",
                "fuel_surcharge_pct": "11.5",
            },
        ),
        (
            "next-day",
            "Next day parcel",
            {
                "transit_days": 1,
                "cutoff_time": time(16, 0),
                "pickup_window_start": time(8, 0),
                "pickup_window_end": time(18, 0),
                "max_collo_weight_kg": 30,
                "max_total_weight_kg": 120,
                "max_collis": 10,
            },
            [{"kind": AreaKind.COUNTRY}],
            {
                "weight_breaks": _breaks(
                    "upToKg", [("1", "39"), ("5", "49"), ("10", "59"), ("20", "79"), ("30", "99")]
                ),
                "per_kg": "2.5",
                "per_collo": "5",
                "minimum_charge": "39",
                "fuel_surcharge_pct": "11.5",
                "volumetric_kg_per_m3": "250",
            },
        ),
    ],
    "bring-cargo": [
        (
            "two-man-same-day",
            "Two-man delivery, same day",
            {
                "transit_days": 0,
                "cutoff_time": time(11, 0),
                "pickup_window_start": time(7, 0),
                "pickup_window_end": time(15, 0),
                "handled_tags": ["Handling:2person"],
                "max_collo_weight_kg": 150,
                "max_total_weight_kg": 400,
                "max_total_volume_m3": 4,
                "max_collis": 10,
                "daily_capacity_orders": 20,
            },
            [{"kind": AreaKind.POSTCODE_PREFIX, "prefixes": "1,2,3,4"}],
            {
                "weight_breaks": _breaks("upToKg", [("50", "495"), ("100", "695"), ("200", "995")]),
                "per_kg": "3.5",
                "per_collo": "25",
                "distance_bands": _breaks("upToKm", [("25", "0"), ("60", "150")]),
                "minimum_charge": "495",
                "fuel_surcharge_pct": "9",
            },
        ),
        (
            "cargo-next-day",
            "Cargo, next day",
            {
                "transit_days": 1,
                "cutoff_time": time(15, 0),
                "pickup_window_start": time(8, 0),
                "pickup_window_end": time(16, 0),
                "delivery_window_start": time(8, 0),
                "delivery_window_end": time(16, 0),
                "handled_tags": ["Handling:2person"],
                "max_collo_weight_kg": 300,
                "max_total_weight_kg": 1000,
                "max_collis": 20,
            },
            [{"kind": AreaKind.COUNTRY}],
            {
                "weight_breaks": _breaks("upToKg", [("30", "149"), ("100", "299"), ("300", "599")]),
                "per_kg": "1.8",
                "per_collo": "15",
                "tag_surcharges": {"Handling:2person": "250"},
                "minimum_charge": "149",
                "fuel_surcharge_pct": "9",
            },
        ),
    ],
}


def demo_services_load() -> int:
    """Create the demo services once (a carrier that has services is left alone)."""
    created = 0
    for slug, services in DEMO_SERVICES.items():
        carrier = Carrier.objects.filter(slug=slug).first()
        if carrier is None or carrier.services.exists():
            continue
        for code, name, fields, areas, rate in services:
            service = Service.objects.create(carrier=carrier, code=code, name=name, **fields)
            for area in areas:
                depot = area.get("depot", (None, None))
                ServiceArea.objects.create(
                    service=service,
                    kind=area["kind"],
                    country_code="" if area["kind"] == AreaKind.RADIUS else "DK",
                    postcode_from=area.get("from", ""),
                    postcode_to=area.get("to", ""),
                    postcode_prefixes=area.get("prefixes", ""),
                    depot_latitude=depot[0],
                    depot_longitude=depot[1],
                    radius_km=area.get("radius_km"),
                )
            RateCard.objects.create(
                service=service,
                valid_from=date(2026, 1, 1),
                **{k: Decimal(v) if isinstance(v, str) else v for k, v in rate.items()},
            )
            created += 1
    return created
