from datetime import datetime

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
def order_eta_notify(order_id: str, eta_from: str, eta_to: str | None = None) -> str | None:
    message = services.order_eta_notify(
        order_id=order_id,
        eta_from=datetime.fromisoformat(eta_from),
        eta_to=datetime.fromisoformat(eta_to) if eta_to else None,
    )
    return str(message.id) if message is not None else None
