import logging

from django.db import transaction

logger = logging.getLogger(__name__)


def enqueue(task, *args, countdown: float | None = None) -> None:
    """Queue ``task`` now; if the broker is down, log it: the row's sweeper will pick it up."""
    try:
        task.apply_async(args=args, countdown=countdown)
    except Exception:  # the broker's errors are many kinds; none may fail the caller
        logger.warning(
            "Could not queue %s%r; the sweeper will retry it.", task.name, args, exc_info=True
        )


def enqueue_on_commit(task, *args, countdown: float | None = None) -> None:
    transaction.on_commit(lambda: enqueue(task, *args, countdown=countdown))
