import atexit
import logging
import os
import threading
import time
from collections.abc import Callable

from django.db import DatabaseError, connections, transaction

logger = logging.getLogger(__name__)


def enqueue(
    task,
    *args,
    countdown: float | None = None,
    on_failure: Callable[[], None] | None = None,
) -> bool:
    """Queue ``task`` now; if the broker is down, log it: the row's sweeper will pick it up.

    ``on_failure`` runs when the broker refused the message: it clears the rows' queued stamp,
    so the next sweep queues them instead of waiting out their lease. Returns whether the
    broker took the message.
    """
    try:
        task.apply_async(args=args, countdown=countdown)
    except Exception:  # the broker's errors are many kinds; none may fail the caller
        logger.warning(
            "Could not queue %s%r; the sweeper will retry it.", task.name, args, exc_info=True
        )
        if on_failure is not None:
            try:
                on_failure()
            except DatabaseError:  # the rows keep their stamp: swept once it is old enough
                logger.warning("Could not mark %s%r for the sweeper.", task.name, args)
        return False
    return True


def enqueue_on_commit(task, *args, countdown: float | None = None) -> None:
    transaction.on_commit(lambda: enqueue(task, *args, countdown=countdown))


def enqueue_row(task, model, row_id) -> bool:
    """Queue ``task`` for one row stamped ``queued_at``; a refused publish clears the stamp so
    the next sweep queues the row instead of waiting out its lease."""
    return enqueue(
        task,
        str(row_id),
        on_failure=lambda: model.objects.filter(id=row_id).update(queued_at=None),
    )


class Coalesced:
    """Ids to hand to ``publish``, gathered so that a process busy with many small writes
    publishes one message per ``window`` seconds instead of one per write: the first ids
    after a quiet window go at once, those arriving within it go together when it ends
    (from a thread of this process). Ids not yet published when a process dies are what
    the sweepers are for: the rows they stand for keep their ``queued_at`` stamp.

    With ``window`` 0, or with Celery running tasks eagerly (tests), ids go at once."""

    def __init__(self, publish: Callable[[list], None], window: float) -> None:
        self.publish = publish
        self.window = window
        self._reset()
        os.register_at_fork(after_in_child=self._reset)  # a forked child has no flusher
        atexit.register(self.flush)

    def _reset(self) -> None:
        self._lock = threading.Lock()
        self._due = threading.Condition(self._lock)
        self._publishing = threading.Lock()  # held by a flush while it publishes
        self._pending: list = []
        self._last = float("-inf")
        self._flusher: threading.Thread | None = None

    def add(self, ids: list) -> None:
        from config.celery_app import app

        if self.window <= 0 or app.conf.task_always_eager:
            self.publish(ids)
            return
        with self._lock:
            now = time.monotonic()
            if not self._pending and now - self._last >= self.window:
                self._last = now
                at_once = True
            else:
                self._pending += ids
                at_once = False
                if self._flusher is None:
                    self._flusher = threading.Thread(
                        target=self._flush_loop, name="waybill-coalesced", daemon=True
                    )
                    self._flusher.start()
                self._due.notify()
        if at_once:
            self.publish(ids)

    def _flush_loop(self) -> None:
        while True:
            with self._lock:
                while not self._pending:
                    self._due.wait()
                wait = self._last + self.window - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            self.flush()

    def flush(self) -> None:
        """Publish what is pending now. It returns once every id added before the call has
        been handed to ``publish``, a flush already under way in the flusher included: at
        exit, and wherever the broker is about to change, nothing is still on its way."""
        with self._publishing:
            with self._lock:
                ids, self._pending = self._pending, []
                self._last = time.monotonic()
            if ids:
                try:
                    self.publish(ids)
                finally:
                    # A refused publish wrote from this thread: its connection is its own.
                    if threading.current_thread() is self._flusher:
                        connections.close_all()
