import secrets
import uuid

from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models

from accounts.tenancy import TenantQuerySet


class OrderStatus(models.TextChoices):
    CREATED = "created", "Created"
    UNPLANNED = "unplanned", "Unplanned"
    PLANNED = "planned", "Planned"
    ON_ROUTE = "on_route", "On route"
    PICKED_UP = "picked_up", "Picked up"
    PARTIALLY_DELIVERED = "partially_delivered", "Partially delivered"
    DELIVERED = "delivered", "Delivered"
    DELIVERY_FAILED = "delivery_failed", "Delivery failed"
    RETURNED = "returned", "Returned"
    CANCELLED = "cancelled", "Cancelled"


S = OrderStatus
# The one table of legal moves; every status change goes through ``order_can_move``.
ORDER_TRANSITIONS: dict[str, frozenset[str]] = {
    S.CREATED: frozenset({S.PLANNED, S.UNPLANNED, S.ON_ROUTE, S.CANCELLED}),
    S.UNPLANNED: frozenset({S.PLANNED, S.ON_ROUTE, S.CANCELLED}),
    S.PLANNED: frozenset({S.PLANNED, S.UNPLANNED, S.ON_ROUTE, S.PICKED_UP, S.CANCELLED}),
    S.ON_ROUTE: frozenset({S.PLANNED, S.UNPLANNED, S.PICKED_UP, S.CANCELLED}),
    S.PICKED_UP: frozenset({S.PARTIALLY_DELIVERED, S.DELIVERED, S.DELIVERY_FAILED, S.RETURNED}),
    # Some collis delivered, the rest still under way.
    S.PARTIALLY_DELIVERED: frozenset({S.DELIVERED, S.DELIVERY_FAILED, S.RETURNED}),
    S.DELIVERY_FAILED: frozenset({S.DELIVERED, S.RETURNED}),
    S.DELIVERED: frozenset(),
    S.RETURNED: frozenset(),
    S.CANCELLED: frozenset(),
}
# Before pickup everything about an order may change; after it only these fields.
FIELDS_EDITABLE_AFTER_PICKUP = frozenset({"pickupContact", "deliveryContact", "notes"})
# The status sets other apps ask about; every status move itself goes through
# ``orders.services.order_statuses_move``.
PICKED_UP_OR_LATER = frozenset(
    {S.PICKED_UP, S.PARTIALLY_DELIVERED, S.DELIVERED, S.DELIVERY_FAILED, S.RETURNED}
)
# Carrier planning (re)decides these when they change; later ones keep their allocation.
PLANNABLE = frozenset({S.CREATED, S.UNPLANNED, S.PLANNED})
# An optimisation job takes these: not yet picked up and not on a route. A carrier booking
# does not keep an order out; approving the job releases it (one allocation per order).
ROUTABLE = frozenset({S.CREATED, S.UNPLANNED, S.PLANNED})
# Moves that set a time stamp of their own, written with the status.
STATUS_STAMPS = {S.CANCELLED: "cancelled_at", S.DELIVERED: "delivered_at"}


def tracking_token_new() -> str:
    return secrets.token_urlsafe(32)


def order_can_move(current: str, new: str) -> bool:
    return new in ORDER_TRANSITIONS[current]


class Order(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # Every read is by shipper and mode first, served by the composite index and the unique
    # constraint; single-column indexes would only slow the insert path.
    shipper = models.ForeignKey(
        "accounts.Shipper", on_delete=models.PROTECT, related_name="orders", db_index=False
    )
    live_mode = models.BooleanField()
    creator_order_id = models.CharField(max_length=100)
    relational_id = models.CharField(max_length=100, blank=True, db_index=True)
    tags = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=20, choices=OrderStatus.choices, default=S.CREATED)
    notes = models.TextField(blank=True)
    custom_fields = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    currency = models.CharField(max_length=3, default="DKK")

    pickup_address_primary = models.CharField(max_length=255)
    pickup_address_secondary = models.CharField(max_length=255, blank=True)
    pickup_postal_code = models.CharField(max_length=20, blank=True)
    pickup_country_code = models.CharField(max_length=2, blank=True)
    pickup_latitude = models.FloatField(null=True, blank=True)
    pickup_longitude = models.FloatField(null=True, blank=True)
    pickup_time_zone = models.CharField(max_length=64, default="Europe/Copenhagen")
    pickup_contact = models.JSONField(null=True, blank=True)
    pickup_from = models.DateTimeField(null=True, blank=True)
    pickup_to = models.DateTimeField(null=True, blank=True)

    delivery_address_primary = models.CharField(max_length=255)
    delivery_address_secondary = models.CharField(max_length=255, blank=True)
    delivery_postal_code = models.CharField(max_length=20, blank=True)
    delivery_country_code = models.CharField(max_length=2, blank=True)
    delivery_latitude = models.FloatField(null=True, blank=True)
    delivery_longitude = models.FloatField(null=True, blank=True)
    delivery_time_zone = models.CharField(max_length=64, default="Europe/Copenhagen")
    delivery_contact = models.JSONField(null=True, blank=True)
    delivery_from = models.DateTimeField(null=True, blank=True)
    delivery_to = models.DateTimeField(null=True, blank=True)

    # Set with every change that calls for (re)planning, cleared by planning: the outbox the
    # planning sweeper reads, so a lost task never leaves an order unplanned.
    needs_planning = models.BooleanField(default=True)
    # When its planning task was queued, in the same write as ``needs_planning``; None when no
    # task is out for it (planning it failed, or the broker refused the task). The sweeper
    # queues it again only past PLANNING_QUEUE_LEASE, so orders waiting in a long queue are
    # not queued twice.
    planning_queued_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(max_length=500, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    # Set when the shipper's POS no longer knows the order but it could not be cancelled.
    gone_from_pos_at = models.DateTimeField(null=True, blank=True)
    # The receiver's tracking page is /t/<tracking_token>: unguessable, one per order.
    tracking_token = models.CharField(max_length=43, unique=True, default=tracking_token_new)
    # Geocoding found no position for an order sent without one: dispatchers look at it.
    geo_location_failed_at = models.DateTimeField(null=True, blank=True)
    # A place lacks its position and the geocoder has not answered yet; with when its task was
    # queued (None when none is out), so the sweeper queues again only what was lost.
    needs_geocoding = models.BooleanField(default=False)
    geocoding_queued_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        # Cancelling is its own grant: the order's fields are read-only in the admin anyway.
        permissions = [("cancel_order", "Can cancel an order")]
        constraints = [
            models.UniqueConstraint(
                fields=["shipper", "live_mode", "creator_order_id"],
                name="order_creator_order_id_unique_per_shipper_and_mode",
            )
        ]
        indexes = [
            models.Index(fields=["shipper", "live_mode", "-created_at"]),
            models.Index(
                fields=["planning_queued_at"],
                condition=models.Q(needs_planning=True),
                name="order_needs_planning",
            ),
            models.Index(
                fields=["geocoding_queued_at"],
                condition=models.Q(needs_geocoding=True),
                name="order_needs_geocoding",
            ),
        ]

    def __str__(self) -> str:
        return self.creator_order_id

    @property
    def is_picked_up(self) -> bool:
        return self.status in PICKED_UP_OR_LATER

    def can_cancel(self) -> bool:
        return order_can_move(self.status, S.CANCELLED)


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveIntegerField()
    reference = models.CharField(max_length=100, blank=True)
    description = models.CharField(max_length=500, blank=True)
    quantity = models.DecimalField(max_digits=12, decimal_places=3)
    price = models.DecimalField(
        max_digits=14, decimal_places=2, help_text="Unit price, tax excluded."
    )
    tax_rate = models.DecimalField(max_digits=5, decimal_places=2, default=0, help_text="Percent.")

    class Meta:
        ordering = ["position"]

    def __str__(self) -> str:
        return self.reference or self.description or f"line {self.position}"


class Collo(models.Model):
    """A parcel of an order."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="collis")
    position = models.PositiveIntegerField()
    barcode = models.CharField(max_length=100, blank=True, db_index=True)
    description = models.CharField(max_length=500, blank=True)
    weight = models.DecimalField(max_digits=10, decimal_places=3, help_text="kg")
    volume = models.DecimalField(
        max_digits=10, decimal_places=4, null=True, blank=True, help_text="m³"
    )
    length = models.DecimalField(
        max_digits=8, decimal_places=1, null=True, blank=True, help_text="cm"
    )
    width = models.DecimalField(
        max_digits=8, decimal_places=1, null=True, blank=True, help_text="cm"
    )
    height = models.DecimalField(
        max_digits=8, decimal_places=1, null=True, blank=True, help_text="cm"
    )
    tags = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["position"]
        verbose_name_plural = "collis"

    def __str__(self) -> str:
        return self.barcode or f"collo {self.position}"


class OrderHistory(models.Model):
    """Append-only: who changed what on an order, and when."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="history")
    at = models.DateTimeField(auto_now_add=True)
    actor = models.CharField(max_length=200)
    action = models.CharField(max_length=50)
    changes = models.JSONField(default=dict, encoder=DjangoJSONEncoder)
    note = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name_plural = "order history"

    def __str__(self) -> str:
        return f"{self.action} by {self.actor}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ValidationError("Order history is append-only.")
        super().save(*args, **kwargs)


class PosIntegration(models.Model):
    """Where Waybill fetches a shipper's orders when its POS sends a thin event (seed 001)."""

    shipper = models.ForeignKey(
        "accounts.Shipper", on_delete=models.CASCADE, related_name="pos_integrations"
    )
    live_mode = models.BooleanField(default=True)
    base_url = models.URLField(help_text="Orders are fetched from {base_url}/orders/{entityId}.")
    auth_header_name = models.CharField(max_length=100, default="Authorization")
    auth_header_value = models.CharField(max_length=500, blank=True)
    active = models.BooleanField(default=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["shipper", "live_mode"], name="one_pos_integration_per_mode"
            )
        ]
        verbose_name = "POS integration"

    def __str__(self) -> str:
        return f"{self.shipper} ({'live' if self.live_mode else 'test'}): {self.base_url}"


class PosFetchStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    RETRYING = "retrying", "Retrying"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


# Done and failed fetches never run again; these the sweeper watches over.
POS_FETCH_OPEN_STATUSES = (PosFetchStatus.PENDING, PosFetchStatus.RETRYING, PosFetchStatus.RUNNING)


class PosFetch(models.Model):
    """One thin POS event and the fetch it causes; the row, not the queued task, is the truth."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    shipper = models.ForeignKey(
        "accounts.Shipper", on_delete=models.CASCADE, related_name="pos_fetches"
    )
    live_mode = models.BooleanField()
    event_type = models.CharField(max_length=50)
    entity_id = models.CharField(max_length=100)
    status = models.CharField(
        max_length=10, choices=PosFetchStatus.choices, default=PosFetchStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(db_index=True)
    # When a message for it was queued (on acceptance, a retry's countdown, by the sweeper),
    # or None when none is out: a worker took it, or the broker refused the message. The
    # sweeper queues it again only past POS_FETCH_QUEUE_LEASE.
    queued_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    outcome = models.CharField(max_length=200, blank=True)
    order = models.ForeignKey(
        Order, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "POS fetch"
        # The sweeper's "queued long ago?", over the open fetches only.
        indexes = [
            models.Index(
                fields=["queued_at"],
                condition=models.Q(status__in=POS_FETCH_OPEN_STATUSES, queued_at__isnull=False),
                name="posfetch_queued",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.entity_id}"
