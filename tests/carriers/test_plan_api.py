import threading
from decimal import Decimal

import pytest
from django.db import connection, connections

from carriers.models import CapacityLoad, Plan
from carriers.services import orders_plan
from orders.models import Order
from tests.factories import CarrierFactory, ServiceFactory


@pytest.mark.django_db
def test_the_plan_is_pending_until_the_planner_has_run(create_order, client_a):
    order = create_order()

    body = client_a.get(f"/api/v1/orders/{order['id']}/plan").json()

    assert body["status"] == "pending"
    assert body["plan"] is None


@pytest.mark.django_db
def test_the_plan_says_how_when_and_with_whom(create_order, client_a, client_b, shipper_b):
    service = ServiceFactory()
    ServiceFactory(rate={"per_collo": Decimal("50")})
    ServiceFactory(max_collis=1)
    mine = [create_order() for _ in range(3)]
    theirs = create_order(client=client_b)
    orders_plan(order_ids=[o["id"] for o in [*mine, theirs]])

    body = client_a.get(f"/api/v1/orders/{mine[0]['id']}/plan").json()

    assert body["status"] == "planned"
    plan = body["plan"]
    assert plan["service"]["code"] == service.code
    assert plan["carrier"]["slug"] == service.carrier.slug
    assert plan["policy"] == "cheapest" and plan["decidedBy"] == "waybill:planner"
    assert plan["price"]["currency"] == "DKK"
    assert plan["promisedPickup"]["from"] and plan["promisedDelivery"]["to"]
    assert body["optionsConsidered"] == 3
    assert [r["reasons"][0]["code"] for r in body["rejections"]] == ["too-many-collis"]
    # The shipper's own orders by reference, the other shipper's only as a count.
    assert body["sharedWith"] == {
        "orders": sorted([mine[1]["creatorOrderId"], mine[2]["creatorOrderId"]]),
        "otherOrders": 1,
    }
    assert theirs["creatorOrderId"] not in str(body)
    assert theirs["id"] not in str(body)


@pytest.mark.django_db
def test_another_shippers_plan_and_quotes_are_not_found(create_order, client_b):
    ServiceFactory()
    order = create_order()
    orders_plan(order_ids=[order["id"]])

    for path in ("plan", "quotes"):
        response = client_b.get(f"/api/v1/orders/{order['id']}/{path}")
        assert response.status_code == 404
        assert response.json()["type"] == "not_found"


@pytest.mark.django_db
def test_a_live_key_does_not_see_a_test_orders_plan(create_order, client_a_live):
    order = create_order()

    assert client_a_live.get(f"/api/v1/orders/{order['id']}/plan").status_code == 404


@pytest.mark.django_db
def test_quotes_list_the_options_and_book_nothing(create_order, client_a):
    cheap = ServiceFactory(rate={"per_collo": Decimal("1")}, daily_capacity_orders=5)
    ServiceFactory(max_total_weight_kg=Decimal("0.5"))
    order = create_order()

    body = client_a.get(f"/api/v1/orders/{order['id']}/quotes").json()

    assert body["wouldChoose"]["service"]["code"] == cheap.code
    assert len(body["options"]) == 1
    assert body["options"][0]["priceBreakdown"]["total"] == body["options"][0]["price"]["amount"]
    assert body["rejections"][0]["reasons"][0]["code"] == "over-weight"
    assert not CapacityLoad.objects.exists()
    assert not Plan.objects.exists()


@pytest.mark.django_db
def test_the_carrier_sees_its_manifest_and_nothing_else(create_order, carrier_client, carrier):
    own = ServiceFactory(carrier=carrier, rate={"per_collo": Decimal("1")}, max_collis=2)
    ServiceFactory(rate={"per_collo": Decimal("9")})
    mine = create_order()
    other = create_order(collis=[{"barcode": f"X{i}", "weight": "1"} for i in range(3)])
    orders_plan(order_ids=[mine["id"], other["id"]])

    body = carrier_client.get("/api/v1/carrier/orders").json()

    assert [e["order"]["id"] for e in body["results"]] == [mine["id"]]
    entry = body["results"][0]
    assert entry["service"]["code"] == own.code
    assert entry["delivery"]["location"]["address"]["postalCode"] == "2300"
    assert entry["pickup"]["timeFrame"] is None
    assert len(entry["collis"]) == 2
    day = entry["pickupDay"]
    assert carrier_client.get(f"/api/v1/carrier/orders?pickupDay={day}").json()["results"]
    assert not carrier_client.get("/api/v1/carrier/orders?pickupDay=2020-01-01").json()["results"]
    assert carrier_client.get("/api/v1/carrier/orders?status=planned").json()["results"]
    assert not carrier_client.get("/api/v1/carrier/orders?status=delivered").json()["results"]


@pytest.mark.django_db
def test_the_manifest_answers_bad_filters_with_400_naming_them(carrier_client):
    response = carrier_client.get("/api/v1/carrier/orders?pickupDay=2026-02-30&status=lost")

    assert response.status_code == 400
    assert {e["field"] for e in response.json()["errors"]} == {"pickupDay", "status"}


@pytest.mark.django_db
def test_the_manifest_is_for_carrier_keys_only(client_a):
    assert client_a.get("/api/v1/carrier/orders").status_code == 403


@pytest.mark.django_db
def test_a_carrier_does_not_see_another_carriers_orders(create_order, carrier_client):
    ServiceFactory(carrier=CarrierFactory())
    order = create_order()
    orders_plan(order_ids=[order["id"]])

    assert carrier_client.get("/api/v1/carrier/orders").json()["results"] == []


@pytest.mark.django_db(transaction=True)
def test_concurrent_planning_never_overbooks_a_day(create_order):
    if connection.vendor != "postgresql":
        pytest.skip("concurrency is proven on PostgreSQL")
    capacity, workers = 7, 24
    tight = ServiceFactory(daily_capacity_orders=capacity, rate={"per_collo": Decimal("1")})
    ServiceFactory(rate={"per_collo": Decimal("9")})
    ids = [create_order()["id"] for _ in range(workers)]
    barrier = threading.Barrier(workers)
    errors: list[Exception] = []

    def plan(order_id):
        barrier.wait()
        try:
            orders_plan(order_ids=[order_id])
        except Exception as exc:  # noqa: BLE001  collected and asserted below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=plan, args=(i,)) for i in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    on_tight = Plan.objects.filter(is_current=True, service=tight).count()
    assert on_tight == capacity
    assert CapacityLoad.objects.get(service=tight).orders == capacity
    assert Order.objects.filter(id__in=ids, status="planned").count() == workers
