"""Work is queued by kind: every task of Waybill's has its queue, routing jobs a queue alone."""

from config.celery_app import app
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
