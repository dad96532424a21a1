"""Order events (seed 002): facts a shipper registers against an order, which workflows may
act on. An order event never moves the order's status by itself."""

import uuid

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models

from accounts.tenancy import TenantQuerySet


class OrderEventType(models.TextChoices):
    CANCELLED = "cancelled"
    COMPLETED = "completed"
    DELIVERED = "delivered"
    DISPATCHED = "dispatched"
    DISPUTED = "disputed"
    FULFILLED = "fulfilled"
    PROCESSING = "processing"
    REFUNDED = "refunded"


# The seed's own spelling of fulfilled, accepted as written.
ORDER_EVENT_TYPE_SPELLINGS = {"fullfilled": OrderEventType.FULFILLED}

# What an order event line may override of its order line (seed 002), by name.
LINE_OVERRIDES = (
    "product_price_tax",
    "product_original_price",
    "product_price",
    "product_price_inc_tax",
    "quantity",
    "row_total",
    "row_total_inc_tax",
    "row_total_discount",
)


class OrderEventQuerySet(TenantQuerySet):
    shipper_path = "order__shipper"
    live_mode_path = "order__live_mode"


class OrderEvent(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    order = models.ForeignKey("orders.Order", on_delete=models.CASCADE, related_name="order_events")
    event_reference = models.CharField(max_length=100)
    event_type = models.CharField(max_length=20, choices=OrderEventType.choices)
    event_date = models.DateTimeField()
    message = models.TextField(blank=True)
    # None: every line of the order; else [{"order_line_id": …, overrides…}], values as text.
    lines = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder)
    custom_fields = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = OrderEventQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["order", "event_reference"], name="one_order_event_per_reference"
            )
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_reference}"


class RunStatus(models.TextChoices):
    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"


class OrchestrationRun(models.Model):
    """What became of an ``ORCHESTRATION`` event posted to ``/event/async``: the event is
    append-only, so its processing is kept here (and audited as ``ORCHESTRATION_AUDIT``
    events). ``queued_at`` stamps the task out for it; the sweeper queues a lost one again."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    event = models.OneToOneField(
        "webhooks.Event", on_delete=models.CASCADE, related_name="orchestration_run"
    )
    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    queued_at = models.DateTimeField(null=True, blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=500, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "queued_at"], name="orchestration_run_pending")]

    def __str__(self) -> str:
        return f"{self.event_id} {self.status}"
