import uuid

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models


class PlanningPolicy(models.TextChoices):
    CHEAPEST = "cheapest", "Cheapest"
    FASTEST = "fastest", "Fastest"
    BALANCED = "balanced", "Balanced (cost, speed and on-time rate)"


class Shipper(models.Model):
    """A tenant that sends orders (the seeds' ``creatorId`` / ``ownerId``)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=100, unique=True)
    contact_email = models.EmailField(blank=True)
    active = models.BooleanField(default=True)
    # Orders that name no pickup location are collected here.
    default_pickup_address_primary = models.CharField(max_length=255, blank=True)
    default_pickup_address_secondary = models.CharField(max_length=255, blank=True)
    default_pickup_postal_code = models.CharField(max_length=20, blank=True)
    default_pickup_country_code = models.CharField(max_length=2, blank=True)
    default_pickup_latitude = models.FloatField(null=True, blank=True)
    default_pickup_longitude = models.FloatField(null=True, blank=True)
    default_pickup_time_zone = models.CharField(max_length=64, default="Europe/Copenhagen")
    planning_policy = models.CharField(
        max_length=10,
        choices=PlanningPolicy.choices,
        default=PlanningPolicy.CHEAPEST,
        help_text="How Waybill chooses among the carrier options that can take an order.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ApiKeyMode(models.TextChoices):
    LIVE = "live", "Live"
    TEST = "test", "Test"


class ApiKey(models.Model):
    """A bearer key of one shipper or one carrier. Only the SHA-256 of the key is kept."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200, blank=True)
    shipper = models.ForeignKey(
        Shipper, null=True, blank=True, on_delete=models.CASCADE, related_name="api_keys"
    )
    carrier = models.ForeignKey(
        "carriers.Carrier",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="api_keys",
    )
    mode = models.CharField(max_length=4, choices=ApiKeyMode.choices)
    prefix = models.CharField(
        max_length=16, help_text="The key's first characters, to tell keys apart."
    )
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(shipper__isnull=False, carrier__isnull=True)
                    | models.Q(shipper__isnull=True, carrier__isnull=False)
                ),
                name="api_key_belongs_to_one_tenant",
            )
        ]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.tenant})"

    @property
    def tenant(self):
        return self.shipper or self.carrier

    @property
    def live_mode(self) -> bool:
        return self.mode == ApiKeyMode.LIVE


class IdempotencyRecord(models.Model):
    """The first answer to a POST carrying an ``Idempotency-Key``, replayed for 24 hours."""

    scope = models.CharField(max_length=100, help_text="Tenant and mode the key belongs to.")
    key = models.CharField(max_length=255)
    request_fingerprint = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(null=True)
    response_body = models.JSONField(null=True, encoder=DjangoJSONEncoder)
    # The headers a view set itself (Location, …): a replay is the first answer in full.
    response_headers = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["scope", "key"], name="idempotency_key_once_per_scope")
        ]

    def __str__(self) -> str:
        return f"{self.key} ({self.scope})"
