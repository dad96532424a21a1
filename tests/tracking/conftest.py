import copy
import datetime
import json
import uuid
from pathlib import Path

import pytest
from django.utils import timezone

from carriers.services import orders_plan
from orders.models import Order
from routing.models import Depot, Gate, OptimizationJob, Route, Stop, VehicleGroup
from tests.carriers.conftest import plannable_payload
from tests.conftest import _client
from tests.factories import ServiceFactory

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"  # copies of shared/fixtures
SEED_EVENTS = FIXTURES / "seed-events"
MALFORMED = FIXTURES / "seed-events-malformed"


def seed_fixture(name: str) -> dict:
    return json.loads(next(SEED_EVENTS.glob(f"{name}.v*.json")).read_text())


@pytest.fixture
def carrier_api(carrier):
    ServiceFactory(carrier=carrier)
    return _client(carrier=carrier)


@pytest.fixture
def carried_order(carrier_api, client_a):
    """An order planned onto the carrier (the only one with a service), in test mode."""

    def make(**overrides) -> Order:
        response = client_a.post("/api/v1/orders", plannable_payload(**overrides), format="json")
        assert response.status_code == 201, response.json()
        order = Order.objects.get(id=response.json()["id"])
        orders_plan(order_ids=[order.id])
        order.refresh_from_db()
        assert order.status == "planned", order.status
        return order

    return make


def route_for(orders: list[Order], operator) -> Route:
    """An approved route of a vehicle group ``operator`` drives, one stop per order."""
    depot = Depot.objects.create(name="Hub", latitude=55.66, longitude=12.40)
    vans = VehicleGroup.objects.create(
        name="Van", depot=depot, vehicle_type="van", vehicles=1, operator=operator
    )
    gate = Gate.objects.create(
        name="Gate", depot=depot, slots=[{"start": "07:00", "end": "07:30", "departures": 1}]
    )
    job = OptimizationJob.objects.create(name="Day", date=datetime.date(2030, 6, 3))
    start = timezone.now()
    route = Route.objects.create(
        job=job,
        slug=f"R-{uuid.uuid4().hex[:8]}",
        vehicle_group=vans,
        gate=gate,
        start_time=start,
        end_time=start + datetime.timedelta(hours=2),
        stops_count=len(orders),
        first_stop_task_time=0,
        duration=7200,
        distance_km=12.5,
        driving_duration=3600,
        waiting_time=0,
        task_time=300,
        break_time=0,
        weight=10,
        volume=0.1,
    )
    for sequence, order in enumerate(orders, start=1):
        Stop.objects.create(
            route=route,
            sequence=sequence,
            order=order,
            latitude=55.67,
            longitude=12.56,
            planned_arrival=start,
            eta=start,
        )
    return route


def _set(document: dict, path: str, value) -> None:
    *parents, last = path.split(".")
    node = document
    for part in parents:
        node = node.get(part) if isinstance(node, dict) else None
        if not isinstance(node, dict):
            return
    if last in node:
        node[last] = value


def aimed(document: dict, order: Order, *, route: Route | None = None, collo=None) -> dict:
    """The fixture as the platform would send it about ``order``: its references rewritten to
    the order (and its first collo, its route), a fresh event id; nothing else changed."""
    document = copy.deepcopy(document)
    collo = collo or order.collis.order_by("position").first()
    document["id"] = str(uuid.uuid4())
    for path in ("data.order.id", "data.internalOrderId"):
        _set(document, path, str(order.id))
    for path in ("data.order.creatorOrderId", "data.ownerOrderId", "data.orderId"):
        _set(document, path, order.creator_order_id)
    _set(document, "data.Collo.OrderId", order.creator_order_id)
    for path in ("data.barcode", "data.collo.barcode", "data.Collo.Barcode"):
        _set(document, path, collo.barcode)
    for path in ("data.colloId", "data.collo.id"):
        _set(document, path, str(collo.id))
    if route is not None:
        _set(document, "data.route.id", str(route.id))
        for entry in document["data"].get("orders") or []:
            entry["id"], entry["creatorOrderId"] = str(order.id), order.creator_order_id
    return document
