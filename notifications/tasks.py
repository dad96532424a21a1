from celery import shared_task

from notifications import services
from notifications.errors import ProviderUnavailable


@shared_task(
    acks_late=True,
    autoretry_for=(ProviderUnavailable,),
    retry_backoff=30,
    retry_backoff_max=1800,
    max_retries=8,
)
def eta_notice_handle(notice_id: str) -> str | None:
    message = services.eta_notice_handle(notice_id=notice_id)
    return str(message.id) if message is not None else None


@shared_task
def eta_notices_sweep() -> int:
    return services.eta_notices_sweep()
