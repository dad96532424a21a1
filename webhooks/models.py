import uuid

from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models


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

    def envelope(self) -> dict:
        """The envelope every subscriber receives (seed 004)."""
        return {
            "id": str(self.id),
            "type": self.type,
            "version": self.version,
            "liveMode": self.live_mode,
            "dateTime": self.date_time.isoformat().replace("+00:00", "Z"),
            "data": self.data,
        }
