from __future__ import annotations

from datetime import datetime

from django.db.models import Count, Max, Q, QuerySet

from config.api.errors import first_or_404
from webhooks.models import (
    DELIVERY_DUE_STATUSES,
    Delivery,
    DeliveryStatus,
    Event,
    Subscription,
)


def event_list(*, shipper, live_mode: bool) -> QuerySet[Event]:
    return Event.objects.filter(shipper=shipper, live_mode=live_mode)


def event_get(*, shipper, live_mode: bool, event_id) -> Event:
    return first_or_404(
        event_list(shipper=shipper, live_mode=live_mode).filter(id=event_id),
        f"No event with id '{event_id}'.",
    )


def subscription_list(*, shipper, live_mode: bool) -> QuerySet[Subscription]:
    return Subscription.objects.filter(shipper=shipper, live_mode=live_mode)


def subscription_get(*, shipper, live_mode: bool, subscription_id) -> Subscription:
    return first_or_404(
        subscription_list(shipper=shipper, live_mode=live_mode)
        .select_related("shipper")
        .filter(id=subscription_id),
        f"No webhook subscription with id '{subscription_id}'.",
    )


def delivery_list(*, shipper, live_mode: bool) -> QuerySet[Delivery]:
    return Delivery.objects.filter(
        subscription__shipper=shipper, subscription__live_mode=live_mode
    ).select_related("event", "subscription")


def delivery_get(*, shipper, live_mode: bool, delivery_id) -> Delivery:
    return first_or_404(
        delivery_list(shipper=shipper, live_mode=live_mode)
        .prefetch_related("attempt_log")
        .filter(id=delivery_id),
        f"No webhook delivery with id '{delivery_id}'.",
    )


def subscription_health(*, subscription_ids: list, since: datetime) -> dict:
    """Per subscription since ``since``: delivered, failed-so-far, backlog, last error time."""
    rows = (
        Delivery.objects.filter(subscription_id__in=subscription_ids)
        .values("subscription_id")
        .annotate(
            delivered=Count("id", filter=Q(status=DeliveryStatus.DELIVERED, created_at__gte=since)),
            failed=Count(
                "id",
                filter=Q(
                    status__in=[DeliveryStatus.RETRYING, DeliveryStatus.DEAD], created_at__gte=since
                ),
            ),
            backlog=Count(
                "id", filter=Q(status__in=[*DELIVERY_DUE_STATUSES, DeliveryStatus.SENDING])
            ),
            last_attempt=Max("attempt_log__at"),
        )
    )
    return {row["subscription_id"]: row for row in rows}
