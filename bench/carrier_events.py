"""Carrier events benchmark: events a carrier posts, accepted and applied, with their fan-out.

Run from the project root::

    .venv/bin/python bench/carrier_events.py [--orders N] [--batch-orders B] [--clients C]

It prepares a fresh PostgreSQL database (``DATABASE_URL``, default
``postgres://postgres@127.0.0.1:5432/waybill_bench_carrier_events``; dropped, created anew and
migrated), then, in this process (``django.setup()``):

- a carrier ``bench-carrier`` with a next-day service covering Denmark (area, rate card, as
  ``tests/factories.ServiceFactory``) and a test-mode API key of its own;
- a test-mode shipper subscribed once, to every event type, to a local receiver
  (``bench/receiver.py``, answering 200); no Celery worker runs: the fan-out measured is the
  Event and Delivery rows and the ``deliveries_send`` tasks queued on Redis (``REDIS_URL``,
  default ``redis://127.0.0.1:6379/0``, queues ``bench-<run id>-*``, dropped afterwards);
- N + B + warm-up orders (``bench/ingest.make_order``, with country codes, without time
  frames or handling tags) written through ``orders.bulk.order_bulk_upsert`` and planned on
  the bench carrier by ``carriers.services.orders_plan``.

Each order gets four compact canonical events (``{id, type, orderId, timeOfEvent,
position}``; no driver, whose compact shape the endpoint defines): pickup arrived, pickup
completed, delivery arrived, delivery completed, one minute apart; bodies are built before the
clock starts and listed stage by stage, so an order's events mostly arrive in order. gunicorn
serves ``config.wsgi:application`` with ``ROOT_URLCONF=bench.urls`` (as ``bench/ingest.py``
runs it) and the run measures:

1. ``POST /api/v1/carrier/events``: the 4×N events one per request from C client threads
   with keep-alive connections: events/s and latency;
2. ``POST /bench/bare``: the same bodies to a bare Django view that stores each in one row
   (``bench/bare.py``): ``ratio = events_per_s / bare per_s``;
3. ``POST /api/v1/carrier/events`` with ``{"events": [...]}`` batches of 1,000 (the 4×B
   events), one after the other from one client: ``batch_events_per_s``.

Then it checks in the database that every event is in the timeline (``TrackingEvent``), that
the orders reached ``delivered`` and how many outgoing events and deliveries the run stored.
The endpoint is issue 13's, written alongside this file: a first probe answering 404 or 501
stops the run at once with a message saying so. Every wait is bounded and every process
started is stopped on the way out. The last line of the report is::

    events_per_s=X p99_ms=Y batch_events_per_s=Z ratio=R
"""

from __future__ import annotations

import argparse
import copy
import http.client
import json
import os
import random
import secrets
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if __name__ == "__main__":
    # Run as a script, bench/ would come first on sys.path; the project root goes there.
    sys.path[:1] = [str(ROOT)]

from bench.ingest import (  # noqa: E402
    BARE_PATH,
    BenchError,
    PhaseResult,
    bare_table_ensure,
    database_ensure,
    describe_phase,
    encode,
    gunicorn,
    interrupts_raise,
    make_order,
    manage,
    percentile,
    redacted,
    run_concurrent,
)
from bench.webhooks import bench_env, receiver_process, redis_cleanup  # noqa: E402

HOST = "127.0.0.1"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/waybill_bench_carrier_events"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
EVENTS_PATH = "/api/v1/carrier/events"
CARRIER_SLUG = "bench-carrier"
BATCH_SIZE = 1000  # the endpoint's maximum
WARMUP_ORDERS = 25
STAGES = ("OrderPickupArrived", "OrderPickupCompleted", "OrderDeliveryArrived")
STAGES += ("OrderDeliveryCompleted",)

# Time limits, in seconds: nothing here may hang.
PROBE_TIMEOUT = 60.0
BATCH_REQUEST_TIMEOUT = 300.0


# --- Setup, in this process --------------------------------------------------------------------


def carrier_prepare(run_id: str) -> tuple[Any, str]:
    """The bench carrier, its Denmark-wide next-day service and a fresh test-mode key."""
    from accounts.services import api_key_create, carrier_get_or_create
    from carriers.models import AreaKind, RateCard, Service, ServiceArea

    carrier = carrier_get_or_create(slug=CARRIER_SLUG, name="Bench Carrier")
    service = Service.objects.create(
        carrier=carrier,
        code=f"next-day-{run_id}",
        name="Next day",
        transit_days=1,
        cutoff_time="23:59:59",
        operating_days=[1, 2, 3, 4, 5, 6, 7],
        pickup_window_start="00:00",
        pickup_window_end="23:59:59",
    )
    ServiceArea.objects.create(service=service, kind=AreaKind.COUNTRY, country_code="DK")
    RateCard.objects.create(
        service=service,
        valid_from=date(2020, 1, 1),
        currency="DKK",
        weight_breaks=[{"upToKg": "5", "price": "50.00"}, {"upToKg": "30", "price": "90.00"}],
        per_kg="2.00",
        per_collo="5.00",
    )
    issued = api_key_create(carrier=carrier, mode="test", name=f"bench {run_id}")
    return carrier, issued.raw_key


def shipper_prepare(run_id: str, receiver_port: int) -> Any:
    from accounts.services import shipper_get_or_create
    from webhooks.services import subscription_create

    shipper = shipper_get_or_create(slug=f"bench-events-{run_id}", name="Bench Events")
    subscription_create(
        shipper=shipper,
        live_mode=False,
        url=f"http://{HOST}:{receiver_port}/hooks/0?token={secrets.token_hex(8)}",
        event_types=["*"],
        description=f"bench {run_id}",
    )
    return shipper


def plannable(order: dict[str, Any]) -> dict[str, Any]:
    """A ``make_order`` order any Denmark-wide service takes: country codes, no time frames
    (the dates would have to meet the service's), no handling tags."""
    order = copy.deepcopy(order)
    for kind in ("pickupLocation", "deliveryLocation"):
        address = order[kind]["address"]
        address["countryCode"] = "DK"
        address["postalCode"] = address["secondary"].split()[0]
    order["pickupTimeFrame"] = order["deliveryTimeFrame"] = None
    for collo in order["collis"]:
        collo["tags"] = []
    return order


def orders_prepare(shipper: Any, carrier: Any, run_id: str, phase: str, count: int) -> list:
    """``count`` orders written and planned on the bench carrier; their ids."""
    from carriers.models import Plan
    from carriers.services import orders_plan
    from orders.api.serializers import order_spec_from
    from orders.bulk import order_bulk_upsert

    rng = random.Random(f"{run_id}-{phase}")
    first_day = date.today() + timedelta(days=1)
    ids = []
    for start in range(0, count, BATCH_SIZE):
        specs = [
            (i, order_spec_from(plannable(make_order(rng, f"{run_id}-{phase}-{n:06d}", n, day))))
            for i, n in enumerate(range(start, min(start + BATCH_SIZE, count)))
            for day in [first_day + timedelta(days=n % 7)]
        ]
        results = order_bulk_upsert(
            shipper=shipper, live_mode=False, specs=specs, actor="bench:carrier-events"
        )
        failed = [r for r in results if r.outcome != "created"]
        if failed:
            raise BenchError(f"{phase}: {len(failed)} orders not created; first: {failed[0]}")
        ids += [r.order.id for r in results]
    orders_plan(order_ids=ids)
    on_carrier = Plan.objects.filter(
        order_id__in=ids, is_current=True, status="planned", service__carrier=carrier
    ).count()
    if on_carrier != len(ids):
        sample = Plan.objects.filter(order_id__in=ids, is_current=True).exclude(status="planned")
        raise BenchError(
            f"{phase}: {on_carrier} of {len(ids)} orders planned on {CARRIER_SLUG}; "
            f"first other plan: {sample.values('status', 'unplanned_reasons').first()}"
        )
    return ids


def canonical_events(run_id: str, phase: str, order_ids: Sequence[Any]) -> list[dict]:
    """Four events per order, stage by stage (every order's first, then every order's second…)."""
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    rng = random.Random(f"{run_id}-{phase}-events")
    events = []
    for stage, kind in enumerate(STAGES):
        at = (start + timedelta(minutes=stage)).isoformat().replace("+00:00", "Z")
        for index, order_id in enumerate(order_ids):
            events.append(
                {
                    "id": f"{run_id}-{phase}-{index:06d}-{stage}",
                    "type": kind,
                    "orderId": str(order_id),
                    "timeOfEvent": at,
                    "position": {
                        "latitude": round(55.68 + rng.uniform(-0.05, 0.05), 6),
                        "longitude": round(12.57 + rng.uniform(-0.05, 0.05), 6),
                    },
                }
            )
    return events


# --- The endpoint -------------------------------------------------------------------------------


def probe(port: int, body: bytes, headers: dict[str, str]) -> int:
    """Post one new event; stop at once when the endpoint is not there yet. Returns the
    status a new event is answered with (201 or 202), which every later post must get."""
    conn = http.client.HTTPConnection(HOST, port, timeout=PROBE_TIMEOUT)
    try:
        conn.request("POST", EVENTS_PATH, body=body, headers=headers)
        response = conn.getresponse()
        text = response.read().decode("utf-8", "replace")[:1000]
    except (OSError, http.client.HTTPException) as exc:
        raise BenchError(f"POST {EVENTS_PATH} failed: {type(exc).__name__}: {exc}") from exc
    finally:
        conn.close()
    if response.status in (404, 501):
        raise BenchError(
            f"POST {EVENTS_PATH} answered {response.status}: the carrier events endpoint "
            f"(issue 13, part 1) is not in this checkout yet, or does not know the bench's "
            f"orders. Merge it and run again. Body: {text}"
        )
    if not 200 <= response.status < 300:
        raise BenchError(f"POST {EVENTS_PATH} answered {response.status}: {text}")
    return response.status


def item_failures(answer: Any) -> list[Any]:
    """Per-item results that say an item was not taken: a status of 400 or more, an
    ``error``/``errors`` key, or an outcome of error/rejected."""
    items = answer.get("results", []) if isinstance(answer, dict) else []
    bad = []
    for item in items:
        if not isinstance(item, dict):
            continue
        status = item.get("status")
        if (
            (isinstance(status, int) and status >= 400)
            or item.get("error")
            or item.get("errors")
            or str(item.get("outcome", "")).lower() in {"error", "rejected", "failed"}
        ):
            bad.append(item)
    return bad


@dataclass
class BatchResult:
    events: int
    wall_s: float
    batch_s: list[float]
    failures: list[str]

    @property
    def per_s(self) -> float:
        return self.events / self.wall_s if self.wall_s > 0 else 0.0


def run_batches(port: int, batches: Sequence[bytes], sizes: Sequence[int], key: str) -> BatchResult:
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    conn = http.client.HTTPConnection(HOST, port, timeout=BATCH_REQUEST_TIMEOUT)
    batch_s: list[float] = []
    failures: list[str] = []
    began = time.perf_counter()
    try:
        for number, (body, size) in enumerate(zip(batches, sizes, strict=True), start=1):
            t0 = time.perf_counter()
            try:
                conn.request("POST", EVENTS_PATH, body=body, headers=headers)
                response = conn.getresponse()
                payload = response.read()
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                failures.append(f"batch {number}: {type(exc).__name__}: {exc}")
                continue
            batch_s.append(time.perf_counter() - t0)
            text = payload.decode("utf-8", "replace")
            if not 200 <= response.status < 300:
                failures.append(f"batch {number}: HTTP {response.status}: {text[:2000]}")
                continue
            answer = json.loads(text)
            results = answer.get("results", []) if isinstance(answer, dict) else []
            bad = item_failures(answer)
            if len(results) != size or bad:
                failures.append(
                    f"batch {number}: {len(results)} results for {size} events, "
                    f"{len(bad)} not taken; first: {json.dumps(bad[:2])[:2000]}"
                )
    finally:
        wall = time.perf_counter() - began
        conn.close()
    return BatchResult(sum(sizes), wall, batch_s, failures)


# --- Checks and report ---------------------------------------------------------------------------


def applied_check(order_ids: Sequence[Any], events: int) -> tuple[dict[str, int], list[str]]:
    """What the database holds for these orders: timeline rows, statuses, outgoing events."""
    from django.db.models import Count

    from orders.models import Order
    from tracking.models import TrackingEvent
    from webhooks.models import Delivery, Event

    timeline = TrackingEvent.objects.filter(order_id__in=order_ids).count()
    statuses = dict(
        Order.objects.filter(id__in=order_ids)
        .values_list("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    outgoing = Event.objects.filter(root_entity_id__in=[str(i) for i in order_ids])
    figures = {
        "timeline": timeline,
        "outgoing_events": outgoing.count(),
        "deliveries": Delivery.objects.filter(event__in=outgoing).count(),
    }
    problems = []
    if timeline != events:
        problems.append(f"{timeline} timeline rows for {events} events posted")
    if statuses.get("delivered", 0) != len(order_ids):
        problems.append(f"order statuses {statuses}, expected all {len(order_ids)} delivered")
    return figures, problems


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=1000, help="orders for single posts (1000)")
    parser.add_argument(
        "--batch-orders", type=int, default=1250, help="orders for the batches (1250)"
    )
    parser.add_argument("--clients", type=int, default=8, help="concurrent client threads (8)")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers (3)")
    parser.add_argument(
        "--threads", type=int, default=1, help="threads per worker (1: sync workers)"
    )
    parser.add_argument(
        "--phase-timeout", type=float, default=900.0, help="seconds a phase may take (900)"
    )
    args = parser.parse_args(argv)
    for name in ("orders", "batch_orders", "clients", "workers", "threads"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    interrupts_raise()
    database_url = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    redis_url = os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL
    run_id = f"{time.strftime('%Y%m%d%H%M%S')}{secrets.token_hex(2)}"
    queue_prefix = f"bench-{run_id}-"
    env = {**bench_env(database_url, redis_url, queue_prefix), "ROOT_URLCONF": "bench.urls"}
    os.environ.update(env)  # this process writes the orders: the server's settings

    print(f"database: {redacted(database_url)}; broker: {redacted(redis_url)} ({queue_prefix}*)")
    database_ensure(database_url, fresh=True)
    manage(env, "migrate", "--noinput")
    bare_table_ensure(database_url)
    print("  created anew and migrated")

    import django

    django.setup()
    try:
        return run(args, env, run_id)
    finally:
        redis_cleanup(redis_url, queue_prefix)


def run(args: argparse.Namespace, env: dict[str, str], run_id: str) -> int:
    with receiver_process(env) as receiver:
        carrier, key = carrier_prepare(run_id)
        shipper = shipper_prepare(run_id, receiver.port)
        began = time.perf_counter()
        warm_ids = orders_prepare(shipper, carrier, run_id, "warm", WARMUP_ORDERS)
        single_ids = orders_prepare(shipper, carrier, run_id, "single", args.orders)
        batch_ids = orders_prepare(shipper, carrier, run_id, "batch", args.batch_orders)
        print(
            f"run {run_id}: {len(warm_ids) + len(single_ids) + len(batch_ids)} orders written "
            f"and planned on {CARRIER_SLUG} in {time.perf_counter() - began:.1f} s; one "
            f"subscription to the receiver on {HOST}:{receiver.port}"
        )
        warm_bodies = [encode(e) for e in canonical_events(run_id, "warm", warm_ids)]
        single_bodies = [encode(e) for e in canonical_events(run_id, "single", single_ids)]
        batch_events = canonical_events(run_id, "batch", batch_ids)
        batch_sizes = [
            len(batch_events[i : i + BATCH_SIZE]) for i in range(0, len(batch_events), BATCH_SIZE)
        ]
        batch_bodies = [
            encode({"events": batch_events[i : i + BATCH_SIZE]})
            for i in range(0, len(batch_events), BATCH_SIZE)
        ]
        api_headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        bare_headers = {"Content-Type": "application/json"}

        worker_class = "gthread" if args.threads > 1 else "sync"
        with gunicorn(env, args.workers, worker_class, args.threads) as server:
            print(f"gunicorn config.wsgi:application: {server.description}")
            accepted = probe(server.port, warm_bodies[0], api_headers)
            timeout = args.phase_timeout
            for path, headers, expect in (
                (EVENTS_PATH, api_headers, accepted),
                (BARE_PATH, bare_headers, 201),
            ):
                warm = run_concurrent(
                    "warm-up",
                    server.port,
                    path,
                    warm_bodies[1:],
                    headers,
                    args.clients,
                    expect,
                    300,
                )
                if warm.failures:
                    samples = "\n".join(warm.failure_samples)
                    raise BenchError(f"warm-up on {path} failed:\n{samples}")
            single = run_concurrent(
                "events",
                server.port,
                EVENTS_PATH,
                single_bodies,
                api_headers,
                args.clients,
                accepted,
                timeout,
            )
            bare = run_concurrent(
                "bare",
                server.port,
                BARE_PATH,
                single_bodies,
                bare_headers,
                args.clients,
                201,
                timeout,
            )
            batches = run_batches(server.port, batch_bodies, batch_sizes, key)

        posted = len(single_bodies) + len(batch_events)
        figures, problems = applied_check(single_ids + batch_ids, posted)
    return report(args, single, bare, batches, figures, problems)


def report(
    args: argparse.Namespace,
    single: PhaseResult,
    bare: PhaseResult,
    batches: BatchResult,
    figures: dict[str, int],
    problems: list[str],
) -> int:
    ratio = single.per_s / bare.per_s if bare.per_s else float("nan")
    print()
    print(f"POST {EVENTS_PATH}, one event per request ({args.clients} clients, keep-alive)")
    print("\n".join(describe_phase(single)))
    print(f"POST {BARE_PATH} (same bodies; Django + one INSERT)")
    print("\n".join(describe_phase(bare)))
    print(f"ratio events/bare: {ratio:.2f}")
    print(
        f"POST {EVENTS_PATH}, batches of {BATCH_SIZE}: {batches.events} events in "
        f"{len(batches.batch_s)} batches, one client: {batches.wall_s:.2f} s = "
        f"{batches.per_s:.1f} events/s"
    )
    if batches.batch_s:
        print(
            f"  per batch s: min {min(batches.batch_s):.2f}  median "
            f"{percentile(batches.batch_s, 50):.2f}  max {max(batches.batch_s):.2f}"
        )
    for failure in batches.failures[:5]:
        print(f"    {failure}")
    print(
        f"applied: {figures['timeline']} timeline rows; fan-out {figures['outgoing_events']} "
        f"outgoing events, {figures['deliveries']} deliveries (one subscription)"
    )
    failed = single.failures + bare.failures + len(batches.failures) + len(problems)
    for problem in problems:
        print(f"PROBLEM: {problem}")
    if failed:
        print(f"FAILURES: {failed} (see above); the figures are not trustworthy.")
    print(
        f"events_per_s={single.per_s:.1f} p99_ms={single.percentile_ms(99):.1f} "
        f"batch_events_per_s={batches.per_s:.1f} ratio={ratio:.2f}"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as exc:
        print(f"bench/carrier_events.py: {exc}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print("bench/carrier_events.py: interrupted; its processes are stopped.", file=sys.stderr)
        sys.exit(130)
