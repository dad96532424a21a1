import datetime

import pytest

from routing.models import Depot, Gate, VehicleGroup
from tests.factories import order_payload

DAY = datetime.date(2030, 6, 3)  # a Monday


@pytest.fixture
def depot(db):
    return Depot.objects.create(name="Glostrup hub", latitude=55.6645, longitude=12.4013)


@pytest.fixture
def vans(depot):
    return VehicleGroup.objects.create(
        name="Van",
        depot=depot,
        vehicle_type="van",
        vehicles=2,
        max_weight_kg=800,
        max_volume_m3=8,
        max_colli=100,
        max_stops=20,
        max_duration_s=10 * 3600,
        cost_per_km=4,
        cost_per_hour=300,
        cost_per_vehicle=500,
        break_after_s=4 * 3600,
        break_duration_s=1800,
    )


@pytest.fixture
def gate(depot):
    return Gate.objects.create(
        name="Gate 1",
        depot=depot,
        slots=[
            {"start": "07:00", "end": "07:30", "departures": 1},
            {"start": "08:00", "end": "08:30", "departures": 1},
        ],
    )


def routed_payload(index: int, **overrides) -> dict:
    """An order delivered on DAY between 09:00 and 15:00 somewhere around Copenhagen."""
    payload = order_payload(
        pickupTimeFrame=None,
        deliveryTimeFrame={
            "from": f"{DAY.isoformat()}T09:00:00+02:00",
            "to": f"{DAY.isoformat()}T15:00:00+02:00",
        },
        **overrides,
    )
    payload["deliveryLocation"]["position"] = {
        "latitude": 55.64 + (index % 7) * 0.01,
        "longitude": 12.45 + (index % 5) * 0.02,
    }
    for collo in payload["collis"]:
        collo["tags"] = []
    return payload
