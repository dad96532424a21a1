import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import kombu.pools
import pytest
from django.conf import settings
from django.db import connection

from config.celery_app import app

ROOT = Path(__file__).resolve().parents[2]


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
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:g} s waiting for the worker")


class Worker:
    """A real Celery worker process (optionally with beat) on the test database."""

    def __init__(self, queue: str, log_path: Path, env: dict[str, str], beat: bool) -> None:
        self.queue, self.log_path, self.env, self.beat = queue, log_path, env, beat
        self.process: subprocess.Popen | None = None

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
            self.queue,
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
        ]
        if self.beat:
            schedule = self.log_path.with_suffix(f".beat-{uuid.uuid4().hex[:6]}")
            command += ["-B", "--schedule", str(schedule)]
        log = self.log_path.open("a")
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT
        )
        log.close()
        return self

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@pytest.fixture
def worker_factory(transactional_db, tmp_path) -> Iterator:
    """Start workers on a queue of their own; the test process queues to it too."""
    queue = f"e2e-{uuid.uuid4().hex[:8]}"
    workers: list[Worker] = []
    previous_queue = app.conf.task_default_queue
    app.conf.task_default_queue = queue

    def start(*, beat: bool = False, broker_url: str | None = None, **env: str) -> Worker:
        worker_env = {
            **os.environ,
            "DATABASE_URL": _database_url(),
            "CELERY_TASK_DEFAULT_QUEUE": queue,
            "WEBHOOK_ALLOW_PRIVATE_TARGETS": "true",
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "WAYBILL_VAR_DIR": str(settings.VAR_DIR),
            **env,
        }
        if broker_url:
            worker_env["REDIS_URL"] = broker_url
        worker = Worker(queue, tmp_path / f"worker-{len(workers)}.log", worker_env, beat).start()
        workers.append(worker)
        return worker

    try:
        yield start
    finally:
        app.conf.task_default_queue = previous_queue
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

    def start(self) -> None:
        subprocess.run(
            [
                "redis-server",
                "--daemonize",
                "yes",
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
                "--pidfile",
                str(self.workdir / f"redis-{self.port}.pid"),
            ],
            check=True,
            capture_output=True,
        )
        wait_for(self.ping, timeout=10, interval=0.1)

    def ping(self) -> bool:
        done = subprocess.run(
            ["redis-cli", "-p", str(self.port), "ping"], capture_output=True, text=True
        )
        return done.stdout.strip() == "PONG"

    def stop(self) -> None:
        subprocess.run(
            ["redis-cli", "-p", str(self.port), "shutdown", "nosave"], capture_output=True
        )
        wait_for(lambda: not self.ping(), timeout=10, interval=0.1)


@pytest.fixture
def private_redis(tmp_path) -> Iterator[PrivateRedis]:
    if not shutil.which("redis-server"):
        pytest.skip("needs redis-server on this machine")
    redis = PrivateRedis(tmp_path)
    redis.start()
    try:
        yield redis
    finally:
        with contextlib.suppress(Exception):
            redis.stop()
