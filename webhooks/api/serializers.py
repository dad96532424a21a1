from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from config.api.fields import (
    BoundedDateTimeField,
    StrictBooleanField,
    StrictCharField,
    StrictSerializer,
)
from webhooks.catalogue import CATALOGUE
from webhooks.models import DeliveryStatus, EventCategory

# What the catalogue makes of a subscription's types and pinned versions; the service checks
# them (with messages that point at /webhooks/event-types), the schema states them.
EVENT_TYPE_SCHEMA = {"type": "string", "enum": ["*", *sorted(CATALOGUE)]}
VERSIONS_SCHEMA = {
    "type": "object",
    "description": "A version pinned per event type; unpinned types get their latest.",
    "properties": {
        name: {"type": "string", "enum": sorted(event_type.versions)}
        for name, event_type in sorted(CATALOGUE.items())
    },
    "additionalProperties": False,
}


@extend_schema_field(EVENT_TYPE_SCHEMA)
class EventTypeField(StrictCharField):
    """An event type of the catalogue, or `*` for all."""


@extend_schema_field(VERSIONS_SCHEMA)
class VersionsField(serializers.DictField):
    """Pinned versions by event type."""


@extend_schema_field(
    {
        "type": "object",
        "description": (
            "The event's payload. Its JSON Schema per type and version is in "
            "GET /webhooks/event-types and in this document's WebhookPayload… components."
        ),
    }
)
class EventDataField(serializers.JSONField):
    """An event's payload as subscribers receive it."""


@extend_schema_field(
    {
        "type": "object",
        "description": "A JSON Schema (2020-12) of the version's envelope.",
        "required": ["title", "type", "required", "properties"],
        "properties": {
            "$schema": {"type": "string"},
            "title": {"type": "string"},
            "type": {"const": "object"},
            "required": {"type": "array", "items": {"type": "string"}},
            "properties": {
                "type": "object",
                "description": "The envelope's fields, each with its JSON Schema.",
            },
        },
    }
)
class JsonSchemaField(serializers.JSONField):
    """A JSON Schema document."""


class EventSerializer(serializers.Serializer):
    """An event: the envelope subscribers receive, and where it came from (seed 003)."""

    id = serializers.UUIDField()
    type = serializers.CharField()
    name = serializers.CharField(source="type", help_text="The same as type (seed 003).")
    version = serializers.CharField()
    liveMode = serializers.BooleanField(source="live_mode")  # noqa: N815
    dateTime = serializers.DateTimeField(  # noqa: N815
        source="date_time_local",
        help_text="With the UTC offset of the place the event is about (its order's, route's "
        "or job's); Z for events bound to no place.",
    )
    data = EventDataField()
    attributes = EventDataField(
        source="data", help_text="The same as data: seed 003's name for what an event carries."
    )
    category = serializers.ChoiceField(
        choices=EventCategory.choices,
        help_text="Seed 003's event type: ORCHESTRATION events trigger workflows (POST "
        "/event/async), ORCHESTRATION_AUDIT events record what happened.",
    )
    entityType = serializers.CharField(source="entity_type")  # noqa: N815
    entityId = serializers.CharField(source="entity_id")  # noqa: N815
    entityRef = serializers.CharField(source="entity_ref")  # noqa: N815
    rootEntityType = serializers.CharField(source="root_entity_type")  # noqa: N815
    rootEntityId = serializers.CharField(source="root_entity_id")  # noqa: N815
    rootEntityRef = serializers.CharField(source="root_entity_ref")  # noqa: N815
    correlationId = serializers.CharField(source="correlation_id")  # noqa: N815


class SubscriptionSerializer(StrictSerializer):
    id = serializers.UUIDField(read_only=True)
    url = serializers.URLField(
        max_length=2000,
        help_text="https, on a host that resolves to public addresses only (http in development).",
    )
    eventTypes = serializers.ListField(  # noqa: N815
        source="event_types", child=EventTypeField(max_length=100), min_length=1, max_length=100
    )
    versions = VersionsField(child=StrictCharField(max_length=10), required=False)
    description = StrictCharField(max_length=500, required=False, allow_blank=True)
    active = StrictBooleanField(required=False)
    liveMode = serializers.BooleanField(source="live_mode", read_only=True)  # noqa: N815
    failingSince = serializers.DateTimeField(  # noqa: N815
        source="failing_since", read_only=True, allow_null=True
    )
    disabledAt = serializers.DateTimeField(  # noqa: N815
        source="disabled_at", read_only=True, allow_null=True
    )
    disabledReason = serializers.CharField(source="disabled_reason", read_only=True)  # noqa: N815
    createdAt = serializers.DateTimeField(source="created_at", read_only=True)  # noqa: N815
    updatedAt = serializers.DateTimeField(source="updated_at", read_only=True)  # noqa: N815


class SubscriptionWithSecretSerializer(SubscriptionSerializer):
    secret = serializers.CharField(read_only=True, help_text="whsec_…: verify signatures with it.")


class DeliveryAttemptSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    durationMs = serializers.IntegerField(source="duration_ms")  # noqa: N815
    statusCode = serializers.IntegerField(source="status_code", allow_null=True)  # noqa: N815
    responseBody = serializers.CharField(source="response_body")  # noqa: N815
    error = serializers.CharField()


class DeliverySerializer(serializers.Serializer):
    id = serializers.UUIDField()
    eventId = serializers.UUIDField(source="event_id")  # noqa: N815
    eventType = serializers.CharField(source="event.type")  # noqa: N815
    subscriptionId = serializers.UUIDField(source="subscription_id")  # noqa: N815
    version = serializers.CharField()
    status = serializers.ChoiceField(choices=DeliveryStatus.choices)
    attempts = serializers.IntegerField()
    nextAttemptAt = serializers.DateTimeField(source="next_attempt_at")  # noqa: N815
    lastStatusCode = serializers.IntegerField(source="last_status_code", allow_null=True)  # noqa: N815
    lastError = serializers.CharField(source="last_error")  # noqa: N815
    deliveredAt = serializers.DateTimeField(source="delivered_at", allow_null=True)  # noqa: N815
    replayOf = serializers.UUIDField(source="replay_of_id", allow_null=True)  # noqa: N815
    createdAt = serializers.DateTimeField(source="created_at")  # noqa: N815


class DeliveryDetailSerializer(DeliverySerializer):
    attemptLog = DeliveryAttemptSerializer(source="attempt_log.all", many=True)  # noqa: N815


class ReplaySerializer(StrictSerializer):
    # "from" is a Python keyword, so the fields cannot be declared as attributes.
    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = BoundedDateTimeField(
            help_text="Deliveries created at or after; before `to`."
        )
        fields["to"] = BoundedDateTimeField(help_text="Deliveries created before.")
        return fields

    def validate(self, attrs):
        if attrs["from"] >= attrs["to"]:
            raise serializers.ValidationError({"from": ["Must be before 'to'."]})
        return attrs


class TestAnswerSerializer(serializers.Serializer):
    statusCode = serializers.IntegerField(source="status_code", allow_null=True)  # noqa: N815
    durationMs = serializers.IntegerField(source="duration_ms")  # noqa: N815
    responseBody = serializers.CharField(source="response_body")  # noqa: N815
    error = serializers.CharField()
    succeeded = serializers.BooleanField()


class EventVersionSerializer(serializers.Serializer):
    version = serializers.CharField()
    available = serializers.BooleanField(
        help_text="Whether Waybill sends this version yet; a subscriber may pin it either way."
    )
    schema = JsonSchemaField()


class EventTypeSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=sorted(CATALOGUE))
    description = serializers.CharField(allow_blank=True)
    source = serializers.CharField(help_text="Where the contract comes from.")
    latestVersion = serializers.CharField()  # noqa: N815
    versions = EventVersionSerializer(many=True)


class EventTypesSerializer(serializers.Serializer):
    eventTypes = EventTypeSerializer(many=True)  # noqa: N815


class ReplayQueuedSerializer(serializers.Serializer):
    replayed = serializers.IntegerField(min_value=0)
    deliveryIds = serializers.ListField(child=serializers.UUIDField())  # noqa: N815
