from decimal import Decimal

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
