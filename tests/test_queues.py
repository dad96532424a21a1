"""Work is queued by kind: every task of Waybill's has its queue, routing jobs a queue alone."""

import threading

from config.celery_app import app
from config.queue import Coalesced
from config.queues import LONG_KINDS, ROUTING, SHORT_KINDS, TASK_KINDS, WORK_KINDS


def _waybill_tasks() -> set[str]:
    app.loader.import_default_modules()
    return {name for name in app.tasks if not name.startswith("celery.")}


def test_it_names_a_queue_for_every_task():
    assert _waybill_tasks() == set(TASK_KINDS)
    assert set(TASK_KINDS.values()) <= set(WORK_KINDS)


def test_it_keeps_routing_jobs_away_from_the_short_queues():
    assert TASK_KINDS["routing.tasks.job_run"] == ROUTING
    assert set(SHORT_KINDS).isdisjoint(LONG_KINDS)
    assert set(SHORT_KINDS) | set(LONG_KINDS) == set(WORK_KINDS)


def test_it_routes_each_task_to_its_own_queue_name(settings):
    settings.WORK_QUEUES = {kind: f"p-{kind}" for kind in WORK_KINDS}

    queues = {name: app.amqp.router.route({}, name)["queue"].name for name in sorted(TASK_KINDS)}

    assert queues["webhooks.tasks.deliveries_send"] == "p-deliveries"
    assert queues["carriers.tasks.orders_plan"] == "p-planning"
    assert queues["orders.tasks.pos_fetch_run"] == "p-pos-fetches"
    assert queues["routing.tasks.job_run"] == "p-routing"


# --- a busy process queues what it commits together ------------------------------------------


class _Published:
    def __init__(self):
        self.batches: list[list] = []
        self.arrived = threading.Event()

    def __call__(self, ids: list) -> None:
        self.batches.append(list(ids))
        self.arrived.set()


def test_the_first_ids_after_a_quiet_spell_go_at_once_and_the_next_together():
    published = _Published()
    coalesced = Coalesced(published, window=3600)  # its flusher sleeps past the test

    coalesced.add(["a"])
    coalesced.add(["b"])
    coalesced.add(["c", "d"])

    assert published.batches == [["a"]]
    coalesced.flush()
    assert published.batches == [["a"], ["b", "c", "d"]]
    coalesced.flush()  # nothing pending: nothing sent
    assert published.batches == [["a"], ["b", "c", "d"]]


def test_ids_gathered_in_a_window_go_when_it_ends_without_another_write():
    published = _Published()
    coalesced = Coalesced(published, window=0.05)

    coalesced.add(["a"])
    published.arrived.clear()
    coalesced.add(["b"])

    assert published.arrived.wait(timeout=30), "the window's ids were never sent"
    assert published.batches == [["a"], ["b"]]


def test_a_flush_returns_only_once_a_publish_under_way_in_the_flusher_is_done():
    entered, release, log = threading.Event(), threading.Event(), []

    def publish(ids: list) -> None:
        if ids == ["b"]:
            entered.set()
            release.wait(timeout=30)
        log.append(ids)

    coalesced = Coalesced(publish, window=0.05)
    coalesced.add(["a"])  # at once
    coalesced.add(["b"])  # from the flusher, once the window ends
    assert entered.wait(timeout=30), "the flusher never published"

    flushing = threading.Thread(target=lambda: (coalesced.flush(), log.append("flushed")))
    flushing.start()
    # Ample for a flush that does not wait to return; one that waits stays until released.
    flushing.join(timeout=0.2)
    release.set()
    flushing.join(timeout=30)

    assert log == [["a"], ["b"], "flushed"]


def test_without_a_window_or_with_eager_tasks_each_goes_at_once():
    published = _Published()
    Coalesced(published, window=0).add(["a"])
    previous, app.conf.task_always_eager = app.conf.task_always_eager, True
    try:
        eager = Coalesced(published, window=3600)
        eager.add(["b"])
        eager.add(["c"])
    finally:
        app.conf.task_always_eager = previous

    assert published.batches == [["a"], ["b"], ["c"]]
