"""``NotificationOrderSmsSent`` (seed 004, versions 1.0 and 2.0): every SMS sent about an
order, to the shipper's subscribers. The payload models are the seed's
(``webhooks.payloads.notifications``); the builders are attached here.

Builders are pure: they render the order (with its shipper), the message row and its
template as ``notifications.services`` loaded them. ``data`` is filled for the schedule
trigger (the ETA window SMS) only, as the seed says; ``null`` for every other trigger.
The delivery ETA window is in the delivery location's zone; the pickup window (v2) is the
order's pickup time frame in the pickup location's zone (Waybill keeps no pickup ETA), empty
when the order has none.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from config.times import DELIVERY, PICKUP, iso_local, order_zone
from notifications.models import SCHEDULE_TRIGGER
from orders.documents import order_reference
from webhooks.catalogue import EventName, builders_attach


def _sms(message) -> dict[str, str]:
    return {"from": message.from_address, "to": message.to, "content": message.body}


def _template_v1(template, message) -> dict[str, str]:
    return {
        "id": str(template.id),
        "name": template.name,
        "triggerEvent": message.trigger or template.trigger_event,
    }


def _frame(start: datetime | None, end: datetime | None, zone: str) -> dict[str, str]:
    return {"from": iso_local(start, zone) or "", "to": iso_local(end, zone) or ""}


def _scheduled(message) -> bool:
    return message.trigger == SCHEDULE_TRIGGER and message.eta_from is not None


def notification_order_sms_sent_v1(
    *, order, message, template, time_of_event: datetime
) -> dict[str, Any]:
    data = None
    if _scheduled(message):
        data = {
            "deliveryEtaWindow": _frame(
                message.eta_from, message.eta_to, order_zone(order, DELIVERY)
            ),
            "updateDeliveryPromise": message.update_delivery_promise,
        }
    return {
        "order": order_reference(order),
        "sms": _sms(message),
        "template": _template_v1(template, message),
        "data": data,
        "correlationId": "",
        "timeOfEvent": iso_local(time_of_event, order_zone(order)),
    }


def notification_order_sms_sent_v2(
    *, order, message, template, time_of_event: datetime
) -> dict[str, Any]:
    data = None
    if _scheduled(message):
        data = {
            "deliveryEtaWindow": _frame(
                message.eta_from, message.eta_to, order_zone(order, DELIVERY)
            ),
            "pickupEtaWindow": _frame(
                order.pickup_from, order.pickup_to, order_zone(order, PICKUP)
            ),
        }
    return {
        "order": order_reference(order),
        "sms": _sms(message),
        "template": {
            **_template_v1(template, message),
            "parameters": {
                "timeAddedToEstimate": template.time_added_to_estimate,
                "timeSubtractedFromEstimate": template.time_subtracted_from_estimate,
                "scheduleId": template.schedule_id,
                "updatePickupPromise": template.update_pickup_promise,
                "updateDeliveryPromise": message.update_delivery_promise
                if _scheduled(message)
                else template.update_delivery_promise,
            },
        },
        "data": data,
        "correlationId": "",
        "timeOfEvent": iso_local(time_of_event, order_zone(order)),
    }


builders_attach(
    EventName.NOTIFICATION_ORDER_SMS_SENT,
    {"1.0": notification_order_sms_sent_v1, "2.0": notification_order_sms_sent_v2},
)
