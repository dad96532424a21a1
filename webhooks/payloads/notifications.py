"""``data`` payloads of the NotificationOrderSmsSent event, versions 1.0 and 2.0 (seeds/004).

The nested ``data`` object depends on the template's trigger: per the seed (as of 23 September
2025) only OrderScheduleTrigger fills it, with the shape modelled here; every other trigger
(e.g. OrderDeliveryETAProvided) sends ``data: null``.
"""

from pydantic import Field

from .common import OrderRef, PayloadModel, TimeFrame


class Sms(PayloadModel):
    """The text message as sent: sender, recipient and text."""

    from_: str = Field(alias="from")
    to: str
    content: str


class SmsTemplateV1(PayloadModel):
    """The notification template that produced the SMS (v1: no parameters)."""

    id: str
    name: str
    triggerEvent: str


class SmsTemplateParameters(PayloadModel):
    """Schedule parameters of the template (v2): ETA padding in seconds, promise updates."""

    timeAddedToEstimate: int
    timeSubtractedFromEstimate: int
    scheduleId: str
    updatePickupPromise: bool
    updateDeliveryPromise: bool


class SmsTemplateV2(PayloadModel):
    """The notification template that produced the SMS, with its parameters."""

    id: str
    name: str
    triggerEvent: str
    parameters: SmsTemplateParameters


class OrderScheduleSmsDataV1(PayloadModel):
    """Trigger data of an OrderScheduleTrigger SMS (v1): the delivery ETA window sent."""

    deliveryEtaWindow: TimeFrame
    updateDeliveryPromise: bool


class OrderScheduleSmsDataV2(PayloadModel):
    """Trigger data of an OrderScheduleTrigger SMS (v2): the ETA windows sent."""

    deliveryEtaWindow: TimeFrame
    pickupEtaWindow: TimeFrame


class NotificationOrderSmsSentV1(PayloadModel):
    """Sent when an SMS notification about an order has been sent (version 1.0)."""

    order: OrderRef
    sms: Sms
    template: SmsTemplateV1
    data: OrderScheduleSmsDataV1 | None
    correlationId: str
    timeOfEvent: str


class NotificationOrderSmsSentV2(PayloadModel):
    """Sent when an SMS notification about an order has been sent (version 2.0)."""

    order: OrderRef
    sms: Sms
    template: SmsTemplateV2
    data: OrderScheduleSmsDataV2 | None
    correlationId: str
    timeOfEvent: str
