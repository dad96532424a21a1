"""Queues by kind of work, so a long route optimisation never holds up a webhook.

``TASK_KINDS`` is the one table of which task runs on which kind of queue; the queue names are
``settings.WORK_QUEUES`` (``CELERY_QUEUE_PREFIX`` + kind, so parallel test runs and benchmarks
use queues of their own). Celery asks ``route_task`` on every send.
"""

from __future__ import annotations

from django.conf import settings

DELIVERIES, PLANNING, POS_FETCHES, ROUTING, DEFAULT = WORK_KINDS = (
    "deliveries",
    "planning",
    "pos-fetches",
    "routing",
    "default",
)

# Short, frequent work shares one worker; routing jobs (up to an hour) get their own.
SHORT_KINDS = (DELIVERIES, PLANNING, POS_FETCHES, DEFAULT)
LONG_KINDS = (ROUTING,)

TASK_KINDS = {
    "webhooks.tasks.deliveries_send": DELIVERIES,
    "webhooks.tasks.deliveries_sweep": DELIVERIES,
    "carriers.tasks.orders_plan": PLANNING,
    "carriers.tasks.planning_sweep": PLANNING,
    "orders.tasks.pos_fetch_run": POS_FETCHES,
    "orders.tasks.pos_fetch_sweep": POS_FETCHES,
    # One short outbound lookup per order, rate limited; nothing waits on it.
    "orders.tasks.order_geocode": DEFAULT,
    "orders.tasks.geocoding_sweep": DEFAULT,
    "routing.tasks.job_run": ROUTING,
    # The routing sweeper only re-queues lost jobs: it must not wait behind a solving one.
    "routing.tasks.jobs_sweep": DEFAULT,
    "accounts.tasks.idempotency_records_purge": DEFAULT,
    "workflows.tasks.orchestration_event_process": DEFAULT,
    "workflows.tasks.orchestration_sweep": DEFAULT,
    # Staff workflows: short steps (a status move, a tag, one HTTP post, one notification).
    "workflows.tasks.workflow_run_process": DEFAULT,
    "workflows.tasks.workflow_runs_sweep": DEFAULT,
    # One short SMS per ETA change; retried on its own schedule when the provider is down.
    "notifications.tasks.eta_notice_handle": DEFAULT,
    "notifications.tasks.eta_notices_sweep": DEFAULT,
}


def queue_name(kind: str) -> str:
    return settings.WORK_QUEUES[kind]


def queue_names(kinds: tuple[str, ...]) -> str:
    """The ``-Q`` argument of a worker serving ``kinds``."""
    return ",".join(queue_name(kind) for kind in kinds)


def route_task(name: str, args, kwargs, options, task=None, **kw) -> dict[str, str]:
    return {"queue": queue_name(TASK_KINDS.get(name, DEFAULT))}
