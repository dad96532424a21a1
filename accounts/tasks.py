from celery import shared_task

from accounts.services import idempotency_records_purge as purge


@shared_task
def idempotency_records_purge() -> int:
    return purge()
