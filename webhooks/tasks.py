from celery import shared_task

from webhooks import sending


@shared_task(acks_late=True)
def deliveries_send(delivery_ids: list[str]) -> int:
    return sending.deliveries_send(delivery_ids=delivery_ids)


@shared_task
def deliveries_sweep() -> int:
    return sending.deliveries_sweep()
