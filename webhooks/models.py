import uuid

from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models

from accounts.tenancy import TenantQuerySet
from config.times import iso_local


class EventCategory(models.TextChoices):
    # Seed 003: ORCHESTRATION events trigger workflows; ORCHESTRATION_AUDIT ones record them.
    ORCHESTRATION = "ORCHESTRATION", "Orchestration"
    ORCHESTRATION_AUDIT = "ORCHESTRATION_AUDIT", "Orchestration audit"


class Event(models.Model):
    """The event log: append-only, written in the same transaction as the change it records."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    type = models.CharField(max_length=100)
    version = models.CharField(max_length=10)
    live_mode = models.BooleanField()
    date_time = models.DateTimeField()
    # The zone of the place the event is about (config.times): ``date_time`` stays UTC and is
    # shown with this zone's offset. Empty for events bound to no place, shown in UTC.
    time_zone = models.CharField(max_length=64, blank=True, default="")
    data = models.JSONField(encoder=DjangoJSONEncoder)
    category = models.CharField(
        max_length=32, choices=EventCategory.choices, default=EventCategory.ORCHESTRATION_AUDIT
    )
    # Reads are by tenant and mode, served by the composite indexes below.
    shipper = models.ForeignKey(
        "accounts.Shipper",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="events",
        db_index=False,
    )
    carrier = models.ForeignKey(
        "carriers.Carrier",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="events",
        db_index=False,
    )
    entity_type = models.CharField(max_length=50)
    entity_id = models.CharField(max_length=64)
    entity_ref = models.CharField(max_length=255, blank=True)
    root_entity_type = models.CharField(max_length=50)
    root_entity_id = models.CharField(max_length=64)
    root_entity_ref = models.CharField(max_length=255, blank=True)
    correlation_id = models.CharField(max_length=255, blank=True)

    # Only shippers read events: a carrier tenant sees none, even of its own plans, until
    # a carrier-facing event feed decides what a carrier may see.
    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-date_time"]
        indexes = [
            models.Index(fields=["shipper", "live_mode", "-date_time"]),
            models.Index(fields=["carrier", "live_mode", "-date_time"]),
            models.Index(fields=["root_entity_type", "root_entity_id"]),
        ]

    def __str__(self) -> str:
        return f"{self.type} v{self.version} {self.id}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ValidationError("Events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError("Events are append-only.")

    @property
    def date_time_local(self) -> str:
        """``dateTime`` as subscribers and the API see it: with the offset of the event's
        place, or ``Z`` when it has none."""
        if self.time_zone:
            return iso_local(self.date_time, self.time_zone)
        return self.date_time.isoformat().replace("+00:00", "Z")

    def envelope(self) -> dict:
        """The envelope every subscriber receives (seed 004)."""
        return {**self.envelope_head(), "data": self.data}

    def envelope_head(self, version: str | None = None) -> dict:
        """The envelope but its ``data``, which comes last; ``version`` when it is rebuilt."""
        return {
            "id": str(self.id),
            "type": self.type,
            "version": version or self.version,
            "liveMode": self.live_mode,
            "dateTime": self.date_time_local,
        }


class Subscription(models.Model):
    """Where a shipper wants its events: one URL, the types it takes, the version per type."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    shipper = models.ForeignKey(
        "accounts.Shipper", on_delete=models.CASCADE, related_name="webhook_subscriptions"
    )
    live_mode = models.BooleanField()
    url = models.URLField(
        max_length=2000, help_text="A token in the query string is kept and sent as given."
    )
    event_types = models.JSONField(default=list, help_text='Event types, or ["*"] for all.')
    versions = models.JSONField(
        default=dict, blank=True, help_text="Pinned version per event type; latest otherwise."
    )
    description = models.CharField(max_length=500, blank=True)
    active = models.BooleanField(default=True)
    secret = models.CharField(max_length=100)
    # After a rotation the old secret signs too, for a while, so receivers can switch over.
    previous_secret = models.CharField(max_length=100, blank=True)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    failing_since = models.DateTimeField(null=True, blank=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["shipper", "live_mode", "active"])]

    def __str__(self) -> str:
        return f"{self.shipper}: {self.url}"

    def wants(self, event_type: str) -> bool:
        return "*" in self.event_types or event_type in self.event_types


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    RETRYING = "retrying", "Retrying"
    DELIVERED = "delivered", "Delivered"
    DEAD = "dead", "Dead"
    CANCELLED = "cancelled", "Cancelled"


# A delivery in these states is waiting for its next attempt.
DELIVERY_DUE_STATUSES = (DeliveryStatus.PENDING, DeliveryStatus.RETRYING)
DELIVERY_FAILED_STATUSES = (DeliveryStatus.RETRYING, DeliveryStatus.DEAD)


class DeliveryQuerySet(TenantQuerySet):
    shipper_path = "subscription__shipper"
    live_mode_path = "subscription__live_mode"


class Delivery(models.Model):
    """One event to one subscription: the outbox row, written with the event it carries."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="deliveries")
    # Served by the (subscription, -created_at) index: every index here is written again at
    # each claim and settle, since they change the status.
    subscription = models.ForeignKey(
        Subscription, on_delete=models.CASCADE, related_name="deliveries", db_index=False
    )
    version = models.CharField(max_length=10)
    # Set only when the subscription pins another version than the event's stored one.
    payload = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder)
    status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    claimed_until = models.DateTimeField(null=True, blank=True)
    # When a message naming this delivery was put on the queue (at fan-out, replay, a retry's
    # countdown, by the sweeper), or None when none is out: a worker took it, the broker
    # refused it, or its retry waits for the sweeper. The sweeper queues it again only once
    # this is older than WEBHOOK_QUEUE_LEASE, so work waiting in a long queue is not doubled.
    queued_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=1000, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    replay_of = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="replays",
        db_index=False,  # the partial index below: few deliveries are replays
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = DeliveryQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "deliveries"
        permissions = [("replay_delivery", "Can replay webhook deliveries")]
        # The sweeper's questions, each over a partial index that holds only the open rows it
        # asks about, so a sweep costs the same whatever the size of the history. Delivered,
        # dead and cancelled deliveries are never queued again (a replay is a new delivery).
        indexes = [
            models.Index(fields=["subscription", "-created_at"]),
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(status__in=DELIVERY_DUE_STATUSES, queued_at__isnull=True),
                name="delivery_due_unqueued",
            ),
            models.Index(
                fields=["queued_at"],
                condition=models.Q(status__in=DELIVERY_DUE_STATUSES, queued_at__isnull=False),
                name="delivery_queued",
            ),
            models.Index(
                fields=["claimed_until"],
                condition=models.Q(status=DeliveryStatus.SENDING),
                name="delivery_claimed",
            ),
            models.Index(
                fields=["replay_of"],
                condition=models.Q(replay_of__isnull=False),
                name="delivery_replay_of",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_id} → {self.subscription_id} ({self.status})"


class DeliveryAttempt(models.Model):
    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log")
    at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.CharField(max_length=1024, blank=True)
    error = models.CharField(max_length=1000, blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.status_code or self.error}"

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300
