from celery import shared_task
from celery.signals import worker_init, worker_process_init

from webhooks import sending


@worker_process_init.connect  # a prefork child, which runs the tasks
@worker_init.connect  # a solo worker runs them itself
def _keep_http_connections(**kwargs) -> None:
    sending.keep_connections()


@shared_task(acks_late=True)
def deliveries_send(delivery_ids: list[str]) -> int:
    return sending.deliveries_send(delivery_ids=delivery_ids)


@shared_task
def deliveries_sweep() -> int:
    return sending.deliveries_sweep()
