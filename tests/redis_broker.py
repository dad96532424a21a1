"""A real Redis broker for tests that count what the sweepers put on the queues.

``REDIS_URL``, or the redis-server of this machine on 127.0.0.1:6379. Skipped when neither
answers and ``REDIS_URL`` is unset; when it is set (CI), an unreachable Redis fails the test.
The queues get a prefix of their own, so tests running side by side never share a key.
"""

from __future__ import annotations

import base64
import json
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import kombu.pools
import pytest
import redis

from config.celery_app import app
from config.queues import WORK_KINDS
from webhooks.services import _queued_deliveries

LOCAL_REDIS = "redis://127.0.0.1:6379/0"
# Where no broker listens: every publish is refused.
NO_BROKER = "redis://127.0.0.1:1/0"


@dataclass
class RedisQueues:
    url: str
    client: redis.Redis
    names: dict[str, str]  # kind of work → queue name

    def length(self, kind: str) -> int:
        """LLEN of the queue's list: the messages waiting there."""
        return self.client.llen(self.names[kind])

    def task_args(self, kind: str) -> list[list]:
        """The positional arguments of every message waiting in the queue, oldest first."""
        messages = self.client.lrange(self.names[kind], 0, -1)
        bodies = [json.loads(base64.b64decode(json.loads(m)["body"])) for m in reversed(messages)]
        return [body[0] for body in bodies]

    def lose_everything(self) -> None:
        """What a broker restarted without its data does to the messages it held."""
        self.client.delete(*self.names.values())

    @contextmanager
    def down(self) -> Iterator[None]:
        """Meanwhile every publish from this process fails, as with the broker down."""
        _switch_broker(NO_BROKER)
        try:
            yield
        finally:
            _switch_broker(self.url)


def _switch_broker(url: str) -> None:
    app.conf.broker_url = url
    if app._pool is not None:
        app._pool.force_close_all()
        app._pool = None
    app.amqp._producer_pool = None
    # kombu keeps producer pools per broker address process-wide; one left bound to the
    # connection pool closed above would answer the next test "Acquire on closed pool".
    kombu.pools.reset()


@pytest.fixture
def redis_queues(settings, monkeypatch) -> Iterator[RedisQueues]:
    url = os.environ.get("REDIS_URL") or LOCAL_REDIS
    client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        client.close()
        if os.environ.get("REDIS_URL"):
            pytest.fail(f"REDIS_URL is set but Redis does not answer: {exc}")
        pytest.skip(f"needs Redis on {LOCAL_REDIS} or REDIS_URL: {exc}")
    # Deliveries an earlier test of this process left to the coalescer go out now, before
    # the queues change; this test's go at once, from its own thread, to the broker it has
    # up (or down) at that moment, not from the flusher a window later.
    _queued_deliveries.flush()
    monkeypatch.setattr(_queued_deliveries, "window", 0)
    prefix = f"test-{uuid.uuid4().hex[:10]}-"
    settings.WORK_QUEUES = {kind: prefix + kind for kind in WORK_KINDS}
    settings.CELERY_TASK_ALWAYS_EAGER = False
    previous_url, previous_eager = app.conf.broker_url, app.conf.task_always_eager
    app.conf.task_always_eager = False
    _switch_broker(url)
    try:
        yield RedisQueues(url, client, dict(settings.WORK_QUEUES))
    finally:
        _switch_broker(previous_url)
        app.conf.task_always_eager = previous_eager
        keys = list(client.scan_iter(match=f"*{prefix}*", count=1000))
        if keys:
            client.delete(*keys)
        # kombu lists each queue it declared in its exchange's binding set.
        for binding in client.scan_iter(match="_kombu.binding.*", count=1000):
            ours = [m for m in client.smembers(binding) if prefix.encode() in m]
            if ours:
                client.srem(binding, *ours)
        client.close()
