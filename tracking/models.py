"""The timeline of what carriers report, and proof of delivery."""

import uuid

from django.db import models


class TrackingEvent(models.Model):
    """One entry of an order's (or a collo's, or a route's) timeline: a fact a carrier
    reported, whether or not it moved a status (an older fact never moves one back)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    carrier = models.ForeignKey(
        "carriers.Carrier", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    external_id = models.CharField(max_length=200, blank=True)
    type = models.CharField(max_length=60)
    order = models.ForeignKey(
        "orders.Order",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="tracking_events",
        db_index=False,  # ``tracking_order_time`` leads with the order: one index less to write
    )
    collo = models.ForeignKey(
        "orders.Collo", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    route = models.ForeignKey(
        "routing.Route", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    time_of_event = models.DateTimeField()
    received_at = models.DateTimeField(auto_now_add=True)
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    driver = models.JSONField(default=dict, blank=True)
    executor = models.JSONField(default=dict, blank=True)
    deviation = models.JSONField(default=dict, blank=True)
    images = models.JSONField(default=list, blank=True)
    eta_from = models.DateTimeField(null=True, blank=True)
    eta_to = models.DateTimeField(null=True, blank=True)
    source = models.CharField(max_length=20)
    # False when the fact was older than the last one applied: kept, but moved nothing.
    applied = models.BooleanField(default=True)
    raw = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["time_of_event", "received_at"]
        indexes = [models.Index(fields=["order", "time_of_event"], name="tracking_order_time")]
        constraints = [
            models.UniqueConstraint(
                fields=["carrier", "external_id"],
                condition=~models.Q(external_id=""),
                name="one_event_per_carrier_event_id",
            )
        ]

    def __str__(self) -> str:
        return f"{self.type} at {self.time_of_event:%Y-%m-%d %H:%M}"


class CarrierEventsToken(models.Model):
    """A token a carrier's platform puts in the query string (it can set no headers); only
    its hash is kept, like API keys."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    carrier = models.ForeignKey("carriers.Carrier", on_delete=models.CASCADE, related_name="+")
    live_mode = models.BooleanField(default=False)
    prefix = models.CharField(max_length=20, unique=True)
    hashed = models.CharField(max_length=128)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.carrier})"


class ProofOfDelivery(models.Model):
    """What a carrier proves delivery with: a signature and photos."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    order = models.OneToOneField("orders.Order", on_delete=models.CASCADE, related_name="pod")
    carrier = models.ForeignKey("carriers.Carrier", on_delete=models.PROTECT, related_name="+")
    signed_by = models.CharField(max_length=200, blank=True)
    signed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"POD of {self.order}"


class PodImageKind(models.TextChoices):
    SIGNATURE = "signature", "Signature"
    PHOTO = "photo", "Photo"
    DEVIATION = "deviation", "Deviation"


class PodImage(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    pod = models.ForeignKey(ProofOfDelivery, on_delete=models.CASCADE, related_name="images")
    kind = models.CharField(max_length=20, choices=PodImageKind.choices)
    file = models.FileField(upload_to="pod/%Y/%m/")
    content_type = models.CharField(max_length=50)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    size = models.PositiveIntegerField(help_text="bytes")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.width}×{self.height}"
