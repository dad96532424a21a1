import atexit
import contextlib
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import kombu.pools
import pytest
from django.db import connection

from config.celery_app import app
from config.queues import WORK_KINDS

ROOT = Path(__file__).resolve().parents[2]
PR_SET_PDEATHSIG = 1

# Every process these tests start, so none outlives the run: each is in a process group of
# its own (killed whole, beat child included), dies with this process (PDEATHSIG, even when
# pytest itself is killed), and is killed at exit if a finaliser never ran.
_started: list[subprocess.Popen] = []
# The workers of the running test: a wait fails at once, with the log, when one has died.
_watched: list["Worker"] = []


def _die_with_parent() -> None:
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def spawn(command: list[str], **kwargs) -> subprocess.Popen:
    process = subprocess.Popen(
        command, start_new_session=True, preexec_fn=_die_with_parent, **kwargs
    )
    _started.append(process)
    return process


def kill_group(process: subprocess.Popen, sig: int = signal.SIGKILL) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, sig)


@atexit.register
def _kill_everything_started() -> None:
    for process in _started:
        kill_group(process)


def _database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    user = db.get("USER") or "postgres"
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{user}@{host}:{port}/{db['NAME']}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(predicate, timeout: float = 60.0, interval: float = 0.2):
    """Poll ``predicate``; fail at once when a worker of the test has died, else at timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        for worker in _watched:
            if worker.died():
                raise AssertionError(
                    f"worker {worker.process.pid} exited with {worker.process.returncode}; "
                    f"its log ends:\n{worker.log_tail()}"
                )
        time.sleep(interval)
    tails = "\n".join(f"--- worker {w.process.pid}:\n{w.log_tail()}" for w in _watched)
    raise AssertionError(f"timed out after {timeout:g} s waiting for the worker\n{tails}")


class Worker:
    """A real Celery worker process (optionally with beat) on the test database."""

    def __init__(self, queues: str, log_path: Path, env: dict[str, str], beat: bool) -> None:
        self.queues, self.log_path, self.env, self.beat = queues, log_path, env, beat
        self.process: subprocess.Popen | None = None
        self.stopped_on_purpose = False

    def start(self) -> "Worker":
        command = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "-l",
            "info",
            "--pool",
            "solo",
            "-Q",
            self.queues,
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
        ]
        if self.beat:
            schedule = self.log_path.with_suffix(f".beat-{uuid.uuid4().hex[:6]}")
            command += ["-B", "--schedule", str(schedule)]
        log = self.log_path.open("a")
        self.process = spawn(command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        return self

    def died(self) -> bool:
        return not self.stopped_on_purpose and self.process.poll() is not None

    def kill(self) -> None:
        """SIGKILL, as a crash would: the worker and its beat child at once."""
        self.stopped_on_purpose = True
        kill_group(self.process)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        self.stopped_on_purpose = True
        if self.process.poll() is None:
            kill_group(self.process, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=15)
        kill_group(self.process)  # whatever of the group is left, beat included
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=5)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log().splitlines()[-lines:])


@pytest.fixture
def worker_factory(transactional_db, tmp_path, settings) -> Iterator:
    """Start workers on queues of their own; the test process queues to them too."""
    prefix = f"e2e-{uuid.uuid4().hex[:8]}-"
    settings.WORK_QUEUES = {kind: prefix + kind for kind in WORK_KINDS}
    previous_default = app.conf.task_default_queue
    app.conf.task_default_queue = settings.WORK_QUEUES["default"]
    workers: list[Worker] = []

    def start(
        *,
        beat: bool = False,
        broker_url: str | None = None,
        kinds: tuple[str, ...] = WORK_KINDS,
        **env: str,
    ) -> Worker:
        worker_env = {
            **os.environ,
            "DATABASE_URL": _database_url(),
            "CELERY_QUEUE_PREFIX": prefix,
            "WEBHOOK_ALLOW_PRIVATE_TARGETS": "true",
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "WAYBILL_VAR_DIR": str(settings.VAR_DIR),
            **env,
        }
        if broker_url:
            worker_env["REDIS_URL"] = broker_url
        queues = ",".join(settings.WORK_QUEUES[kind] for kind in kinds)
        log_path = tmp_path / f"worker-{len(workers)}.log"
        worker = Worker(queues, log_path, worker_env, beat).start()
        workers.append(worker)
        _watched.append(worker)
        return worker

    try:
        yield start
    finally:
        app.conf.task_default_queue = previous_default
        _watched.clear()
        for worker in workers:
            worker.stop()


@pytest.fixture
def celery_worker_process(worker_factory) -> Worker:
    return worker_factory()


@contextlib.contextmanager
def broker_of_this_process(url: str) -> Iterator[None]:
    """Queue from this process to another broker for the duration."""
    previous = app.conf.broker_url
    _switch_broker(url)
    try:
        yield
    finally:
        _switch_broker(previous)


def _switch_broker(url: str) -> None:
    app.conf.broker_url = url
    if app._pool is not None:
        app._pool.force_close_all()
        app._pool = None
    app.amqp._producer_pool = None
    # kombu keeps producer pools per broker address process-wide; one left bound to the
    # connection pool closed above would answer the next test "Acquire on closed pool".
    kombu.pools.reset()


class PrivateRedis:
    """A redis-server of the test's own, so stopping it disturbs no other test."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        log = (self.workdir / f"redis-{self.port}.log").open("a")
        # In the foreground, as a child of this process: it dies with the test run.
        self.process = spawn(
            [
                "redis-server",
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        wait_for(self.ping, timeout=10, interval=0.1)

    def ping(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            raise AssertionError(f"redis-server exited with {self.process.returncode}")
        done = subprocess.run(
            ["redis-cli", "-p", str(self.port), "ping"], capture_output=True, text=True
        )
        return done.stdout.strip() == "PONG"

    def stop(self) -> None:
        subprocess.run(
            ["redis-cli", "-p", str(self.port), "shutdown", "nosave"], capture_output=True
        )
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            kill_group(self.process)
            self.process.wait(timeout=5)


@pytest.fixture
def private_redis(tmp_path) -> Iterator[PrivateRedis]:
    if not shutil.which("redis-server"):
        pytest.skip("needs redis-server on this machine")
    redis = PrivateRedis(tmp_path)
    redis.start()
    try:
        yield redis
    finally:
        if redis.process is not None and redis.process.poll() is None:
            kill_group(redis.process)
            redis.process.wait(timeout=10)
