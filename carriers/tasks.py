from celery import shared_task
from django.db import OperationalError

from carriers import services


# A database hiccup outside any one order (loading the catalogue) retries the batch; an order
# whose own planning raises is recorded as failed by the service, and the sweeper retries it.
@shared_task(acks_late=True, autoretry_for=(OperationalError,), max_retries=5, retry_backoff=1)
def orders_plan(order_ids: list[str]) -> int:
    return services.orders_plan(order_ids=order_ids)


@shared_task
def planning_sweep() -> int:
    return services.planning_sweep()
