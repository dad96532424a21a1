"""Order ingestion benchmark: Waybill under gunicorn, fed over HTTP by concurrent clients.

Run from the project root::

    .venv/bin/python bench/ingest.py [--orders N] [--clients C] [--workers W] [--bulk-total T]

It prepares a PostgreSQL database (``DATABASE_URL``, default
``postgres://postgres@127.0.0.1:5432/waybill_bench``; created if missing, then migrated),
issues a test API key for the shipper ``bench-shipper``, starts gunicorn on a free port of
127.0.0.1 with ``ROOT_URLCONF=bench.urls`` (W sync workers; ``--worker-class gthread``
measured no faster and had twice the p99) and measures three things:

1. ``POST /api/v1/orders``: N orders (3 lines, 2 collis each) from C client threads, each
   with its own keep-alive ``http.client.HTTPConnection``; throughput and latency.
2. ``POST /bench/bare``: the same N bodies to a bare Django view that stores each body in
   one row (``bench/bare.py``); the floor that Django, gunicorn and PostgreSQL set.
3. ``POST /api/v1/orders/bulk``: T orders in chunks of 1,000 from one client, one after the
   other; the total wall clock (the ``bulk_10k_s`` figure). Then T more orders with the
   chunks shared by ``--bulk-clients`` connections side by side (default 2, one per core).

Request bodies are built before any timing starts. Every run uses fresh creatorOrderIds
(prefixed with a run id), so nothing has to be cleaned up between runs. The last line of
the report is machine-readable::

    orders_per_s=X p99_ms=Y ratio=Z bulk_10k_s=W
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import random
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from types import FrameType
from typing import Any, TextIO
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/waybill_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
SHIPPER_SLUG = "bench-shipper"
BULK_CHUNK = 1000  # the bulk endpoint's maximum
WARMUP_REQUESTS = 100

ORDERS_PATH = "/api/v1/orders"
BULK_PATH = "/api/v1/orders/bulk"
BARE_PATH = "/bench/bare"
HEALTH_PATH = "/healthz"

BARE_TABLE_SQL = (
    "CREATE TABLE IF NOT EXISTS bench_bare_order (id bigserial PRIMARY KEY, body jsonb NOT NULL)"
)

# Time limits, in seconds: nothing here may hang.
COMMAND_TIMEOUT = 600.0  # manage.py migrate / create_api_key
DB_CONNECT_TIMEOUT = 10
STARTUP_TIMEOUT = 60.0  # gunicorn answering /healthz with 200
REQUEST_TIMEOUT = 60.0  # one single-order or bare request
BULK_REQUEST_TIMEOUT = 300.0  # one bulk chunk of 1,000 orders
SHUTDOWN_TIMEOUT = 30.0  # gunicorn's graceful stop, before it is killed
GUNICORN_TIMEOUT = 300  # gunicorn's own worker timeout (a bulk chunk must fit)

MAX_FAILURE_SAMPLES = 5


class BenchError(Exception):
    """The benchmark cannot go on; the message says why."""


# --- Request bodies -----------------------------------------------------------------------

_WAREHOUSE = {
    "address": {"primary": "Søtorvet 5", "secondary": "1371 København K"},
    "position": {"latitude": 55.685396, "longitude": 12.564829},
    "timeZone": "europe/copenhagen",
}
_CITIES = [
    ("2300 København S", 55.662128, 12.577972),
    ("2100 København Ø", 55.706389, 12.578611),
    ("2200 København N", 55.695833, 12.549167),
    ("2450 København SV", 55.650000, 12.533333),
    ("2800 Kongens Lyngby", 55.770000, 12.503333),
    ("2900 Hellerup", 55.731111, 12.570000),
]
_STREETS = [
    "Artillerivej",
    "Amagerbrogade",
    "Nørrebrogade",
    "Østerbrogade",
    "Vesterbrogade",
    "Strandvejen",
    "Lyngbyvej",
    "Jagtvej",
]
_NAMES = [
    "Jane Doe",
    "Mette Hansen",
    "Lars Nielsen",
    "Sofie Jensen",
    "Anders Pedersen",
    "Ida Christensen",
]
_PRODUCTS = [
    ("SKU-1001", "Oak dining table", "4995.00"),
    ("SKU-2002", "Dining chair", "899.00"),
    ("SKU-3003", "Bookcase, walnut", "2499.00"),
    ("SKU-4004", "Floor lamp", "649.50"),
    ("SKU-5005", "Wool rug 200x300", "3195.00"),
    ("SKU-6006", "Sideboard", "5795.00"),
    ("SKU-7007", "Armchair", "3999.00"),
]


def make_order(rng: random.Random, ref: str, serial: int, day: date) -> dict[str, Any]:
    """One order in the API's shape (as ``orders.api.examples.ORDER_REQUEST``)."""
    city, lat, lon = rng.choice(_CITIES)
    name = rng.choice(_NAMES)
    start_hour = rng.randint(8, 16)
    iso_day = day.isoformat()
    products = rng.sample(_PRODUCTS, 3)
    return {
        "creatorOrderId": ref,
        "relationalId": f"SO-{100000 + serial}",
        "tags": ["Outbound", "Mainland"],
        "notes": "Ring twice; the door bell is broken.",
        "pickupLocation": _WAREHOUSE,
        "deliveryLocation": {
            "address": {
                "primary": f"{rng.choice(_STREETS)} {rng.randint(1, 240)}",
                "secondary": city,
            },
            "position": {
                "latitude": round(lat + rng.uniform(-0.01, 0.01), 6),
                "longitude": round(lon + rng.uniform(-0.01, 0.01), 6),
            },
            "timeZone": "Europe/Copenhagen",
        },
        "pickupContact": {
            "preferredName": "Warehouse desk",
            "phone": {"countrycallingCode": "45", "nationalNumber": "32121212"},
            "email": "pickup@example.dk",
        },
        "deliveryContact": {
            "preferredName": name.split()[0],
            "fullName": name,
            "phone": {
                "countrycallingCode": "45",
                "nationalNumber": str(rng.randint(20_000_000, 99_999_999)),
            },
            "email": f"customer{serial}@example.dk",
            "company": None,
        },
        "pickupTimeFrame": {
            "from": f"{iso_day}T{start_hour - 1:02d}:00:00+01:00",
            "to": f"{iso_day}T{start_hour:02d}:00:00+01:00",
        },
        "deliveryTimeFrame": {
            "from": f"{iso_day}T{start_hour + 1:02d}:00:00+01:00",
            "to": f"{iso_day}T{start_hour + 3:02d}:00:00+01:00",
        },
        "lines": [
            {
                "reference": reference,
                "description": description,
                "quantity": rng.randint(1, 4),
                "price": price,
                "taxRate": "25",
            }
            for reference, description, price in products
        ],
        "collis": [
            {
                "barcode": f"57{serial:010d}1",
                "weight": f"{rng.uniform(5, 45):.1f}",
                "volume": f"{rng.uniform(0.1, 0.6):.2f}",
                "dimensions": {
                    "length": rng.randint(60, 200),
                    "width": rng.randint(40, 100),
                    "height": rng.randint(10, 80),
                },
                "tags": ["Handling:2person"],
            },
            {
                "barcode": f"57{serial:010d}2",
                "weight": f"{rng.uniform(1, 25):.1f}",
                "volume": f"{rng.uniform(0.02, 0.3):.2f}",
                "tags": [],
            },
        ],
    }


class OrderFactory:
    """Orders with creatorOrderIds unique to this run: ``<run id>-<phase>-<serial>``."""

    def __init__(self, run_id: str, seed: int = 20261124) -> None:
        self.run_id = run_id
        self.rng = random.Random(seed)
        self.serial = 0
        self.first_day = date.today() + timedelta(days=1)

    def orders(self, phase: str, count: int) -> list[dict[str, Any]]:
        result = []
        for index in range(count):
            self.serial += 1
            day = self.first_day + timedelta(days=self.serial % 14)
            ref = f"{self.run_id}-{phase}-{index:06d}"
            result.append(make_order(self.rng, ref, self.serial, day))
        return result


def encode(document: Any) -> bytes:
    return json.dumps(document, ensure_ascii=False).encode("utf-8")


# --- Setup: database, migrations, API key ---------------------------------------------------


def admin_conninfo(database_url: str) -> tuple[str, str]:
    """The libpq URL of the server's ``postgres`` database, and the benchmark database's name."""
    parts = urlsplit(database_url)
    if parts.scheme not in {"postgres", "postgresql", "pgsql", "psql"}:
        raise BenchError(f"DATABASE_URL must be a PostgreSQL URL, not {parts.scheme}://…")
    name = parts.path.lstrip("/")
    if not name:
        raise BenchError("DATABASE_URL names no database.")
    admin = urlunsplit(("postgresql", parts.netloc, "/postgres", parts.query, ""))
    return admin, name


def libpq_url(database_url: str) -> str:
    parts = urlsplit(database_url)
    return urlunsplit(("postgresql", parts.netloc, parts.path, parts.query, ""))


def redacted(database_url: str) -> str:
    parts = urlsplit(database_url)
    if parts.password is None:
        return database_url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))


def database_ensure(database_url: str, *, fresh: bool) -> bool:
    """Create the benchmark database (anew when ``fresh``); True if it was created.

    A fresh database makes runs comparable: tables grown by earlier runs, and the vacuuming
    they set off, would otherwise move the figures from one run to the next.
    """
    admin, name = admin_conninfo(database_url)
    with psycopg.connect(admin, autocommit=True, connect_timeout=DB_CONNECT_TIMEOUT) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and not fresh:
            return False
        if exists:
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return True


def bare_table_ensure(database_url: str) -> None:
    with psycopg.connect(
        libpq_url(database_url), autocommit=True, connect_timeout=DB_CONNECT_TIMEOUT
    ) as conn:
        conn.execute(BARE_TABLE_SQL)


def manage(env: dict[str, str], *args: str) -> str:
    """Run ``manage.py`` with the server's environment; its stdout, or BenchError."""
    command = [sys.executable, str(ROOT / "manage.py"), *args]
    try:
        done = subprocess.run(
            command,
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT,
        )
    except subprocess.TimeoutExpired as exc:
        raise BenchError(f"manage.py {' '.join(args)} took over {COMMAND_TIMEOUT:.0f} s") from exc
    if done.returncode != 0:
        raise BenchError(
            f"manage.py {' '.join(args)} failed ({done.returncode}):\n{done.stdout}{done.stderr}"
        )
    return done.stdout


def api_key_issue(env: dict[str, str]) -> str:
    out = manage(env, "create_api_key", "--shipper", SHIPPER_SLUG, "--mode", "test")
    lines = [line.strip() for line in out.splitlines() if line.strip()]
    if not lines:
        raise BenchError("create_api_key printed no key.")
    return lines[-1]


def server_env(database_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env["DATABASE_URL"] = database_url
    env.setdefault("REDIS_URL", DEFAULT_REDIS_URL)
    env["WEBHOOK_ALLOW_PRIVATE_TARGETS"] = "true"
    env["DEBUG"] = "false"
    env["ROOT_URLCONF"] = "bench.urls"
    env["DJANGO_SETTINGS_MODULE"] = "config.settings"
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env["PYTHONUNBUFFERED"] = "1"
    return env


# --- The server -----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def log_tail(log: TextIO, limit: int = 4000) -> str:
    log.flush()
    text = Path(log.name).read_text(encoding="utf-8", errors="replace")
    return text[-limit:]


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int
    log: TextIO
    description: str


@contextmanager
def gunicorn(
    env: dict[str, str], workers: int, worker_class: str, threads: int
) -> Iterator[Server]:
    """gunicorn serving ``config.wsgi:application`` on 127.0.0.1; stopped on the way out."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "config.wsgi:application",
        "--bind",
        f"{HOST}:{port}",
        "--workers",
        str(workers),
        "--worker-class",
        worker_class,
        "--timeout",
        str(GUNICORN_TIMEOUT),
        "--graceful-timeout",
        str(int(SHUTDOWN_TIMEOUT) - 10),
        "--keep-alive",
        "30",
        "--worker-tmp-dir",
        "/dev/shm" if Path("/dev/shm").is_dir() else tempfile.gettempdir(),
        "--chdir",
        str(ROOT),
    ]
    if worker_class == "gthread":
        command += ["--threads", str(threads)]
    log = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed in the finally below
        "w+", prefix="bench-gunicorn-", suffix=".log", delete=False, encoding="utf-8"
    )
    # Its own session: a Ctrl-C at the terminal reaches this script, which stops gunicorn
    # gracefully, instead of reaching gunicorn directly.
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    kind = f"{worker_class}, {threads} threads each" if worker_class == "gthread" else "sync"
    server = Server(process, port, log, f"{workers} workers ({kind}) on {HOST}:{port}")
    try:
        health_wait(server)
        yield server
    finally:
        gunicorn_stop(process)
        log.close()
        Path(log.name).unlink(missing_ok=True)


def gunicorn_stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)  # graceful: workers finish what they are doing
    try:
        process.wait(timeout=SHUTDOWN_TIMEOUT)
    except subprocess.TimeoutExpired:
        print(f"gunicorn did not stop within {SHUTDOWN_TIMEOUT:.0f} s; killing it.")
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)  # its own process group (new session)
        process.wait(timeout=10)


def health_wait(server: Server) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    last = "no answer"
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise BenchError(
                f"gunicorn exited ({server.process.returncode}) while starting:\n"
                + log_tail(server.log)
            )
        conn = http.client.HTTPConnection(HOST, server.port, timeout=5)
        try:
            conn.request("GET", HEALTH_PATH)
            response = conn.getresponse()
            body = response.read()
            if response.status == 200:
                return
            last = f"{response.status} {body.decode('utf-8', 'replace')[:500]}"
        except (OSError, http.client.HTTPException) as exc:
            last = f"{type(exc).__name__}: {exc}"
        finally:
            conn.close()
        time.sleep(0.2)
    raise BenchError(
        f"{HEALTH_PATH} did not answer 200 within {STARTUP_TIMEOUT:.0f} s (last: {last});\n"
        + log_tail(server.log)
    )


# --- The clients ----------------------------------------------------------------------------


@dataclass
class PhaseResult:
    name: str
    requests: int
    wall_s: float
    latencies_s: list[float] = field(default_factory=list)
    statuses: Counter[int | str] = field(default_factory=Counter)
    failures: int = 0
    failure_samples: list[str] = field(default_factory=list)
    completed: bool = True

    @property
    def per_s(self) -> float:
        return self.requests / self.wall_s if self.wall_s > 0 else 0.0

    def percentile_ms(self, p: float) -> float:
        return percentile(self.latencies_s, p) * 1000.0


def percentile(values: Sequence[float], p: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * p / 100.0
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def run_concurrent(
    name: str,
    port: int,
    path: str,
    bodies: Sequence[bytes],
    headers: dict[str, str],
    clients: int,
    expect: int,
    phase_timeout: float,
) -> PhaseResult:
    """POST every body once, from ``clients`` threads with one keep-alive connection each."""
    result = PhaseResult(name, len(bodies), 0.0)
    lock = threading.Lock()
    position = 0
    stop = threading.Event()
    start = threading.Barrier(clients + 1, timeout=30)

    def take() -> int | None:
        nonlocal position
        with lock:
            if position >= len(bodies) or stop.is_set():
                return None
            index = position
            position += 1
            return index

    def record(latency: float | None, status: int | str, detail: str | None) -> None:
        with lock:
            result.statuses[status] += 1
            if latency is not None:
                result.latencies_s.append(latency)
            if detail is not None:
                result.failures += 1
                if len(result.failure_samples) < MAX_FAILURE_SAMPLES:
                    result.failure_samples.append(detail)

    def client() -> None:
        conn = http.client.HTTPConnection(HOST, port, timeout=REQUEST_TIMEOUT)
        try:
            start.wait()
            while (index := take()) is not None:
                began = time.perf_counter()
                try:
                    conn.request("POST", path, body=bodies[index], headers=headers)
                    response = conn.getresponse()
                    payload = response.read()
                except (OSError, http.client.HTTPException) as exc:
                    conn.close()  # reconnects on the next request
                    record(None, type(exc).__name__, f"#{index}: {type(exc).__name__}: {exc}")
                    continue
                latency = time.perf_counter() - began
                detail = None
                if response.status != expect:
                    text = payload.decode("utf-8", "replace")[:2000]
                    detail = f"#{index}: HTTP {response.status}: {text}"
                record(latency, response.status, detail)
        except threading.BrokenBarrierError:
            pass
        finally:
            conn.close()

    threads = [
        threading.Thread(target=client, name=f"{name}-client-{n}", daemon=True)
        for n in range(clients)
    ]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    deadline = time.monotonic() + phase_timeout
    try:
        for thread in threads:
            # Short joins keep Ctrl-C responsive.
            while thread.is_alive() and time.monotonic() < deadline:
                thread.join(timeout=0.5)
    finally:
        result.wall_s = time.perf_counter() - began
        if any(thread.is_alive() for thread in threads):
            stop.set()
            result.completed = False
            for thread in threads:
                thread.join(timeout=REQUEST_TIMEOUT + 5)
    if not result.completed:
        raise BenchError(f"{name}: not done within {phase_timeout:.0f} s")
    return result


@dataclass
class BulkResult:
    orders: int
    wall_s: float
    chunk_s: list[float]
    created: int
    failures: list[str]

    @property
    def per_s(self) -> float:
        return self.orders / self.wall_s if self.wall_s > 0 else 0.0


def run_bulk(port: int, chunks: Sequence[bytes], sizes: Sequence[int], key: str) -> BulkResult:
    """POST the chunks one after the other on one connection; check each ``created`` count."""
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    conn = http.client.HTTPConnection(HOST, port, timeout=BULK_REQUEST_TIMEOUT)
    chunk_s: list[float] = []
    failures: list[str] = []
    created = 0
    began = time.perf_counter()
    try:
        for number, (body, size) in enumerate(zip(chunks, sizes, strict=True), start=1):
            t0 = time.perf_counter()
            try:
                conn.request("POST", BULK_PATH, body=body, headers=headers)
                response = conn.getresponse()
                payload = response.read()
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                failures.append(f"chunk {number}: {type(exc).__name__}: {exc}")
                continue
            chunk_s.append(time.perf_counter() - t0)
            text = payload.decode("utf-8", "replace")
            if response.status != 200:
                failures.append(f"chunk {number}: HTTP {response.status}: {text[:2000]}")
                continue
            answer = json.loads(text)
            created += int(answer.get("created", 0))
            if answer.get("created") != size or answer.get("failed"):
                errors = [r for r in answer.get("results", []) if r.get("outcome") != "created"]
                failures.append(
                    f"chunk {number}: created {answer.get('created')} of {size}, "
                    f"failed {answer.get('failed')}; first: {json.dumps(errors[:2])[:2000]}"
                )
    finally:
        wall = time.perf_counter() - began
        conn.close()
    return BulkResult(sum(sizes), wall, chunk_s, created, failures)


def run_bulk_concurrently(
    port: int, chunks: Sequence[bytes], sizes: Sequence[int], key: str, clients: int
) -> BulkResult:
    """The same chunks shared round-robin by ``clients`` connections posting side by side."""
    parts: list[BulkResult | None] = [None] * clients

    def post(index: int) -> None:
        parts[index] = run_bulk(port, chunks[index::clients], sizes[index::clients], key)

    threads = [threading.Thread(target=post, args=(i,), daemon=True) for i in range(clients)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=BULK_REQUEST_TIMEOUT * len(chunks))
    wall = time.perf_counter() - began
    done = [part for part in parts if part is not None]
    if len(done) != clients:
        raise BenchError("bulk: a client did not finish in time")
    return BulkResult(
        sum(sizes),
        wall,
        [t for part in done for t in part.chunk_s],
        sum(part.created for part in done),
        [f for part in done for f in part.failures],
    )


# --- Report ---------------------------------------------------------------------------------


def describe_phase(result: PhaseResult) -> list[str]:
    counts = sorted(result.statuses.items(), key=lambda item: str(item[0]))
    statuses = ", ".join(f"{status}: {count}" for status, count in counts)
    lines = [
        f"  {result.requests} requests in {result.wall_s:.2f} s = {result.per_s:.1f} req/s",
        "  latency ms: "
        + "  ".join(f"p{p:g} {result.percentile_ms(p):.1f}" for p in (50, 90, 95, 99))
        + f"  max {max(result.latencies_s, default=0) * 1000:.1f}",
        f"  statuses: {statuses}; failures: {result.failures}",
    ]
    lines += [f"    {sample}" for sample in result.failure_samples]
    return lines


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=3000, help="single orders to post (3000)")
    parser.add_argument("--clients", type=int, default=8, help="concurrent client threads (8)")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers (3)")
    parser.add_argument(
        "--bulk-total", type=int, default=10000, help="orders sent to the bulk endpoint (10000)"
    )
    parser.add_argument(
        "--worker-class",
        choices=["sync", "gthread"],
        default="sync",
        help=(
            "gunicorn worker class (sync). sync closes the connection after each response, "
            "so clients reconnect; gthread keeps it alive but pins each client to one worker, "
            "and measured slower here (more p99, no more orders/s)"
        ),
    )
    parser.add_argument("--threads", type=int, default=1, help="threads per gthread worker (1)")
    parser.add_argument(
        "--keep-database",
        action="store_true",
        help="keep the benchmark database of earlier runs instead of starting anew",
    )
    parser.add_argument(
        "--bulk-clients",
        type=int,
        default=2,
        help="clients posting bulk chunks side by side in the second bulk phase (2)",
    )
    parser.add_argument(
        "--phase-timeout",
        type=float,
        default=900.0,
        help="seconds a concurrent phase may take before the run is abandoned (900)",
    )
    args = parser.parse_args(argv)
    for name in ("orders", "clients", "workers", "threads", "bulk_clients"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1")
    if args.bulk_total < 0:
        parser.error("--bulk-total must not be negative")
    return args


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def interrupts_raise() -> None:
    """Ctrl-C and SIGTERM both end in KeyboardInterrupt, so every ``finally`` stops what the
    benchmark started."""
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _raise_interrupt)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    interrupts_raise()
    database_url = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    env = server_env(database_url)
    run_id = f"b{time.strftime('%Y%m%d%H%M%S')}{secrets.token_hex(2)}"

    print(f"database: {redacted(database_url)}")
    if database_ensure(database_url, fresh=not args.keep_database):
        print("  created the database")
    manage(env, "migrate", "--noinput")
    print("  migrated")
    bare_table_ensure(database_url)
    key = api_key_issue(env)
    print(f"  issued a test key for {SHIPPER_SLUG} ({key[:12]}…)")

    # Every body is built and encoded before the clock starts.
    factory = OrderFactory(run_id)
    warmup_bodies = [encode(o) for o in factory.orders("warm", WARMUP_REQUESTS)]
    order_bodies = [encode(o) for o in factory.orders("api", args.orders)]
    bulk_orders = factory.orders("bulk", args.bulk_total)
    bulk_sizes = [
        len(bulk_orders[i : i + BULK_CHUNK]) for i in range(0, len(bulk_orders), BULK_CHUNK)
    ]
    bulk_bodies = [
        encode({"orders": bulk_orders[i : i + BULK_CHUNK]})
        for i in range(0, len(bulk_orders), BULK_CHUNK)
    ]
    del bulk_orders
    side_by_side_orders = factory.orders("bulk2", args.bulk_total)
    side_by_side_bodies = [
        encode({"orders": side_by_side_orders[i : i + BULK_CHUNK]})
        for i in range(0, len(side_by_side_orders), BULK_CHUNK)
    ]
    del side_by_side_orders
    sizes = sorted(len(b) for b in order_bodies)
    print(
        f"run {run_id}: {args.orders} orders of 3 lines and 2 collis, "
        f"{sizes[0]}-{sizes[-1]} bytes (median {sizes[len(sizes) // 2]}); "
        f"{args.clients} clients"
    )

    api_headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    bare_headers = {"Content-Type": "application/json"}
    with gunicorn(env, args.workers, args.worker_class, args.threads) as server:
        print(f"gunicorn config.wsgi:application: {server.description}")
        for path, headers in ((ORDERS_PATH, api_headers), (BARE_PATH, bare_headers)):
            warm = run_concurrent(
                "warm-up", server.port, path, warmup_bodies, headers, args.clients, 201, 300
            )
            if warm.failures:
                raise BenchError(f"warm-up on {path} failed:\n" + "\n".join(warm.failure_samples))
        orders = run_concurrent(
            "orders",
            server.port,
            ORDERS_PATH,
            order_bodies,
            api_headers,
            args.clients,
            201,
            args.phase_timeout,
        )
        bare = run_concurrent(
            "bare",
            server.port,
            BARE_PATH,
            order_bodies,
            bare_headers,
            args.clients,
            201,
            args.phase_timeout,
        )
        bulk = run_bulk(server.port, bulk_bodies, bulk_sizes, key)
        bulk_side_by_side = run_bulk_concurrently(
            server.port, side_by_side_bodies, bulk_sizes, key, args.bulk_clients
        )

    ratio = orders.per_s / bare.per_s if bare.per_s else float("nan")
    print()
    print(f"POST {ORDERS_PATH} ({args.clients} clients, keep-alive)")
    print("\n".join(describe_phase(orders)))
    print(f"POST {BARE_PATH} (same bodies; Django + one INSERT)")
    print("\n".join(describe_phase(bare)))
    print(f"ratio orders/bare: {ratio:.2f}")
    print(
        f"POST {BULK_PATH}: {bulk.orders} orders in {len(bulk_sizes)} chunks of up to "
        f"{BULK_CHUNK}, one client: {bulk.wall_s:.2f} s = {bulk.per_s:.1f} orders/s"
    )
    if bulk.chunk_s:
        print(
            f"  per chunk s: min {min(bulk.chunk_s):.2f}  median "
            f"{percentile(bulk.chunk_s, 50):.2f}  max {max(bulk.chunk_s):.2f}; "
            f"created {bulk.created}; failures: {len(bulk.failures)}"
        )
    for failure in bulk.failures[:MAX_FAILURE_SAMPLES]:
        print(f"    {failure}")
    print(
        f"POST {BULK_PATH}: another {bulk_side_by_side.orders} orders, {args.bulk_clients} "
        f"clients side by side: {bulk_side_by_side.wall_s:.2f} s = "
        f"{bulk_side_by_side.per_s:.1f} orders/s; created {bulk_side_by_side.created}"
    )
    for failure in bulk_side_by_side.failures[:MAX_FAILURE_SAMPLES]:
        print(f"    {failure}")
    failed = orders.failures + bare.failures + len(bulk.failures) + len(bulk_side_by_side.failures)
    if failed:
        print(f"FAILURES: {failed} (see above); the figures are not trustworthy.")
    print(
        f"orders_per_s={orders.per_s:.1f} p99_ms={orders.percentile_ms(99):.1f} "
        f"ratio={ratio:.2f} bulk_10k_s={bulk.wall_s:.2f}"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as exc:
        print(f"bench/ingest.py: {exc}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print("bench/ingest.py: interrupted; gunicorn stopped.", file=sys.stderr)
        sys.exit(130)
