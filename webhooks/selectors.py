from __future__ import annotations

from datetime import datetime

from django.db import connection
from django.db.models import Count, Max, Q, QuerySet

from accounts.tenancy import Tenant
from config.errors import first_or_404
from config.sql import Columns, any_of, param, quote
from orders.models import Order
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


# --- the subscriptions an event fans out to, asked on every change: written by hand -----------

_SUBSCRIPTION = Columns(Subscription, "w")


def active_subscriptions(shipper_id, live_mode: bool) -> list[Subscription]:
    """The shipper's active subscriptions in that mode, newest first (as the model orders
    them)."""
    shipper = Subscription._meta.get_field("shipper")
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {_SUBSCRIPTION.sql} FROM {quote(Subscription._meta.db_table)} w "
            'WHERE w."shipper_id" = %s AND w."live_mode" = %s AND w."active" '
            'ORDER BY w."created_at" DESC',
            [param(shipper, shipper_id), live_mode],
        )
        return [_SUBSCRIPTION.instance(row) for row in cursor.fetchall()]


def orders_subscriptions_statement(order_ids) -> tuple[str, list]:
    """The statement reading the active subscriptions of the shippers of ``order_ids``, each
    in its order's mode, for ``config.sql.rows_read`` to send beside others; its rows go to
    ``subscriptions_by_tenant``."""
    by_id, params = any_of('o."id"', Order._meta.pk, order_ids)
    statement = (
        f"SELECT {_SUBSCRIPTION.sql} FROM {quote(Subscription._meta.db_table)} w "
        'WHERE w."active" AND (w."shipper_id", w."live_mode") IN (SELECT o."shipper_id", '
        f'o."live_mode" FROM {quote(Order._meta.db_table)} o WHERE {by_id}) '
        'ORDER BY w."created_at" DESC'
    )
    return statement, params


def subscriptions_by_tenant(rows, tenants) -> dict[tuple, list[Subscription]]:
    """``events_append``'s ``subscriptions``: those the rows hold, by (shipper id, live
    mode), every one of ``tenants`` included (most have none)."""
    found: dict[tuple, list[Subscription]] = {tenant: [] for tenant in tenants}
    for row in rows:
        subscription = _SUBSCRIPTION.instance(row)
        found.setdefault((subscription.shipper_id, subscription.live_mode), []).append(subscription)
    return found
