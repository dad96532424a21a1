"""Reads of notifications: which template a shipper's notification uses, the orders and
messages the admin shows."""

from __future__ import annotations

from django.db.models import F, Q

from notifications.models import (
    SCHEDULE_TRIGGER,
    Channel,
    NotificationMessage,
    NotificationTemplate,
)
from orders.models import Order


def _own_first(queryset):
    # A shipper's own template wins over the global one of the same code.
    return queryset.order_by(F("shipper").asc(nulls_last=True), "code")


def template_for(*, shipper, code: str, channel: str) -> NotificationTemplate | None:
    """The template ``code`` of ``channel`` a shipper's notification uses (its own, else the
    global one), active or not."""
    return _own_first(
        NotificationTemplate.objects.filter(code=code, channel=channel).filter(
            Q(shipper=shipper) | Q(shipper__isnull=True)
        )
    ).first()


def schedule_template_for(*, shipper) -> NotificationTemplate | None:
    """The active SMS template the schedule trigger (the ETA window) sends, if any."""
    return _own_first(
        NotificationTemplate.objects.filter(
            channel=Channel.SMS, trigger_event=SCHEDULE_TRIGGER, active=True
        ).filter(Q(shipper=shipper) | Q(shipper__isnull=True))
    ).first()


def schedule_templates_exist() -> bool:
    """Whether any shipper has an active schedule-trigger template (else no ETA asks for one)."""
    return NotificationTemplate.objects.filter(
        channel=Channel.SMS, trigger_event=SCHEDULE_TRIGGER, active=True
    ).exists()


def order_for_notification(order_id) -> Order | None:
    return Order.objects.select_related("shipper").filter(id=order_id).first()


def preview_order(*, template: NotificationTemplate, order_id=None) -> Order | None:
    """The order a template's preview renders: the one asked for, else the latest of the
    template's shipper (any shipper's for a global template)."""
    orders = Order.objects.select_related("shipper")
    if template.shipper_id:
        orders = orders.filter(shipper_id=template.shipper_id)
    if order_id:
        return orders.filter(id=order_id).first()
    return orders.order_by("-created_at").first()


def messages_of_order(order_id) -> list[NotificationMessage]:
    return list(NotificationMessage.objects.filter(order_id=order_id))
