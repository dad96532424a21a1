import json
from decimal import Decimal

from django.core.validators import RegexValidator
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from config.api.fields import StrictCharField, StrictSerializer
from orders.api.serializers import LocalDateTimeField
from workflows.models import ORDER_EVENT_TYPE_SPELLINGS, OrderEventType

EVENT_TYPES = sorted([*OrderEventType.values, *ORDER_EVENT_TYPE_SPELLINGS])
MAX_LINES = 500
MAX_CUSTOM_FIELDS = 50


@extend_schema_field({"type": "string", "enum": EVENT_TYPES})
class OrderEventTypeField(StrictCharField):
    """One of the seed's event types; its spelling `fullfilled` is read as `fulfilled`."""

    default_error_messages = {"invalid_choice": "'{value}' is not one of: {choices}."}

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        value = ORDER_EVENT_TYPE_SPELLINGS.get(value, value)
        if value not in OrderEventType.values:
            self.fail("invalid_choice", value=value[:60], choices=", ".join(EVENT_TYPES))
        return value


class OrderEventLineSerializer(StrictSerializer):
    order_line_id = StrictCharField(max_length=100)
    product_price_tax = serializers.DecimalField(max_digits=14, decimal_places=4, required=False)
    product_original_price = serializers.DecimalField(
        max_digits=14, decimal_places=4, required=False
    )
    product_price = serializers.DecimalField(max_digits=14, decimal_places=4, required=False)
    product_price_inc_tax = serializers.DecimalField(
        max_digits=14, decimal_places=4, required=False
    )
    quantity = serializers.IntegerField(min_value=0, max_value=10_000_000, required=False)
    row_total = serializers.DecimalField(max_digits=14, decimal_places=4, required=False)
    row_total_inc_tax = serializers.DecimalField(max_digits=14, decimal_places=4, required=False)
    row_total_discount = serializers.DecimalField(max_digits=14, decimal_places=4, required=False)


class OrderEventLinesField(serializers.ListField):
    """A list of lines, or one line object as the seed's JavaScript example sends it."""

    def to_internal_value(self, data):
        return super().to_internal_value([data] if isinstance(data, dict) else data)


@extend_schema_field(
    {
        "type": "object",
        "maxProperties": MAX_CUSTOM_FIELDS,
        "propertyNames": {"minLength": 1, "maxLength": 100},
        "additionalProperties": {
            "oneOf": [
                {"type": "string", "maxLength": 2000},
                {"type": "number"},
                {"type": "boolean"},
                {"type": "null"},
            ]
        },
    }
)
class CustomFieldsField(serializers.DictField):
    default_error_messages = {
        "too_many": f"At most {MAX_CUSTOM_FIELDS} custom fields.",
        "scalar": "Each value is a string, number, boolean or null.",
        "key": "Each key is 1 to 100 characters.",
    }

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if len(value) > MAX_CUSTOM_FIELDS:
            self.fail("too_many")
        if any(not 0 < len(k) <= 100 for k in value):
            self.fail("key")
        # The API's parser reads JSON numbers as Decimal: stored as JSON numbers again.
        value = {k: _json_number(v) if isinstance(v, Decimal) else v for k, v in value.items()}
        if any(not isinstance(v, str | int | float | bool | None) for v in value.values()):
            self.fail("scalar")
        if any(isinstance(v, str) and len(v) > 2000 for v in value.values()):
            self.fail("scalar")
        return value


def _json_number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


class OrderEventSerializer(StrictSerializer):
    """An order event as seed 002's CreateOrderEvent takes it."""

    id = serializers.UUIDField(
        required=False,
        allow_null=True,
        help_text="The order event to update; an id not known yet creates it under that id.",
    )
    event_reference = StrictCharField(
        max_length=100, help_text="Without `id`, the upsert key within the order."
    )
    order_id = StrictCharField(max_length=100, help_text="Waybill's order id or creatorOrderId.")
    event_type = OrderEventTypeField(max_length=20)
    event_date = LocalDateTimeField(
        help_text="When it happened; without an offset, in the delivery location's zone."
    )
    message = StrictCharField(max_length=2000, required=False, allow_blank=True)
    order_event_lines = OrderEventLinesField(
        child=OrderEventLineSerializer(),
        required=False,
        allow_null=True,
        max_length=MAX_LINES,
        help_text="Lines of the order this event is about, with overrides; default all lines.",
    )
    custom_fields = CustomFieldsField(required=False, help_text="Merge tags: key/value pairs.")

    def validate_id(self, value):
        # A number is not an id (the UUID field would take it as one).
        if value is not None and not isinstance(self.initial_data.get("id"), str):
            raise serializers.ValidationError("Must be a string.")
        return value


class OrderEventResultSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    status = serializers.IntegerField(help_text="The HTTP status, as the seed answers it.")
    message = serializers.CharField()


class OrderEventLineDocumentSerializer(serializers.Serializer):
    """A line the event is about, with the values it overrides, as decimal text."""

    order_line_id = serializers.CharField()
    product_price_tax = serializers.CharField(required=False)
    product_original_price = serializers.CharField(required=False)
    product_price = serializers.CharField(required=False)
    product_price_inc_tax = serializers.CharField(required=False)
    quantity = serializers.CharField(required=False)
    row_total = serializers.CharField(required=False)
    row_total_inc_tax = serializers.CharField(required=False)
    row_total_discount = serializers.CharField(required=False)


class OrderEventDocumentSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    event_reference = serializers.CharField()
    order_id = serializers.UUIDField()
    creator_order_id = serializers.CharField()
    event_type = serializers.ChoiceField(choices=OrderEventType.choices)
    event_date = serializers.DateTimeField()
    message = serializers.CharField()
    order_event_lines = OrderEventLineDocumentSerializer(many=True, allow_null=True)
    custom_fields = CustomFieldsField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


MAX_ATTRIBUTES_BYTES = 64_000


@extend_schema_field({"type": "object", "additionalProperties": True})
class AttributesField(serializers.DictField):
    """Seed 003's ``attributes``: what the workflow reads, any JSON object."""

    default_error_messages = {"too_big": f"At most {MAX_ATTRIBUTES_BYTES} bytes of JSON."}

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if len(json.dumps(value, default=str)) > MAX_ATTRIBUTES_BYTES:
            self.fail("too_big")
        return _json_numbers(value)


def _json_numbers(value):
    """Decimals the API's parser made of JSON numbers, as JSON numbers again."""
    if isinstance(value, Decimal):
        return _json_number(value)
    if isinstance(value, dict):
        return {k: _json_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_numbers(v) for v in value]
    return value


class AsyncEventSerializer(StrictSerializer):
    """An event to orchestrate, as seed 003's Event API names its fields."""

    name = StrictCharField(
        max_length=100,
        validators=[
            RegexValidator(
                r"^[A-Za-z][A-Za-z0-9_.:-]*$",
                "A letter, then letters, digits, '_', '.', ':' or '-'.",
            )
        ],
        help_text="Which workflow runs: a built-in name, or any other (audited as unmatched).",
    )
    entityType = StrictCharField(max_length=50, required=False, allow_blank=True)  # noqa: N815
    entityId = StrictCharField(max_length=64, required=False, allow_blank=True)  # noqa: N815
    entityRef = StrictCharField(max_length=255, required=False, allow_blank=True)  # noqa: N815
    rootEntityType = StrictCharField(  # noqa: N815
        max_length=50, required=False, allow_blank=True, help_text="ORDER for an order's event."
    )
    rootEntityId = StrictCharField(  # noqa: N815
        max_length=64, required=False, allow_blank=True, help_text="Waybill's order id."
    )
    rootEntityRef = StrictCharField(  # noqa: N815
        max_length=255, required=False, allow_blank=True, help_text="The creatorOrderId."
    )
    attributes = AttributesField(required=False)


class AsyncEventAcceptedSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    type = serializers.CharField(help_text="ORCHESTRATION.")
    status = serializers.CharField(help_text="PENDING: a worker runs its workflow.")
