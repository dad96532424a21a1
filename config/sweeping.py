"""What every sweeper shares: it queues again only work that is really lost, and never more
than its queue can take.

Each kind of work (deliveries, planning, POS fetches, routing jobs) stamps its rows with when
a message for them was put on the queue, in the same statement that makes them due or queues
them, and clears the stamp when a worker takes them or the broker refuses the message. A
sweeper queues a row again only when it is due and no message is out for it, when its
message has waited past the kind's lease (lost with a broker restarted without its data), or
when the worker that took it vanished; it stamps the rows it picks in the same transaction.

And a sweeper tops its queue up to a ceiling, no further: what it added to a longer queue
would only wait behind the rest (and be queued again when its lease ran out), which is how a
backlog once grew by itself with no new work coming in.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db.models import QuerySet

logger = logging.getLogger(__name__)


def queue_waiting(task) -> int | None:
    """Messages waiting in the queue ``task`` is routed to; None when the broker cannot say."""
    from kombu.exceptions import ChannelError

    from config.celery_app import app
    from config.queues import route_task

    if app.conf.task_always_eager:  # tasks run in the caller: there is no queue
        return 0
    queue = route_task(task.name, (), {}, {})["queue"]
    try:
        with app.connection_for_write() as connection, connection.channel() as channel:
            return channel.queue_declare(queue=queue, passive=True).message_count
    except ChannelError:  # never declared: nothing was ever queued there
        return 0
    except Exception:  # broker down: publishing will say so, and the rows wait for it
        logger.warning("Could not read the length of queue %s.", queue, exc_info=True)
        return None


def queue_room(task, *, ceiling: int) -> int:
    """How many messages a sweeper may add to ``task``'s queue: ``ceiling`` less those waiting."""
    waiting = queue_waiting(task)
    return ceiling if waiting is None else max(0, ceiling - waiting)


def rows_take(kinds: list[QuerySet], *, limit: int, stamp: dict[str, Any]) -> list:
    """Up to ``limit`` primary keys from ``kinds`` (querysets of one model, each ordered, the
    most urgent first), locked, skipping rows another transaction holds, and updated with
    ``stamp`` in one statement. Run it inside the transaction that queues them."""
    taken: dict = {}
    for kind in kinds:
        room = limit - len(taken)
        if room <= 0:
            break
        for pk in kind.select_for_update(skip_locked=True).values_list("pk", flat=True)[:room]:
            taken[pk] = None
    if taken:
        kinds[0].model.objects.filter(pk__in=list(taken)).update(**stamp)
    return list(taken)
