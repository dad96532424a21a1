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


# --- workflows staff define (the engine: workflows/engine.py) -------------------------------


class TriggerKind(models.TextChoices):
    ORDER_EVENT = "order_event", "Order event (seed 002)"
    ASYNC_EVENT = "async_event", "Async event (seed 003)"
    OUTGOING_EVENT = "outgoing_event", "Outgoing event (catalogue)"


class Workflow(models.Model):
    """A staff-defined rule: when ``trigger`` happens and every condition holds, run the
    actions in order. Edited in the admin; run by ``workflows.engine``."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=100, unique=True)
    active = models.BooleanField(default=True)
    trigger_kind = models.CharField(max_length=20, choices=TriggerKind.choices)
    # An order event type, an async event name, or an outgoing event type (EventName).
    trigger_name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["trigger_kind", "trigger_name"], name="workflow_trigger")]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        from workflows.engine import triggers_forget

        super().save(*args, **kwargs)
        triggers_forget()

    def delete(self, *args, **kwargs):
        from workflows.engine import triggers_forget

        result = super().delete(*args, **kwargs)
        triggers_forget()
        return result

    def clean(self) -> None:
        from workflows.conditions import trigger_check

        trigger_check(self.trigger_kind, self.trigger_name)


class WorkflowCondition(models.Model):
    """One test a triggering event must pass; all of a workflow's conditions must hold.
    Subjects and operators: ``workflows.conditions``."""

    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="conditions")
    subject = models.CharField(max_length=30)
    # The attribute's name (dotted for nested values) when the subject is an event attribute.
    key = models.CharField(max_length=100, blank=True)
    operator = models.CharField(max_length=20)
    value = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        subject = f"{self.subject}[{self.key}]" if self.key else self.subject
        return f"{subject} {self.operator} {self.value}"

    def clean(self) -> None:
        from workflows.conditions import condition_check

        condition_check(self)


class WorkflowAction(models.Model):
    """One step of a workflow, of a kind from the one registry (``workflows.actions``), with
    the parameters that kind declares."""

    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="actions")
    position = models.PositiveIntegerField(default=0)
    kind = models.CharField(max_length=30)
    params = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return f"{self.position}. {self.kind}"

    def clean(self) -> None:
        from workflows.actions import action_params_check

        self.params = action_params_check(self.kind, self.params)


class WorkflowRunStatus(models.TextChoices):
    PENDING = "pending"
    RETRYING = "retrying"
    DONE = "done"
    SKIPPED = "skipped"  # its conditions did not hold
    FAILED = "failed"
    STOPPED = "stopped"  # a loop: too deep or too many runs for the order


WORKFLOW_RUN_OPEN = (WorkflowRunStatus.PENDING, WorkflowRunStatus.RETRYING)


class WorkflowRun(models.Model):
    """One workflow run for one triggering event, written in the transaction of the trigger.
    ``next_action`` is where it resumes after a retry: actions done are never redone."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="runs")
    # "event:<id>" or "order-event:<id>@<updated_at>": one run per workflow and trigger.
    trigger_key = models.CharField(max_length=120)
    trigger_event = models.ForeignKey(
        "webhooks.Event", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    order_event = models.ForeignKey(
        OrderEvent, null=True, blank=True, on_delete=models.CASCADE, related_name="runs"
    )
    order = models.ForeignKey(
        "orders.Order", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    shipper = models.ForeignKey(
        "accounts.Shipper", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    live_mode = models.BooleanField(default=False)
    # Runs caused by the actions of other runs: 0 for an outside trigger.
    depth = models.PositiveIntegerField(default=0)
    status = models.CharField(
        max_length=10, choices=WorkflowRunStatus.choices, default=WorkflowRunStatus.PENDING
    )
    next_action = models.PositiveIntegerField(default=0)
    attempts = models.PositiveIntegerField(default=0)  # of the action at ``next_action``
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    queued_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=500, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["workflow", "trigger_key"], name="one_workflow_run_per_trigger"
            )
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="workflow_run_open"),
            models.Index(fields=["workflow", "order", "created_at"], name="workflow_run_order"),
        ]

    def __str__(self) -> str:
        return f"{self.workflow_id} {self.trigger_key} {self.status}"
