from __future__ import annotations

from datetime import datetime

from django.db.models import Count, Max, Q, QuerySet

from accounts.tenancy import Tenant
from config.errors import first_or_404
from webhooks.models import (
    DELIVERY_DUE_STATUSES,
    Delivery,
    DeliveryStatus,
    Event,
    Subscription,
)


def event_list(*, tenant: Tenant) -> QuerySet[Event]:
    return Event.objects.of(tenant)


def event_get(*, tenant: Tenant, event_id) -> Event:
    return first_or_404(
        event_list(tenant=tenant).filter(id=event_id),
        f"No event with id '{event_id}'.",
    )


def subscription_list(*, tenant: Tenant) -> QuerySet[Subscription]:
    return Subscription.objects.of(tenant)


def subscription_get(*, tenant: Tenant, subscription_id) -> Subscription:
    return first_or_404(
        subscription_list(tenant=tenant).select_related("shipper").filter(id=subscription_id),
        f"No webhook subscription with id '{subscription_id}'.",
    )


def delivery_list(*, tenant: Tenant) -> QuerySet[Delivery]:
    return Delivery.objects.of(tenant).select_related("event", "subscription")


def delivery_get(*, tenant: Tenant, delivery_id) -> Delivery:
    return first_or_404(
        delivery_list(tenant=tenant).prefetch_related("attempt_log").filter(id=delivery_id),
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
