import logging
from collections.abc import Callable

from django.db import DatabaseError, transaction

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
