from celery import shared_task

from orders import pos


@shared_task(acks_late=True)
def pos_fetch_run(fetch_id: str) -> None:
    pos.pos_fetch_run(fetch_id=fetch_id)


@shared_task
def pos_fetch_sweep() -> int:
    return pos.pos_fetch_sweep()
