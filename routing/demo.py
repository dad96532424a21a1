"""The demo fleet: a hub in Glostrup, vans, a two-man truck and cargo bikes, two gates."""

from __future__ import annotations

from datetime import date, time, timedelta

from routing.models import Depot, Gate, VehicleGroup

GROUPS = [
    {
        "name": "Van",
        "vehicle_type": "van",
        "vehicles": 4,
        "max_weight_kg": 800,
        "max_volume_m3": 8,
        "max_colli": 120,
        "max_stops": 25,
        "max_duration_s": 10 * 3600,
        "shift_start": time(7, 0),
        "shift_end": time(19, 0),
        "max_distance_m": 250_000,
        "cost_per_km": 4,
        "cost_per_hour": 320,
        "cost_per_vehicle": 600,
        "break_after_s": int(4.5 * 3600),
        "break_duration_s": 1800,
    },
    {
        "name": "Two-man truck",
        "vehicle_type": "truck",
        "vehicles": 2,
        "handled_tags": ["Handling:2person"],
        "max_weight_kg": 2000,
        "max_volume_m3": 18,
        "max_stops": 14,
        "shift_start": time(7, 0),
        "shift_end": time(19, 0),
        "cost_per_km": 6,
        "cost_per_hour": 640,
        "cost_per_vehicle": 1200,
        "break_after_s": int(4.5 * 3600),
        "break_duration_s": 2700,
    },
    {
        "name": "Cargo bike",
        "vehicle_type": "cargo-bike",
        "vehicles": 3,
        "max_weight_kg": 100,
        "max_volume_m3": 1,
        "max_stops": 12,
        "cost_per_km": 1,
        "cost_per_hour": 250,
        "cost_per_vehicle": 200,
        "shift_start": time(8, 0),
        "shift_end": time(16, 0),
    },
]


def demo_fleet_load(today: date) -> str:
    """Create the demo fleet once, and queue a job for the next weekday's deliveries."""
    if Depot.objects.exists():
        return "The demo fleet exists already."
    depot = Depot.objects.create(
        name="Glostrup hub",
        address="Køgevej 120, 2600 Glostrup",
        latitude=55.6645,
        longitude=12.4013,
    )
    groups = [VehicleGroup.objects.create(depot=depot, **g) for g in GROUPS]
    slots = [
        {"start": "07:00", "end": "07:30", "departures": 3},
        {"start": "07:30", "end": "08:00", "departures": 3},
        {"start": "08:00", "end": "08:30", "departures": 3},
    ]
    gates = [Gate.objects.create(name=f"Gate {n}", depot=depot, slots=slots) for n in (1, 2)]
    day = today + timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    from routing.services import job_create

    job = job_create(
        name=f"Copenhagen {day:%A}",
        day=day,
        live_mode=False,
        vehicle_groups=groups,
        gates=gates,
        time_budget_s=15,
        actor="demo",
    )
    return f"Demo fleet: 1 depot, {len(groups)} vehicle groups, 2 gates; job M{job.number} queued."
