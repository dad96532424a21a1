"""Webhook delivery benchmark: orders written in bulk, their events sent by real Celery workers.

Run from the project root::

    .venv/bin/python bench/webhooks.py [--events N] [--subscriptions K] [--workers W]

It prepares a fresh PostgreSQL database (``DATABASE_URL``, default
``postgres://postgres@127.0.0.1:5432/waybill_bench_webhooks``; dropped and created anew, then
migrated), starts a receiver (``bench/receiver.py``, aiohttp on a free port of 127.0.0.1,
answering 200 at once and recording ``webhook-id``, path and ``time.time()`` of each request)
and subscribes one test-mode shipper to it K times (``/hooks/<k>?token=…``, every event type).
It starts W Celery workers (``python -m celery -A config worker``) on a deliveries queue of
its own, ``bench-<run id>-deliveries`` on ``REDIS_URL`` (default ``redis://127.0.0.1:6379/0``;
``CELERY_QUEUE_PREFIX=bench-<run id>-``, so the planning the orders ask for waits, unconsumed,
on ``bench-<run id>-planning``), and waits until every one answers a ping. Then, in this process:

1. warm-up: ``--warmup`` orders in one transaction, until every delivery is ``delivered``
   (each worker process opens its database connection and imports what sending needs);
2. N orders through ``orders.bulk.order_bulk_upsert`` in transactions of
   ``--txn-orders`` (default 500), as fast as this process writes them; each commit stores
   the transaction's ``OrderCreated`` events, fans them out to N×K deliveries and queues
   ``webhooks.tasks.deliveries_send`` tasks of 100 ids; ``time.time()`` is taken in the
   first on-commit callback, before the tasks are queued;
3. waits (``--timeout``) until the receiver has seen every (event, subscription) pair,
   checks that every Delivery row is ``delivered``, and computes
   ``deliveries_per_s = N×K / (last first-receipt − first commit)`` and the delay of each
   delivery (its first receipt − its transaction's commit), p50 and p99;
4. stops the workers and posts the same N×K envelopes (same sizes, same headers, signed
   beforehand) to the same receiver from one bare asyncio process
   (``python -m bench.receiver post``) with one pooled client and as many requests in
   flight as the workers can have (50 per task slot): ``ratio = deliveries_per_s /
   bare posts_per_s``.

Pool: ``--pool prefork`` with ``--concurrency 1`` (the defaults) gives each of the W workers
one child process that runs the tasks while the parent talks to the broker. On the 2-core
machine it beat ``--pool solo`` (the task runs in the process that also consumes) in each of
three paired runs: 875-980 against 730-870 deliveries/s, and 1,460-1,555 against
1,070-1,475 when draining a backlog. Two workers of two children each (4 processes on 2
cores) were no faster than two of one.

``--profile DIR`` runs each (solo) worker under cProfile and prints where its time went:
claim, prepare (envelope and signature), post and settle. Figures under cProfile are slower;
the split is what it is for.

The report also says where the CPU went while it ran (``/proc``: this process, the workers,
the receiver, PostgreSQL, Redis). Read it with the writer's line: the workers cannot send
faster than the writer queues (orders/s × K), and the writer, the workers, PostgreSQL and the
receiver share the same cores. ``--drain`` adds a phase that measures the workers alone: N
more orders written with the workers paused (``cancel_consumer``), then the time from
resuming them (``add_consumer``) to the last receipt.

Every process it starts is stopped on the way out (errors and Ctrl-C too), every wait is
bounded, and all traffic goes to 127.0.0.1. The last line of the report is::

    deliveries_per_s=X p99_s=Y ratio=Z

Helpers are imported from ``bench/ingest.py`` (pure functions, no side effect at import).
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import pstats
import random
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parent.parent
if __name__ == "__main__":
    # Run as a script, Python puts bench/ first on sys.path, and this file would then be
    # imported as the ``webhooks`` app. The project root goes there instead.
    sys.path[:1] = [str(ROOT)]

from bench.ingest import (  # noqa: E402
    BenchError,
    database_ensure,
    free_port,
    interrupts_raise,
    make_order,
    manage,
    percentile,
    redacted,
)

HOST = "127.0.0.1"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/waybill_bench_webhooks"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
STATS_PATH = "/_bench/stats"
RECORDS_PATH = "/_bench/records"
RESET_PATH = "/_bench/reset"
# webhooks.sending: connections per task's client session (limit_per_host).
CONNECTIONS_PER_TASK = 50

# Time limits, in seconds: nothing here may hang.
STARTUP_TIMEOUT = 60.0  # receiver answering, workers answering a ping
WARMUP_TIMEOUT = 120.0
SHUTDOWN_TIMEOUT = 20.0  # a process's graceful stop, before it is killed
HTTP_TIMEOUT = 30.0  # one request to the receiver's /_bench/ endpoints
POLL_INTERVAL = 0.1


# --- Processes ------------------------------------------------------------------------------


@dataclass
class Process:
    name: str
    popen: subprocess.Popen[bytes]
    log: IO[str]

    def tail(self, limit: int = 3000) -> str:
        self.log.flush()
        return Path(self.log.name).read_text(encoding="utf-8", errors="replace")[-limit:]

    def check_alive(self) -> None:
        if self.popen.poll() is not None:
            raise BenchError(f"{self.name} exited ({self.popen.returncode}):\n{self.tail()}")


def process_start(name: str, command: list[str], env: dict[str, str]) -> Process:
    log = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed by process_stop
        "w+", prefix=f"bench-{name}-", suffix=".log", delete=False, encoding="utf-8"
    )
    # Its own session: a Ctrl-C at the terminal reaches this script, which stops the process
    # (and, through its process group, its children) instead of reaching it directly.
    popen = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    return Process(name, popen, log)


def process_stop(process: Process, *, signalled: bool = False) -> None:
    """SIGTERM (unless ``signalled`` already), a bounded wait, then SIGKILL to its group."""
    popen = process.popen
    try:
        if popen.poll() is None:
            if not signalled:
                popen.send_signal(signal.SIGTERM)
            try:
                popen.wait(timeout=SHUTDOWN_TIMEOUT)
            except subprocess.TimeoutExpired:
                print(f"{process.name} did not stop within {SHUTDOWN_TIMEOUT:.0f} s; killing it.")
        # Children (prefork) that outlived their parent go too.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(popen.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            popen.wait(timeout=10)
    finally:
        process.log.close()
        Path(process.log.name).unlink(missing_ok=True)


def http_get_json(port: int, path: str, method: str = "GET") -> Any:
    conn = http.client.HTTPConnection(HOST, port, timeout=HTTP_TIMEOUT)
    try:
        conn.request(method, path)
        response = conn.getresponse()
        body = response.read()
        if response.status != 200:
            raise BenchError(f"receiver: {method} {path} answered {response.status}")
        return json.loads(body)
    finally:
        conn.close()


@dataclass
class Receiver:
    process: Process
    port: int

    def stats(self) -> dict[str, int]:
        return http_get_json(self.port, STATS_PATH)

    def records(self) -> list[tuple[str, str, float]]:
        return [tuple(r) for r in http_get_json(self.port, RECORDS_PATH)]

    def reset(self) -> None:
        http_get_json(self.port, RESET_PATH, method="POST")


@contextmanager
def receiver_process(env: dict[str, str]) -> Iterator[Receiver]:
    port = free_port()
    command = [sys.executable, "-m", "bench.receiver", "serve", "--port", str(port)]
    process = process_start("receiver", command, env)
    try:
        receiver = Receiver(process, port)
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            process.check_alive()
            try:
                receiver.stats()
                break
            except (OSError, http.client.HTTPException) as exc:
                if time.monotonic() > deadline:
                    raise BenchError(f"the receiver did not answer: {exc}") from exc
                time.sleep(0.1)
        yield receiver
    finally:
        process_stop(process)


@dataclass
class Workers:
    processes: list[Process]
    names: list[str]
    description: str

    def check_alive(self) -> None:
        for process in self.processes:
            process.check_alive()

    @property
    def groups(self) -> dict[int, str]:
        return {p.popen.pid: "celery workers" for p in self.processes}

    def consume(self, queue: str, *, on: bool) -> None:
        """Start or stop every worker consuming ``queue``; waits for each to confirm."""
        from config.celery_app import app

        command = app.control.add_consumer if on else app.control.cancel_consumer
        replies = command(queue, destination=self.names, reply=True, timeout=5.0) or []
        answered = {name for reply in replies for name in reply}
        if answered != set(self.names):
            raise BenchError(f"workers {sorted(set(self.names) - answered)} did not confirm")


def worker_command(
    queue: str, name: str, pool: str, concurrency: int, profile: Path | None
) -> list[str]:
    command = [sys.executable]
    if profile is not None:
        command += ["-m", "cProfile", "-o", str(profile)]
    command += [
        "-m",
        "celery",
        "-A",
        "config",
        "worker",
        "-Q",
        queue,
        "-n",
        name,
        "--pool",
        pool,
        "-l",
        "info",
        "--without-heartbeat",
        "--without-gossip",
        "--without-mingle",
    ]
    if pool != "solo":
        command += ["--concurrency", str(concurrency), "-O", "fair"]
    return command


@contextmanager
def celery_workers(
    env: dict[str, str],
    *,
    queue: str,
    run_id: str,
    count: int,
    pool: str,
    concurrency: int,
    profile_dir: Path | None,
) -> Iterator[Workers]:
    from config.celery_app import app

    processes: list[Process] = []
    names = [f"w{i}.{run_id}@bench" for i in range(count)]
    try:
        for index, name in enumerate(names):
            profile = profile_dir / f"worker-{index}.prof" if profile_dir else None
            command = worker_command(queue, name, pool, concurrency, profile)
            processes.append(process_start(f"worker-{index}", command, env))
        kind = "solo" if pool == "solo" else f"{pool}, concurrency {concurrency}"
        workers = Workers(processes, names, f"{count} worker processes ({kind})")
        deadline = time.monotonic() + STARTUP_TIMEOUT
        waiting = set(names)
        while waiting:
            workers.check_alive()
            if time.monotonic() > deadline:
                raise BenchError(f"workers {sorted(waiting)} did not answer a ping in time")
            for reply in app.control.ping(destination=sorted(waiting), timeout=1.0) or []:
                waiting -= set(reply)
        yield workers
    finally:
        # Every worker gets SIGTERM at once, so their warm shutdowns overlap.
        for process in processes:
            if process.popen.poll() is None:
                process.popen.send_signal(signal.SIGTERM)
        for process in processes:
            process_stop(process, signalled=True)


# --- Setup ----------------------------------------------------------------------------------


def bench_env(database_url: str, redis_url: str, queue_prefix: str) -> dict[str, str]:
    env = dict(os.environ)
    env["DATABASE_URL"] = database_url
    env["REDIS_URL"] = redis_url
    env["CELERY_QUEUE_PREFIX"] = queue_prefix
    env["WEBHOOK_ALLOW_PRIVATE_TARGETS"] = "true"
    env["DEBUG"] = "false"
    env["DJANGO_SETTINGS_MODULE"] = "config.settings"
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env["PYTHONUNBUFFERED"] = "1"
    return env


def redis_cleanup(redis_url: str, queue_prefix: str) -> None:
    """Drop what kombu left in Redis for this run's queues (their lists and bindings)."""
    import redis

    with contextlib.suppress(redis.RedisError):
        client = redis.Redis.from_url(redis_url, socket_timeout=5, socket_connect_timeout=5)
        keys = list(client.scan_iter(match=f"*{queue_prefix}*", count=1000))
        if keys:
            client.delete(*keys)
        client.close()


def tenant_create(run_id: str, port: int, count: int) -> tuple[Any, list[Any]]:
    """One test-mode shipper of this run, subscribed ``count`` times to the receiver."""
    from accounts.services import shipper_get_or_create
    from webhooks.services import subscription_create

    shipper = shipper_get_or_create(slug=f"bench-webhooks-{run_id}", name="Bench Webhooks")
    subscriptions = [
        subscription_create(
            shipper=shipper,
            live_mode=False,
            url=f"http://{HOST}:{port}/hooks/{k}?token={secrets.token_hex(8)}",
            event_types=["*"],
            description=f"bench {run_id} #{k}",
        )
        for k in range(count)
    ]
    return shipper, subscriptions


def order_specs(run_id: str, phase: str, count: int, seed: int) -> list[tuple[int, dict]]:
    """Validated specs, as the bulk endpoint hands them to ``order_bulk_upsert``."""
    from orders.api.serializers import order_spec_from

    rng = random.Random(seed)
    first_day = date.today() + timedelta(days=1)
    specs = []
    for index in range(count):
        day = first_day + timedelta(days=index % 14)
        order = make_order(rng, f"{run_id}-{phase}-{index:06d}", index, day)
        specs.append((index, order_spec_from(order)))
    return specs


# --- Writing orders -------------------------------------------------------------------------


@dataclass
class Commit:
    at: float  # time.time() right after the commit, before its tasks are queued
    orders: int
    write_s: float  # the transaction, from its first statement to its commit
    event_ids: list[str] = field(default_factory=list)


def orders_write(shipper, specs: list[tuple[int, dict]], txn_orders: int) -> list[Commit]:
    """Write ``specs`` in transactions of ``txn_orders``; one Commit per transaction."""
    from django.db import transaction

    from orders.bulk import order_bulk_upsert
    from webhooks.models import Event

    commits: list[Commit] = []
    created_ids: list[list[str]] = []
    for start in range(0, len(specs), txn_orders):
        chunk = specs[start : start + txn_orders]
        stamp: list[float] = []
        began = time.perf_counter()
        with transaction.atomic():
            # The first on-commit callback: it runs before those that queue the tasks.
            transaction.on_commit(lambda stamp=stamp: stamp.append(time.time()))
            results = order_bulk_upsert(
                shipper=shipper, live_mode=False, specs=chunk, actor="bench"
            )
        write_s = time.perf_counter() - began
        failed = [r for r in results if r.outcome != "created"]
        if failed:
            raise BenchError(f"order_bulk_upsert: {len(failed)} not created; {failed[0]}")
        commits.append(Commit(stamp[0], len(chunk), write_s))
        created_ids.append([str(r.order.id) for r in results])
    # Read back after the clock: the events of each transaction's orders.
    for commit, order_ids in zip(commits, created_ids, strict=True):
        commit.event_ids = [
            str(i)
            for i in Event.objects.filter(
                type="OrderCreated", root_entity_type="ORDER", root_entity_id__in=order_ids
            ).values_list("id", flat=True)
        ]
        if len(commit.event_ids) != commit.orders:
            raise BenchError(f"{commit.orders} orders but {len(commit.event_ids)} events")
    return commits


def delivery_statuses(event_ids: Sequence[str]) -> Counter[str]:
    from django.db.models import Count

    from webhooks.models import Delivery

    counts: Counter[str] = Counter()
    for start in range(0, len(event_ids), 5000):
        rows = (
            Delivery.objects.filter(event_id__in=event_ids[start : start + 5000])
            .values("status")
            .annotate(n=Count("id"))
            .order_by()
        )
        for row in rows:
            counts[row["status"]] += row["n"]
    return counts


# --- Waiting and measuring ------------------------------------------------------------------


def wait_delivered(
    receiver: Receiver,
    workers: Workers,
    expected: set[tuple[str, str]],
    timeout: float,
) -> list[tuple[str, str, float]]:
    """Poll the receiver until it saw every expected (webhook-id, path); its records."""
    deadline = time.monotonic() + timeout
    while True:
        workers.check_alive()
        receiver.process.check_alive()
        if receiver.stats()["distinct"] >= len(expected):
            records = receiver.records()
            seen = {(msg_id, path) for msg_id, path, _ in records}
            missing = expected - seen
            if not missing:
                return records
        if time.monotonic() > deadline:
            stats = receiver.stats()
            raise BenchError(
                f"not every delivery arrived within {timeout:g} s: the receiver saw "
                f"{stats['distinct']} distinct of {len(expected)} expected"
            )
        time.sleep(POLL_INTERVAL)


def wait_db_settled(event_ids: Sequence[str], expected: int, timeout: float) -> Counter[str]:
    """The receiver answers before the worker settles: wait for the rows to say so too."""
    deadline = time.monotonic() + timeout
    while True:
        counts = delivery_statuses(event_ids)
        if counts.get("delivered", 0) >= expected or time.monotonic() > deadline:
            return counts
        time.sleep(POLL_INTERVAL)


@dataclass
class Measurement:
    pairs: int
    receipts: int
    first_commit: float
    last_commit: float
    last_receipt: float
    delays: list[float]

    @property
    def span_s(self) -> float:
        return self.last_receipt - self.first_commit

    @property
    def per_s(self) -> float:
        return self.pairs / self.span_s if self.span_s > 0 else 0.0


def measure(
    commits: list[Commit], records: list[tuple[str, str, float]], paths: set[str]
) -> Measurement:
    committed_at = {event_id: c.at for c in commits for event_id in c.event_ids}
    first_receipt: dict[tuple[str, str], float] = {}
    receipts = 0
    for msg_id, path, at in records:
        if msg_id not in committed_at or path not in paths:
            continue
        receipts += 1
        key = (msg_id, path)
        if key not in first_receipt or at < first_receipt[key]:
            first_receipt[key] = at
    delays = [at - committed_at[msg_id] for (msg_id, _), at in first_receipt.items()]
    return Measurement(
        pairs=len(first_receipt),
        receipts=receipts,
        first_commit=min(c.at for c in commits),
        last_commit=max(c.at for c in commits),
        last_receipt=max(first_receipt.values()),
        delays=delays,
    )


def attempt_durations_ms(event_ids: Sequence[str]) -> list[int]:
    from webhooks.models import DeliveryAttempt

    durations: list[int] = []
    for start in range(0, len(event_ids), 5000):
        durations += DeliveryAttempt.objects.filter(
            delivery__event_id__in=event_ids[start : start + 5000]
        ).values_list("duration_ms", flat=True)
    return durations


# --- The workers alone: draining a backlog --------------------------------------------------


@dataclass
class Drain:
    pairs: int
    write_s: float
    span_s: float  # from the workers' resumption to the last first-receipt
    statuses: Counter[str]
    cpu: list[str]

    @property
    def per_s(self) -> float:
        return self.pairs / self.span_s if self.span_s > 0 else 0.0

    def describe(self, txn_orders: int) -> list[str]:
        return [
            f"Drain (--drain): {self.pairs} deliveries queued while the workers were paused "
            f"(written in {self.write_s:.2f} s, transactions of {txn_orders}), then sent in "
            f"{self.span_s:.2f} s = {self.per_s:.1f} deliveries/s; rows {dict(self.statuses)}",
            *self.cpu,
        ]


def drain_run(
    args: argparse.Namespace,
    run_id: str,
    shipper: Any,
    workers: Workers,
    receiver: Receiver,
    queue: str,
    paths: set[str],
    groups: dict[int, str],
) -> Drain | None:
    """The workers' own rate: queue a backlog with consumption paused, then let them at it."""
    if not args.drain:
        return None
    specs = order_specs(run_id, "drain", args.events, seed=7)
    receiver.reset()
    workers.consume(queue, on=False)
    began = time.perf_counter()
    commits = orders_write(shipper, specs, args.txn_orders)
    write_s = time.perf_counter() - began
    event_ids = [e for c in commits for e in c.event_ids]
    expected = {(e, p) for e in event_ids for p in paths}
    before = CpuSnapshot.take(groups)
    resumed = time.time()
    workers.consume(queue, on=True)
    records = wait_delivered(receiver, workers, expected, args.timeout)
    after = CpuSnapshot.take(groups)
    first: dict[tuple[str, str], float] = {}
    for msg_id, path, at in records:
        key = (msg_id, path)
        if key in expected and (key not in first or at < first[key]):
            first[key] = at
    statuses = wait_db_settled(event_ids, len(expected), 30.0)
    return Drain(
        len(expected), write_s, max(first.values()) - resumed, statuses, after.since(before)
    )


# --- Where the CPU went -----------------------------------------------------------------------

CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _proc_stat(pid: str) -> tuple[str, int, float] | None:
    """(command name, process group, CPU seconds of it and its reaped children) of one pid."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    name = text[text.index("(") + 1 : text.rindex(")")]
    fields = text[text.rindex(")") + 2 :].split()
    # fields[0] is the state (stat field 3): pgrp is field 5, utime..cstime fields 14-17.
    ticks = sum(int(v) for v in fields[11:15])
    return name, int(fields[2]), ticks / CLOCK_TICKS


@dataclass
class CpuSnapshot:
    """CPU seconds per part of the benchmark, read from /proc (Linux only; empty elsewhere)."""

    by_part: dict[str, float]
    busy: float  # the whole machine, every core
    wall: float

    @classmethod
    def take(cls, groups: dict[int, str]) -> CpuSnapshot:
        by_part: dict[str, float] = Counter()
        busy = 0.0
        try:
            pids = [p for p in os.listdir("/proc") if p.isdigit()]
            cpu = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
            values = [int(v) for v in cpu]
            busy = (sum(values) - values[3] - values[4]) / CLOCK_TICKS  # minus idle, iowait
        except (OSError, ValueError, IndexError):
            pids = []
        me = os.getpid()
        for pid in pids:
            stat = _proc_stat(pid)
            if stat is None:
                continue
            name, pgrp, seconds = stat
            if int(pid) == me:
                part = "writer (this process)"
            elif pgrp in groups:
                part = groups[pgrp]
            elif name == "postgres":
                part = "postgres"
            elif name.startswith("redis-server"):
                part = "redis"
            else:
                continue
            by_part[part] += seconds
        return cls(dict(by_part), busy, time.monotonic())

    def since(self, before: CpuSnapshot) -> list[str]:
        if not self.busy:
            return ["  (no /proc: not measured)"]
        wall = self.wall - before.wall
        busy = self.busy - before.busy
        cores = os.cpu_count() or 1
        lines = [
            f"  CPU over {wall:.2f} s: machine {busy:.2f} s busy of {wall * cores:.2f} s "
            f"({cores} cores)"
        ]
        shown = 0.0
        for part in sorted(
            self.by_part, key=lambda p: -(self.by_part[p] - before.by_part.get(p, 0))
        ):
            spent = self.by_part[part] - before.by_part.get(part, 0.0)
            shown += spent
            lines.append(
                f"    {part:<24} {spent:6.2f} s  {spent / busy * 100 if busy else 0:5.1f} %"
            )
        lines.append(f"    {'other':<24} {busy - shown:6.2f} s")
        return lines


# --- The limit: a bare sender ---------------------------------------------------------------


def bare_bodies_write(event_ids: Sequence[str], handle: IO[str]) -> tuple[int, int]:
    """The deliveries' own envelopes and signed headers, as JSON lines; (count, mean size)."""
    from django.utils import timezone

    from webhooks.models import Delivery
    from webhooks.sending import envelope_json, signed_headers, signing_secrets

    now = timezone.now()
    count = size = 0
    for start in range(0, len(event_ids), 2000):
        deliveries = Delivery.objects.filter(
            event_id__in=event_ids[start : start + 2000]
        ).select_related("event", "subscription")
        for delivery in deliveries:
            body = envelope_json(delivery)
            headers = signed_headers(
                msg_id=str(delivery.event_id),
                body=body,
                keys=signing_secrets(delivery.subscription, now),
                at=now,
            )
            line = {"url": delivery.subscription.url, "headers": headers, "body": body}
            handle.write(json.dumps(line, ensure_ascii=False) + "\n")
            count += 1
            size += len(body.encode("utf-8"))
    handle.flush()
    return count, size // max(count, 1)


def bare_post(env: dict[str, str], bodies: Path, connections: int, timeout: float) -> dict:
    command = [
        sys.executable,
        "-m",
        "bench.receiver",
        "post",
        "--bodies",
        str(bodies),
        "--connections",
        str(connections),
    ]
    try:
        done = subprocess.run(
            command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired as exc:
        raise BenchError(f"the bare sender took over {timeout:.0f} s") from exc
    if done.returncode != 0:
        raise BenchError(f"the bare sender failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# --- Profile --------------------------------------------------------------------------------

PROFILED = {
    "claim": "deliveries_claim",
    "prepare (envelope + sign)": "_prepare",
    "post (HTTP)": "post_messages",
    "settle": "_settle",
}


def profile_split(profile_dir: Path) -> list[str]:
    files = sorted(str(p) for p in profile_dir.glob("worker-*.prof"))
    if not files:
        return ["  (no profile written)"]
    stats = pstats.Stats(*files)
    by_name: dict[str, float] = {}
    total = 0.0
    for (filename, _, function), row in stats.stats.items():  # type: ignore[attr-defined]
        cumulative = row[3]
        if filename.endswith("webhooks/sending.py"):
            by_name[function] = by_name.get(function, 0.0) + cumulative
        if filename.endswith("webhooks/tasks.py") and function == "deliveries_send":
            total += cumulative
    lines = [f"  task deliveries_send, all workers: {total:.2f} s cumulative"]
    for label, function in PROFILED.items():
        spent = by_name.get(function, 0.0)
        share = spent / total * 100 if total else 0.0
        lines.append(f"    {label:<26} {spent:7.2f} s  {share:5.1f} %")
    lines.append(f"  profiles: {', '.join(files)} (open with python -m pstats)")
    return lines


# --- Main -----------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=5000, help="orders, one event each (5000)")
    parser.add_argument(
        "--subscriptions", type=int, default=2, help="subscriptions to the receiver (2)"
    )
    parser.add_argument("--workers", type=int, default=2, help="Celery worker processes (2)")
    parser.add_argument(
        "--pool",
        choices=["prefork", "solo", "threads"],
        default="prefork",
        help=(
            "Celery pool (prefork): prefork and threads run --concurrency tasks per worker, "
            "solo runs them in the consuming process itself; prefork measured faster"
        ),
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        default=1,
        help="pool processes or threads per worker (1; solo ignores it)",
    )
    parser.add_argument("--txn-orders", type=int, default=500, help="orders per transaction (500)")
    parser.add_argument(
        "--warmup", type=int, default=200, help="orders written and delivered before (200)"
    )
    parser.add_argument(
        "--timeout", type=float, default=300.0, help="seconds to wait for the deliveries (300)"
    )
    parser.add_argument(
        "--bare-connections",
        type=int,
        default=0,
        help="requests in flight for the bare sender (0: 50 per worker task slot)",
    )
    parser.add_argument(
        "--profile",
        metavar="DIR",
        type=Path,
        help="run the workers under cProfile, write DIR/worker-<n>.prof, print the split",
    )
    parser.add_argument(
        "--drain",
        action="store_true",
        help=(
            "then also queue N more orders' deliveries with the workers paused and time how "
            "fast they send them: their rate without the writer competing for the cores"
        ),
    )
    parser.add_argument(
        "--keep-database",
        action="store_true",
        help="keep the benchmark database of earlier runs instead of starting anew",
    )
    args = parser.parse_args(argv)
    for name in ("events", "subscriptions", "workers", "concurrency", "txn_orders"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.warmup < 0 or args.bare_connections < 0:
        parser.error("--warmup and --bare-connections must not be negative")
    if args.profile and args.pool != "solo":
        parser.error("--profile needs --pool solo (cProfile sees the worker's own process)")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    interrupts_raise()
    database_url = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    redis_url = os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL
    run_id = f"{time.strftime('%Y%m%d%H%M%S')}{secrets.token_hex(2)}"
    queue_prefix = f"bench-{run_id}-"
    queue = f"{queue_prefix}deliveries"
    env = bench_env(database_url, redis_url, queue_prefix)
    # This process writes the orders and queues the tasks: the same settings as the workers.
    os.environ.update(env)
    slots = args.workers * (1 if args.pool == "solo" else args.concurrency)
    bare_connections = args.bare_connections or CONNECTIONS_PER_TASK * slots
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)
        for old in args.profile.glob("worker-*.prof"):
            old.unlink()

    print(f"database: {redacted(database_url)}; broker: {redacted(redis_url)}, queue {queue}")
    database_ensure(database_url, fresh=not args.keep_database)
    manage(env, "migrate", "--noinput")
    print("  migrated")

    import django

    django.setup()

    try:
        return run(args, env, run_id, queue, bare_connections)
    finally:
        redis_cleanup(redis_url, queue_prefix)


def run(
    args: argparse.Namespace,
    env: dict[str, str],
    run_id: str,
    queue: str,
    bare_connections: int,
) -> int:
    n_pairs = args.events * args.subscriptions
    warm_specs = order_specs(run_id, "warm", args.warmup, seed=1)
    specs = order_specs(run_id, "bench", args.events, seed=20261124)
    print(f"run {run_id}: {args.events} orders validated (plus {args.warmup} for the warm-up)")

    with receiver_process(env) as receiver:
        shipper, subscriptions = tenant_create(run_id, receiver.port, args.subscriptions)
        paths = {"/hooks/" + str(k) for k in range(args.subscriptions)}
        print(f"receiver on {HOST}:{receiver.port}; {args.subscriptions} subscriptions")

        with celery_workers(
            env,
            queue=queue,
            run_id=run_id,
            count=args.workers,
            pool=args.pool,
            concurrency=args.concurrency,
            profile_dir=args.profile,
        ) as workers:
            print(f"celery: {workers.description} on queue {queue}, all answering")

            if warm_specs:
                warm = orders_write(shipper, warm_specs, len(warm_specs))
                warm_ids = [e for c in warm for e in c.event_ids]
                warm_pairs = {(e, p) for e in warm_ids for p in paths}
                wait_delivered(receiver, workers, warm_pairs, WARMUP_TIMEOUT)
                wait_db_settled(warm_ids, len(warm_pairs), WARMUP_TIMEOUT)
                print(f"  warm-up: {len(warm_pairs)} deliveries done")
            receiver.reset()

            groups = {**workers.groups, receiver.process.popen.pid: "receiver"}
            cpu_before = CpuSnapshot.take(groups)
            began = time.perf_counter()
            commits = orders_write(shipper, specs, args.txn_orders)
            write_s = time.perf_counter() - began
            event_ids = [e for c in commits for e in c.event_ids]
            expected = {(e, p) for e in event_ids for p in paths}
            records = wait_delivered(receiver, workers, expected, args.timeout)
            cpu_after = CpuSnapshot.take(groups)
            result = measure(commits, records, paths)
            statuses = wait_db_settled(event_ids, n_pairs, 30.0)
            drain = drain_run(args, run_id, shipper, workers, receiver, queue, paths, groups)
        # The workers are stopped here (and their profiles written).

        durations = attempt_durations_ms(event_ids)
        attempts = len(durations)

        with tempfile.NamedTemporaryFile(
            "w", prefix="bench-webhook-bodies-", suffix=".jsonl", encoding="utf-8"
        ) as bodies:
            count, mean_size = bare_bodies_write(event_ids, bodies)
            receiver.reset()
            bare = bare_post(env, Path(bodies.name), bare_connections, args.timeout)
        bare_seen = receiver.stats()

    bare_per_s = bare["posts"] / bare["wall_s"] if bare["wall_s"] > 0 else float("nan")
    ratio = result.per_s / bare_per_s if bare_per_s else float("nan")
    p99 = percentile(result.delays, 99)
    delivered = statuses.get("delivered", 0)
    problems = []
    if delivered != n_pairs or sum(statuses.values()) != n_pairs:
        problems.append(f"Delivery rows: {dict(statuses)}, expected {n_pairs} delivered")
    if drain is not None and drain.statuses.get("delivered", 0) != drain.pairs:
        problems.append(f"drain: Delivery rows {dict(drain.statuses)}, expected {drain.pairs}")
    if bare["ok"] != bare["posts"] or bare_seen["requests"] < bare["posts"]:
        problems.append(
            f"bare sender: {bare['ok']} of {bare['posts']} answered 2xx, receiver saw "
            f"{bare_seen['requests']}; {bare['errors']}"
        )

    print()
    print(
        f"Webhooks: {args.events} events × {args.subscriptions} subscriptions = {n_pairs} "
        f"deliveries, {workers.description}"
    )
    orders_per_s = args.events / write_s
    print(
        f"  writer: {len(commits)} transactions of up to {args.txn_orders} orders in "
        f"{write_s:.2f} s = {orders_per_s:.0f} orders/s, which queue "
        f"{orders_per_s * args.subscriptions:.0f} deliveries/s (the most the workers can "
        f"send); per transaction "
        f"{min(c.write_s for c in commits):.2f}-{max(c.write_s for c in commits):.2f} s"
    )
    print(
        f"  first commit → last commit {result.last_commit - result.first_commit:.2f} s, "
        f"→ last delivery {result.span_s:.2f} s (drain after the last commit "
        f"{result.last_receipt - result.last_commit:.2f} s)"
    )
    print(f"  deliveries/s: {result.per_s:.1f}")
    print(
        "  delay commit → receipt s: "
        + "  ".join(f"p{p} {percentile(result.delays, p):.3f}" for p in (50, 90, 99))
        + f"  max {max(result.delays):.3f}"
    )
    print(
        f"  receipts {result.receipts} for {result.pairs} pairs "
        f"({result.receipts - result.pairs} duplicates); attempts {attempts}; "
        f"rows {dict(statuses)}"
    )
    if durations:
        print(
            "  attempt duration ms (worker side, send → answer): "
            + "  ".join(f"p{p} {percentile(durations, p):.0f}" for p in (50, 99))
        )
    print("\n".join(cpu_after.since(cpu_before)))
    if drain is not None:
        print("\n".join(drain.describe(args.txn_orders)))
    print(
        f"Bare aiohttp sender (one process, {bare_connections} in flight, same {count} "
        f"bodies, mean {mean_size} bytes, same headers): {bare['posts']} posts in "
        f"{bare['wall_s']:.2f} s = {bare_per_s:.1f} posts/s"
    )
    print(f"ratio deliveries/bare: {ratio:.2f}")
    if args.profile:
        print("Worker profile (cProfile, cumulative):")
        print("\n".join(profile_split(args.profile)))
    for problem in problems:
        print(f"PROBLEM: {problem}")
    print(f"deliveries_per_s={result.per_s:.1f} p99_s={p99:.3f} ratio={ratio:.2f}")
    return 1 if problems else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as exc:
        print(f"bench/webhooks.py: {exc}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print("bench/webhooks.py: interrupted; its processes are stopped.", file=sys.stderr)
        sys.exit(130)
