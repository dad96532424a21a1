from celery import shared_task
from django.conf import settings

from orders import geocoding, pos

# Waits before geocoding retries 1, 2, 3 while the service is unavailable; then the order is
# flagged as not geocoded.
GEOCODING_RETRY_COUNTDOWNS_S = [30, 120, 600]


@shared_task(acks_late=True)
def pos_fetch_run(fetch_id: str) -> None:
    pos.pos_fetch_run(fetch_id=fetch_id)


@shared_task
def pos_fetch_sweep() -> int:
    return pos.pos_fetch_sweep()


@shared_task(
    bind=True,
    acks_late=True,
    max_retries=len(GEOCODING_RETRY_COUNTDOWNS_S),
    rate_limit=settings.GEOCODER_RATE_LIMIT or None,
)
def order_geocode(self, order_id: str) -> str:
    retries = self.request.retries
    try:
        return geocoding.order_geocode(order_id=order_id, last_attempt=retries >= self.max_retries)
    except geocoding.GeocoderUnavailable as exc:
        raise self.retry(exc=exc, countdown=GEOCODING_RETRY_COUNTDOWNS_S[retries]) from exc


@shared_task
def geocoding_sweep() -> int:
    return geocoding.geocoding_sweep()
