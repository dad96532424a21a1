"""Every key-authenticated endpoint, called as another tenant, shows nothing of the owner's.

The endpoints are found by walking Django's URL resolver, so a new endpoint is covered the
day it is added: one whose path names an object this test cannot make fails it until a
factory is added below, and one that neither takes a key nor is known to be staff-only
fails it until it is classified.
"""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Iterator
from decimal import Decimal

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.api.permissions import IsCarrier, IsShipper
from accounts.models import ApiKeyMode
from accounts.services import api_key_create
from accounts.tenancy import Tenant
from carriers.services import orders_plan
from finance import services as finance_services
from finance.audit import LineSpec
from orders.models import Order, OrderStatus
from routing.models import Depot, Gate, OptimizationJob, Route, Stop, VehicleGroup
from tests.carriers.conftest import plannable_payload
from tests.factories import CarrierFactory, ServiceFactory, ShipperFactory
from tracking.models import ProofOfDelivery
from webhooks.models import Delivery, Event, Subscription

pytestmark = pytest.mark.django_db

API_PREFIX = "api/v1/"
METHODS = ("get", "post", "put", "patch", "delete")
# Staff endpoints: session or basic auth, no API key. Their own permissions are tested in
# tests/routing; here it is enough that no key opens them.
STAFF_ONLY = {
    "routing-jobs",
    "routing-job",
    "routing-job-approve",
    "routing-job-cancel",
    "finance-cost-addition-approve",
    "finance-cost-addition-reject",
    "finance-invoice",
    "finance-invoice-approve",
    "finance-invoice-dispute",
    "finance-invoice-export",
}
# Writes that act on the caller's own tenancy whatever the path names: an upsert by the
# caller's own reference creates the caller's order, it never touches the owner's.
OWN_TENANCY_WRITES = {("order-ref", "put")}


def _endpoints(patterns=None, prefix: str = "") -> Iterator[tuple[str, URLPattern]]:
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(entry, URLResolver):
            yield from _endpoints(entry.url_patterns, prefix + str(entry.pattern))
        elif (prefix + str(entry.pattern)).startswith(API_PREFIX):
            yield prefix + str(entry.pattern), entry


def _key_client(*, mode: str = ApiKeyMode.TEST, **tenant) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key_create(mode=mode, **tenant).raw_key}")
    return client


def _route_with(order: Order) -> Route:
    """An approved route with one stop: the owner's order."""
    depot = Depot.objects.create(name="Hub", latitude=55.66, longitude=12.40)
    vans = VehicleGroup.objects.create(
        name="Van",
        depot=depot,
        vehicle_type="van",
        vehicles=1,
        max_weight_kg=800,
        max_volume_m3=8,
        max_colli=100,
        max_stops=20,
        max_duration_s=36000,
        cost_per_km=4,
        cost_per_hour=300,
        cost_per_vehicle=500,
    )
    gate = Gate.objects.create(
        name="Gate", depot=depot, slots=[{"start": "07:00", "end": "07:30", "departures": 1}]
    )
    job = OptimizationJob.objects.create(
        name="Isolation", date=datetime.date(2030, 6, 3), live_mode=False
    )
    start = timezone.now()
    route = Route.objects.create(
        job=job,
        slug="R-ISO-1",
        vehicle_group=vans,
        gate=gate,
        start_time=start,
        end_time=start + datetime.timedelta(hours=2),
        stops_count=1,
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
    Stop.objects.create(
        route=route,
        sequence=1,
        order=order,
        latitude=55.67,
        longitude=12.56,
        planned_arrival=start + datetime.timedelta(hours=1),
        eta=start + datetime.timedelta(hours=1),
    )
    return route


@pytest.fixture
def world():
    """Shipper A's test-mode data, reachable through every kind of detail route."""
    shipper_a = ShipperFactory(slug="tenant-a")
    carrier = CarrierFactory(slug="carrier-of-a")
    ServiceFactory(carrier=carrier)
    owner = _key_client(shipper=shipper_a)

    subscription = owner.post(
        "/api/v1/webhooks/subscriptions",
        {"url": "http://127.0.0.1:9/hooks", "eventTypes": ["*"], "description": "A's ERP"},
        format="json",
    )
    assert subscription.status_code == 201, subscription.json()
    created = owner.post("/api/v1/orders", plannable_payload(notes="A's"), format="json")
    assert created.status_code == 201, created.json()
    order = Order.objects.get(id=created.json()["id"])
    orders_plan(order_ids=[order.id])
    order.refresh_from_db()
    plan = order.plans.get(is_current=True)
    assert plan.carrier_id == carrier.id, "the owner's order must be on the carrier's manifest"
    route = _route_with(order)
    # A proof of delivery, so the POD reads have something to show their owner.
    ProofOfDelivery.objects.create(order=order, carrier=carrier, signed_by="A's receiver")
    # A cost addition and an invoice of the carrier on A's order, approved, so the shipper's
    # finance reads have something to show their owner.
    addition, _ = finance_services.cost_addition_request(
        carrier=carrier,
        live_mode=False,
        spec=finance_services.CostAdditionSpec(
            reference="CA-A", amount=Decimal("45.00"), currency=plan.currency or "DKK",
            reason_code="toll", order_reference=str(order.id),
        ),
        actor="test",
    )  # fmt: skip
    finance_services.cost_addition_approve(cost_addition=addition, actor="test")
    invoice, _ = finance_services.invoice_receive(
        carrier=carrier,
        live_mode=False,
        spec=finance_services.InvoiceSpec(
            number="INV-A", issue_date=datetime.date(2030, 7, 1),
            period_from=datetime.date(2030, 6, 1), period_to=datetime.date(2030, 6, 30),
            currency=plan.currency or "DKK",
            lines=[LineSpec(kind="order", reference=str(order.id), amount=Decimal("99.00"))],
        ),
        actor="test",
    )  # fmt: skip
    finance_services.invoice_approve(invoice=invoice, actor="test")
    order_event = owner.post(
        "/api/v1/order-events",
        {
            "event_reference": "A-1",
            "order_id": str(order.id),
            "event_type": "dispatched",
            "event_date": "2030-06-03T10:00:00Z",
        },
        format="json",
    )
    assert order_event.status_code == 201, order_event.json()
    tenant_a = Tenant.of_shipper(shipper_a, live_mode=False)
    event = Event.objects.of(tenant_a).first()
    delivery = Delivery.objects.of(tenant_a).first()
    assert event is not None and delivery is not None

    params = {
        "order_id": str(order.id),
        "creator_order_id": order.creator_order_id,
        "subscription_id": subscription.json()["id"],
        "event_id": str(event.id),
        "delivery_id": str(delivery.id),
        "route_id": str(route.id),
        "barcode": order.collis.first().barcode,
        "cost_addition_id": str(addition.id),
        "invoice_id": str(invoice.id),
        "order_event_id": order_event.json()["id"],
    }
    # A's rows by id: none may appear in an answer to anyone else.
    secrets = {str(order.id), str(plan.id), str(route.id), subscription.json()["id"]}
    secrets |= {str(addition.id), str(invoice.id), order_event.json()["id"]}
    secrets |= {str(i) for i in Event.objects.of(tenant_a).values_list("id", flat=True)}
    secrets |= {str(i) for i in Delivery.objects.of(tenant_a).values_list("id", flat=True)}
    return {
        "shipper": shipper_a,
        "carrier": carrier,
        "order": order,
        "subscription_id": subscription.json()["id"],
        "params": params,
        "secrets": secrets,
        "owners": {"shipper": owner, "carrier": _key_client(carrier=carrier)},
        "intruders": {
            "shipper": {
                "another shipper": _key_client(shipper=ShipperFactory(slug="tenant-b")),
                "the same shipper, live": _key_client(shipper=shipper_a, mode=ApiKeyMode.LIVE),
            },
            "carrier": {
                "another carrier": _key_client(carrier=CarrierFactory(slug="other-carrier")),
                "the same carrier, live": _key_client(carrier=carrier, mode=ApiKeyMode.LIVE),
            },
        },
    }


def _bodies(world) -> dict[tuple[str, str], object]:
    """Bodies an unscoped view would accept: so a missing scope shows as a 2xx, not a 400."""
    now = timezone.now()
    return {
        ("order-detail", "patch"): {"notes": "intruder"},
        ("order-cancel", "post"): {"reason": "intruder"},
        ("order-ref", "put"): plannable_payload(
            creatorOrderId=world["order"].creator_order_id, notes="intruder"
        ),
        ("order-list", "post"): plannable_payload(notes="intruder"),
        # By the shipper's reference: an id the answer echoes would read as a leak.
        ("carrier-events", "post"): {
            "id": "intruder-1",
            "type": "OrderDeliveryCompleted",
            "orderId": world["order"].creator_order_id,
            "timeOfEvent": now.isoformat(),
        },
        # By the shipper's reference too: an order id the answer echoes would read as a leak.
        ("carrier-cost-additions", "post"): {
            "reference": "intruder-ca",
            "orderId": world["order"].creator_order_id,
            "amount": "10.00",
            "currency": "DKK",
            "reasonCode": "other",
        },
        ("carrier-invoices", "post"): {
            "number": "intruder-inv",
            "issueDate": "2030-07-01",
            "period": {"from": "2030-06-01", "to": "2030-06-30"},
            "currency": "DKK",
            "lines": [
                {"kind": "order", "reference": world["order"].creator_order_id, "amount": "1"}
            ],
        },
        # By the shipper's reference: the intruder's own orders have no such one.
        **{
            (name, "post"): {
                "event_reference": "intruder",
                "order_id": world["order"].creator_order_id,
                "event_type": "disputed",
                "event_date": now.isoformat(),
            }
            for name in ("order-event-list", "create-order-event")
        },
        ("webhook-subscription-detail", "patch"): {"description": "intruder"},
        ("webhook-subscription-replay", "post"): {
            "from": (now - datetime.timedelta(days=1)).isoformat(),
            "to": (now + datetime.timedelta(days=1)).isoformat(),
        },
    }


def _call(client: APIClient, method: str, path: str, body=None) -> tuple[int, str]:
    if method == "get":
        response = client.get(path)
    else:
        response = getattr(client, method)(path, body, format="json")
    # errors="replace": a PDF (the ePOD) is bytes; its order id is in its plain metadata.
    return response.status_code, response.content.decode(errors="replace")


def _kind(view) -> str | None:
    permissions = set(getattr(view, "permission_classes", []))
    if IsShipper in permissions:
        return "shipper"
    return "carrier" if IsCarrier in permissions else None


def test_no_tenant_reaches_another_tenants_data(world):
    bodies = _bodies(world)
    failures: list[str] = []
    seen: set[str] = set()
    for route, pattern in _endpoints():
        view = getattr(pattern.callback, "view_class", None)
        name = pattern.name
        kind = _kind(view)
        if kind is None:
            if name not in STAFF_ONLY:
                failures.append(f"{route}: takes no key and is not known to be staff-only")
            continue
        seen.add(name)
        names = re.findall(r"<(?:\w+:)?(\w+)>", route)
        unknown = [n for n in names if n not in world["params"]]
        if unknown:
            failures.append(f"{route}: add a factory for {unknown} to this test")
            continue
        path = "/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda m: world["params"][m.group(1)], route)
        methods = [m for m in METHODS if hasattr(view, m)]

        # The owner reaches its object (the fixture is right, so a 404 below means scoping).
        if "get" in methods:
            status, text = _call(world["owners"][kind], "get", path)
            if status != 200 or (names and not any(s in text for s in world["secrets"])):
                failures.append(f"GET {path} as its owner: {status}, expected 200 with its data")

        other_kind = "carrier" if kind == "shipper" else "shipper"
        intruders = [(who, client, False) for who, client in world["intruders"][kind].items()]
        # The other kind's key is the owner's own carrier (or shipper): related, still refused.
        intruders.append((f"a {other_kind} key", world["owners"][other_kind], True))
        for who, client, wrong_kind in intruders:
            for method in methods:
                status, text = _call(client, method, path, bodies.get((name, method)))
                call = f"{method.upper()} {path} as {who}: {status}"
                # An id the caller sent may come back in the 404's message; any other is a leak.
                leaked = [s for s in world["secrets"] if s in text and s not in path]
                if leaked:
                    failures.append(f"{call}, answer shows the owner's {leaked}")
                if wrong_kind:
                    if status != 403:
                        failures.append(f"{call}, expected 403 for the wrong kind of key")
                elif names and (name, method) not in OWN_TENANCY_WRITES:
                    if status not in (403, 404):
                        failures.append(f"{call}, expected 404 for another tenant's object")
                elif status >= 500:
                    failures.append(call)

    assert not failures, "\n".join(failures)
    # The walk found the API, not an empty list: each app's endpoints were called.
    assert {"order-detail", "order-plan", "carrier-manifest", "route-detail"} <= seen
    assert {"event-detail", "webhook-delivery-replay", "webhook-subscription-test"} <= seen
    assert "carrier-events" in seen
    assert {
        "carrier-invoice",
        "carrier-cost-addition-evidence",
        "cost-additions",
        "invoices",
    } <= seen
    # And none of those calls changed what the owner has.
    order = Order.objects.get(id=world["order"].id)
    assert (order.notes, order.status) == ("A's", world["order"].status)
    assert order.status != OrderStatus.CANCELLED
    subscription = Subscription.objects.get(id=world["subscription_id"])
    assert subscription.description == "A's ERP"
    assert json.dumps(subscription.event_types) == '["*"]'


def test_a_tenant_of_a_kind_that_owns_nothing_here_sees_nothing(world):
    carrier = Tenant.of_carrier(world["carrier"], live_mode=False)
    shipper = Tenant.of_shipper(world["shipper"], live_mode=False)

    assert Order.objects.of(carrier).count() == 0
    assert Route.objects.of(carrier).count() == 0
    assert Order.objects.of(shipper).count() == 1
    assert Route.objects.of(shipper).count() == 1
    with pytest.raises(ValueError):
        Tenant(live_mode=False)
