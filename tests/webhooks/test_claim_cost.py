"""A batch of deliveries costs the same at any backlog: claiming and settling it take a fixed
number of statements, and the claim reaches its rows through the primary key, whatever the
size of the table and whatever its statistics say."""

import json
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from webhooks import sending, services
from webhooks.catalogue import CATALOGUE
from webhooks.models import Delivery, DeliveryStatus, Event, Subscription

pytestmark = pytest.mark.django_db

BACKLOG = 100_000
# The table the backlog is in: reading it whole, or by anything but the rows' keys, is what
# makes a batch cost more as the backlog grows.
BACKLOG_TABLE = Delivery._meta.db_table


def _events(shipper, count: int) -> list[Event]:
    version = CATALOGUE["OrderCreated"].latest_version
    now = timezone.now()
    return Event.objects.bulk_create(
        Event(
            type="OrderCreated",
            version=version,
            live_mode=False,
            date_time=now,
            data={"n": n},
            shipper=shipper,
            entity_type="ORDER",
            entity_id=str(n),
            root_entity_type="ORDER",
            root_entity_id=str(n),
        )
        for n in range(count)
    )


def _deliveries(events, subscriptions) -> list[str]:
    now = timezone.now()
    rows = Delivery.objects.bulk_create(
        (
            Delivery(event=e, subscription=s, version=e.version, next_attempt_at=now)
            for e in events
            for s in subscriptions
        ),
        batch_size=5_000,
    )
    return [str(d.id) for d in rows]


@pytest.fixture
def receivers(shipper_a, httpserver) -> list[Subscription]:
    """One receiver that takes every message, one that fails every one (a retry to settle)."""
    httpserver.expect_request("/ok").respond_with_data("ok")
    httpserver.expect_request("/down").respond_with_data("down", status=503)
    return [
        services.subscription_create(
            shipper=shipper_a, live_mode=False, url=httpserver.url_for(path), event_types=["*"]
        )
        for path in ("/ok", "/down")
    ]


def _statements_to_send(delivery_ids: list[str]) -> int:
    with CaptureQueriesContext(connection) as captured:
        sent = sending.deliveries_send(delivery_ids=delivery_ids)
    assert sent == len(delivery_ids)
    return len(captured.captured_queries)


def test_it_claims_and_settles_ten_or_a_hundred_deliveries_in_the_same_statements(
    shipper_a, receivers, django_assert_max_num_queries
):
    small = _deliveries(_events(shipper_a, 5), receivers)
    large = _deliveries(_events(shipper_a, 50), receivers)

    for_ten = _statements_to_send(small)
    with django_assert_max_num_queries(for_ten):
        _statements_to_send(large)
    # PostgreSQL 9: claim; deliveries with their events, then subscriptions; attempts, the
    # delivered, the retried, the newly failing subscription; a savepoint and its release.
    # SQLite finds and claims in two, in a transaction of their own: 12.
    assert for_ten <= 12

    assert len(small) == 10 and len(large) == 100
    assert Delivery.objects.filter(status=DeliveryStatus.DELIVERED).count() == 55
    assert Delivery.objects.filter(status=DeliveryStatus.RETRYING).count() == 55


def _scans(plan: dict):
    yield plan
    for child in plan.get("Plans", ()):
        yield from _scans(child)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="plans are PostgreSQL's")
def test_it_claims_through_the_primary_key_on_a_fresh_hundred_thousand_row_backlog(
    shipper_a, receivers
):
    # A backlog written just now: no ANALYZE, so the planner sees a fresh table's statistics.
    subscriptions = receivers + Subscription.objects.bulk_create(
        Subscription(
            shipper=shipper_a,
            live_mode=False,
            url=f"https://receiver-{n}.example/hooks",
            event_types=["*"],
            secret="whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        )
        for n in range(98)
    )
    ids = _deliveries(_events(shipper_a, BACKLOG // 100), subscriptions)
    assert Delivery.objects.filter(status=DeliveryStatus.PENDING).count() == BACKLOG
    batch = ids[-100:]
    Delivery.objects.filter(id__in=ids[:1000]).update(
        status=DeliveryStatus.RETRYING, next_attempt_at=timezone.now() - timedelta(minutes=1)
    )
    plans = []

    def explain_first(execute, sql, params, many, context):
        if not many and not sql.lstrip().upper().startswith(("SAVEPOINT", "RELEASE")):
            execute("EXPLAIN (FORMAT JSON) " + sql, params, many, context)
            plan = context["cursor"].fetchone()[0]
            plans.append((sql, plan if isinstance(plan, list) else json.loads(plan)))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(explain_first):
        claimed = sending.deliveries_claim(delivery_ids=batch)

    assert len(claimed) == 100
    assert plans
    for sql, plan in plans:
        for node in _scans(plan[0]["Plan"]):
            reads = "Scan" in node["Node Type"]  # not the UPDATE writing what it found
            if reads and node.get("Relation Name") == BACKLOG_TABLE:
                assert _through_primary_key(node), (sql, plan)


def _through_primary_key(node: dict) -> bool:
    """An index scan of the primary key, or a heap scan of the primary key's bitmap."""
    if node["Node Type"] in ("Index Scan", "Index Only Scan"):
        return node["Index Name"].endswith("_pkey")
    if node["Node Type"] == "Bitmap Heap Scan":
        indexes = [n for n in _scans(node) if n["Node Type"] == "Bitmap Index Scan"]
        return bool(indexes) and all(n["Index Name"].endswith("_pkey") for n in indexes)
    return False
