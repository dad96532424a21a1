"""Customer notifications: the templates staff edit, what was sent (the log, one row per
idempotency key) and the receivers who opted out."""

import re
import uuid

from django.db import models
from django.db.models import Q

from accounts.tenancy import TenantQuerySet


class Channel(models.TextChoices):
    EMAIL = "email"
    SMS = "sms"


def address_normalise(channel: str, address: str) -> str:
    """One spelling per receiver: email addresses in lower case, phone numbers as ``+`` and
    digits (``+45 22 34 56 78`` and ``004522345678`` are the same phone)."""
    address = (address or "").strip()
    if channel == Channel.EMAIL:
        return address.lower()
    digits = re.sub(r"\D", "", address)
    if address.startswith("00"):
        digits = digits[2:]
    return f"+{digits}" if digits else ""


class MessageStatus(models.TextChoices):
    SENDING = "sending"  # claimed by one attempt; a crashed one is claimed again later
    SENT = "sent"
    FAILED = "failed"  # the provider failed; a retry with the same key tries again
    REFUSED = "refused"  # opted out, no address, a template or merge tag that is wrong


# Seed 004's schedule trigger: the ETA window SMS (NotificationOrderSmsSent's ``data``).
SCHEDULE_TRIGGER = "OrderScheduleTrigger"


class NotificationTemplate(models.Model):
    """An email (subject, text and HTML body) or SMS (text) with merge tags, per shipper or
    global (no shipper); a shipper's own template of a code wins over the global one."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    shipper = models.ForeignKey(
        "accounts.Shipper",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notification_templates",
        help_text="Empty: every shipper's (unless it has its own of this code).",
    )
    code = models.SlugField(max_length=100, help_text="What workflows name it by.")
    channel = models.CharField(max_length=10, choices=Channel.choices)
    name = models.CharField(max_length=200)
    subject = models.CharField(max_length=300, blank=True, help_text="Email only.")
    text_body = models.TextField(help_text="The SMS text, or the email's plain text part.")
    html_body = models.TextField(blank=True, help_text="Email only: the HTML part.")
    trigger_event = models.CharField(
        max_length=100,
        blank=True,
        help_text=f"What sends it, e.g. {SCHEDULE_TRIGGER} (the ETA window SMS) or a "
        "workflow's trigger; shown in the NotificationOrderSmsSent event.",
    )
    # Seed 004's template parameters (NotificationOrderSmsSent 2.0).
    time_subtracted_from_estimate = models.PositiveIntegerField(
        default=900, help_text="Seconds before the ETA the window sent opens."
    )
    time_added_to_estimate = models.PositiveIntegerField(
        default=900, help_text="Seconds after the ETA the window sent closes."
    )
    schedule_id = models.CharField(max_length=100, blank=True)
    update_pickup_promise = models.BooleanField(default=False)
    update_delivery_promise = models.BooleanField(
        default=False, help_text="Whether the window sent is the receiver's new promise."
    )
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["code", "channel"]
        constraints = [
            models.UniqueConstraint(
                fields=["shipper", "code", "channel"], name="one_template_per_shipper_code"
            ),
            models.UniqueConstraint(
                fields=["code", "channel"],
                condition=Q(shipper__isnull=True),
                name="one_global_template_per_code",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.channel} {self.code})"


class NotificationMessageQuerySet(TenantQuerySet):
    shipper_path = "order__shipper"
    live_mode_path = "order__live_mode"


class NotificationMessage(models.Model):
    """One notification, as rendered and sent (or refused, or failed): the log."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    key = models.CharField(max_length=255, unique=True, help_text="Sends once per key.")
    order = models.ForeignKey(
        "orders.Order", on_delete=models.CASCADE, related_name="notification_messages"
    )
    channel = models.CharField(max_length=10, choices=Channel.choices)
    template = models.ForeignKey(
        NotificationTemplate, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    template_code = models.CharField(max_length=100)
    trigger = models.CharField(max_length=100, blank=True)
    to = models.CharField(max_length=255, blank=True)
    from_address = models.CharField(max_length=255, blank=True)
    subject = models.CharField(max_length=300, blank=True)
    body = models.TextField(blank=True)
    html_body = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=MessageStatus.choices)
    test_mode = models.BooleanField(default=False, help_text="Written to the demo backends.")
    provider = models.CharField(max_length=50, blank=True)
    provider_id = models.CharField(max_length=200, blank=True)
    error = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
    eta_from = models.DateTimeField(null=True, blank=True)
    eta_to = models.DateTimeField(null=True, blank=True)
    update_delivery_promise = models.BooleanField(default=False)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = NotificationMessageQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["order", "created_at"], name="notification_order_time")]

    def __str__(self) -> str:
        return f"{self.channel} to {self.to or '-'} ({self.status})"


class ReceiverOptOut(models.Model):
    """A receiver (an email address or a phone number, as normalised by
    ``address_normalise``) who wants no more of a channel from a
    shipper."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    shipper = models.ForeignKey(
        "accounts.Shipper", on_delete=models.CASCADE, related_name="receiver_opt_outs"
    )
    channel = models.CharField(max_length=10, choices=Channel.choices)
    address = models.CharField(max_length=255, help_text="Email address or +phone number.")
    note = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["shipper", "channel", "address"], name="one_opt_out_per_address"
            )
        ]

    def __str__(self) -> str:
        return f"{self.address} ({self.channel})"

    def save(self, *args, **kwargs) -> None:
        self.address = address_normalise(self.channel, self.address)
        super().save(*args, **kwargs)


class EtaNotice(models.Model):
    """An ETA change that asks for the window SMS (seed 004's schedule trigger), written in
    the transaction of the change: the broker's or a worker's failure never loses it.
    ``queued_at`` stamps the task out for it, ``done_at`` that it was handled (sent, refused,
    or nothing to send); the sweeper queues one whose task was lost."""

    order = models.ForeignKey("orders.Order", on_delete=models.CASCADE, related_name="+")
    eta_from = models.DateTimeField()
    eta_to = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    queued_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["done_at", "queued_at"], name="eta_notice_pending")]

    def __str__(self) -> str:
        return f"ETA {self.eta_from:%Y-%m-%d %H:%M} for {self.order_id}"
