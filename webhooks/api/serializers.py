from rest_framework import serializers

from orders.api.serializers import StrictCharField, StrictSerializer
from webhooks.models import DeliveryStatus, EventCategory


class EventSerializer(serializers.Serializer):
    """An event: the envelope subscribers receive, and where it came from (seed 003)."""

    id = serializers.UUIDField()
    type = serializers.CharField()
    version = serializers.CharField()
    liveMode = serializers.BooleanField(source="live_mode")  # noqa: N815
    dateTime = serializers.DateTimeField(source="date_time")  # noqa: N815
    data = serializers.JSONField()
    category = serializers.ChoiceField(choices=EventCategory.choices)
    entityType = serializers.CharField(source="entity_type")  # noqa: N815
    entityId = serializers.CharField(source="entity_id")  # noqa: N815
    entityRef = serializers.CharField(source="entity_ref")  # noqa: N815
    rootEntityType = serializers.CharField(source="root_entity_type")  # noqa: N815
    rootEntityId = serializers.CharField(source="root_entity_id")  # noqa: N815
    rootEntityRef = serializers.CharField(source="root_entity_ref")  # noqa: N815
    correlationId = serializers.CharField(source="correlation_id")  # noqa: N815


class SubscriptionSerializer(StrictSerializer):
    id = serializers.UUIDField(read_only=True)
    url = serializers.URLField(max_length=2000)
    eventTypes = serializers.ListField(  # noqa: N815
        source="event_types", child=StrictCharField(max_length=100), min_length=1, max_length=100
    )
    versions = serializers.DictField(child=StrictCharField(max_length=10), required=False)
    description = StrictCharField(max_length=500, required=False, allow_blank=True)
    active = serializers.BooleanField(required=False)
    liveMode = serializers.BooleanField(source="live_mode", read_only=True)  # noqa: N815
    failingSince = serializers.DateTimeField(source="failing_since", read_only=True)  # noqa: N815
    disabledAt = serializers.DateTimeField(source="disabled_at", read_only=True)  # noqa: N815
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
        fields["from"] = serializers.DateTimeField(help_text="Deliveries created at or after.")
        fields["to"] = serializers.DateTimeField(help_text="Deliveries created before.")
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
