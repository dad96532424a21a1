"""Validation of orders as the Order API takes them. Output is ``orders.documents``."""

from __future__ import annotations

import threading
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

import phonenumbers
from django.core.validators import RegexValidator
from django.utils import timezone as dj_timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import ParseError

from config.api.errors import flatten_errors
from config.api.fields import (
    BoundedDateTimeField,
    StrictCharField,
    StrictSerializer,
)
from config.api.parsers import json_document
from config.api.schema import REFERENCE_SCHEMA
from config.api.text import document_errors, reference_normalised, reference_problem
from config.errors import InvalidInput, MalformedDocument
from orders.models import OrderStatus
from orders.pos import POS_EVENT_TYPES

MAX_LINES = 500
MAX_COLLIS = 500
MAX_TAGS = 50

# IANA names in any case ("europe/copenhagen") map to their canonical spelling.
_CANONICAL_ZONES = {name.lower(): name for name in available_timezones()}


def canonical_time_zone(value: str) -> str | None:
    return _CANONICAL_ZONES.get(value.strip().lower())


@extend_schema_field(REFERENCE_SCHEMA)
class ReferenceField(StrictCharField):
    """An id another system holds (see ``config.api.text``): stored NFC-normalised."""

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        problem = reference_problem(value)
        if problem:
            raise serializers.ValidationError(problem, code="invalid_character")
        return reference_normalised(value)


class TagsField(serializers.ListField):
    def __init__(self, **kwargs):
        super().__init__(
            child=StrictCharField(max_length=100, allow_blank=False),
            max_length=MAX_TAGS,
            **kwargs,
        )

    def to_internal_value(self, data):
        return list(dict.fromkeys(super().to_internal_value(data)))


class LocalDateTimeField(BoundedDateTimeField):
    """Keeps a datetime without offset naive, so the order can read it in the location's zone."""

    def enforce_timezone(self, value: datetime) -> datetime:
        return value

    def to_internal_value(self, value):
        if not isinstance(value, str):
            self.fail("invalid", format="ISO 8601, e.g. 2026-11-23T10:00:00+01:00")
        return super().to_internal_value(value)


@extend_schema_field({"type": "string", "enum": ["", *sorted(phonenumbers.SUPPORTED_REGIONS)]})
class CountryCodeField(StrictCharField):
    """An ISO 3166-1 alpha-2 code (any case) or blank."""


@extend_schema_field({"type": "string", "enum": [*sorted(set(_CANONICAL_ZONES.values())), None]})
class TimeZoneField(StrictCharField):
    """An IANA time zone name, in any case; stored in its canonical spelling."""


class AddressSerializer(StrictSerializer):
    primary = StrictCharField(max_length=255)
    secondary = StrictCharField(max_length=255, required=False, allow_blank=True, default="")
    postalCode = StrictCharField(  # noqa: N815
        max_length=20, required=False, allow_blank=True, default=""
    )
    countryCode = CountryCodeField(  # noqa: N815
        max_length=2, required=False, allow_blank=True, default="", help_text="ISO 3166-1 alpha-2."
    )

    def validate_postalCode(self, value: str) -> str:  # noqa: N802
        return " ".join(value.upper().split())

    def validate_countryCode(self, value: str) -> str:  # noqa: N802
        value = value.upper()
        if value and value not in phonenumbers.SUPPORTED_REGIONS:
            raise serializers.ValidationError(f"'{value}' is not an ISO 3166-1 alpha-2 country.")
        return value

    def validate(self, attrs):
        if not attrs.get("primary"):
            raise serializers.ValidationError({"primary": ["This field is required."]})
        return attrs


class PositionSerializer(StrictSerializer):
    latitude = serializers.FloatField(min_value=-90, max_value=90)
    longitude = serializers.FloatField(min_value=-180, max_value=180)

    def validate(self, attrs):
        missing = [f for f in ("latitude", "longitude") if f not in attrs]
        if missing:
            raise serializers.ValidationError({f: ["This field is required."] for f in missing})
        return attrs


class LocationSerializer(StrictSerializer):
    address = AddressSerializer()
    position = PositionSerializer(required=False, allow_null=True)
    timeZone = TimeZoneField(required=False, allow_null=True, max_length=64)  # noqa: N815

    def validate_timeZone(self, value):  # noqa: N802
        if value is None:
            return None
        canonical = canonical_time_zone(value)
        if canonical is None:
            raise serializers.ValidationError(f"'{value}' is not an IANA time zone name.")
        return canonical

    def validate(self, attrs):
        if "address" not in attrs:
            raise serializers.ValidationError({"address": ["This field is required."]})
        return attrs


class PhoneSerializer(StrictSerializer):
    """A phone number that is possible in its country (as libphonenumber knows them)."""

    countrycallingCode = StrictCharField(max_length=4)  # noqa: N815
    nationalNumber = StrictCharField(max_length=20)  # noqa: N815
    countryCode = StrictCharField(  # noqa: N815
        max_length=2, required=False, allow_blank=True, default=""
    )

    def validate(self, attrs):
        calling_code = attrs.get("countrycallingCode", "").lstrip("+")
        national = attrs.get("nationalNumber", "")
        if not calling_code or not national:
            raise serializers.ValidationError(
                "Both countrycallingCode and nationalNumber are required."
            )
        try:
            number = phonenumbers.parse(f"+{calling_code}{national}")
        except phonenumbers.NumberParseException as exc:
            raise serializers.ValidationError({"nationalNumber": [str(exc.args[0])]}) from exc
        if not phonenumbers.is_possible_number(number):
            raise serializers.ValidationError(
                {"nationalNumber": [f"+{calling_code} {national} is not a possible phone number."]}
            )
        return {
            "countrycallingCode": str(number.country_code),
            "nationalNumber": str(number.national_number),
            "countryCode": (
                attrs.get("countryCode") or phonenumbers.region_code_for_number(number) or ""
            ).upper(),
        }


class ContactSerializer(StrictSerializer):
    preferredName = StrictCharField(  # noqa: N815
        max_length=200, required=False, allow_blank=True, allow_null=True
    )
    fullName = StrictCharField(  # noqa: N815
        max_length=200, required=False, allow_blank=True, allow_null=True
    )
    phone = PhoneSerializer(required=False, allow_null=True)
    email = serializers.EmailField(required=False, allow_blank=True, allow_null=True)
    company = StrictCharField(max_length=200, required=False, allow_blank=True, allow_null=True)

    def validate(self, attrs):
        return {
            "preferredName": attrs.get("preferredName") or "",
            "fullName": attrs.get("fullName") or "",
            "phone": attrs.get("phone"),
            "email": attrs.get("email") or "",
            "company": attrs.get("company"),
        }


class TimeFrameSerializer(StrictSerializer):
    """`from` is not after `to`; a time without offset is read in the location's time zone."""

    # "from" is a Python keyword, so the fields cannot be declared as attributes.
    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = LocalDateTimeField(required=False, allow_null=True)
        fields["to"] = LocalDateTimeField(required=False, allow_null=True)
        return fields


class DimensionsSerializer(StrictSerializer):
    length = serializers.DecimalField(max_digits=8, decimal_places=1, min_value=0)
    width = serializers.DecimalField(max_digits=8, decimal_places=1, min_value=0)
    height = serializers.DecimalField(max_digits=8, decimal_places=1, min_value=0)


class LineSerializer(StrictSerializer):
    reference = ReferenceField(max_length=100, required=False, allow_blank=True, default="")
    description = StrictCharField(max_length=500, required=False, allow_blank=True, default="")
    # The smallest quantity three decimal places can hold, i.e. more than zero.
    quantity = serializers.DecimalField(
        max_digits=12,
        decimal_places=3,
        min_value=Decimal("0.001"),
        error_messages={"min_value": "Must be greater than 0."},
    )
    price = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=0)
    taxRate = serializers.DecimalField(  # noqa: N815
        max_digits=5, decimal_places=2, min_value=0, max_value=100, required=False, default=0
    )
    # Wide enough for the largest quantity times the largest price, with tax.
    total = serializers.DecimalField(
        max_digits=26, decimal_places=2, read_only=True, help_text="quantity × price, with tax."
    )


class ColloSerializer(StrictSerializer):
    id = serializers.UUIDField(read_only=True)
    barcode = ReferenceField(
        max_length=100,
        required=False,
        allow_blank=True,
        default="",
        help_text="Unique within the order.",
    )
    description = StrictCharField(max_length=500, required=False, allow_blank=True, default="")
    weight = serializers.DecimalField(
        max_digits=10, decimal_places=3, min_value=0, help_text="Kilograms."
    )
    volume = serializers.DecimalField(
        max_digits=10,
        decimal_places=4,
        min_value=0,
        required=False,
        allow_null=True,
        help_text="Cubic metres.",
    )
    dimensions = DimensionsSerializer(required=False, allow_null=True, help_text="Centimetres.")
    tags = TagsField(required=False, default=list)


@extend_schema_field(
    {
        "type": "object",
        "description": "Your own fields, any JSON values at any depth; kept as sent.",
        "additionalProperties": True,
    }
)
class CustomFieldsField(serializers.DictField):
    """The shipper's own fields: free-form by contract."""


class MoneySerializer(serializers.Serializer):
    amount = serializers.DecimalField(max_digits=14, decimal_places=2)
    currency = serializers.CharField(help_text="ISO 4217.")


class OrderCostSerializer(serializers.Serializer):
    """What an order costs now (``finance.selectors.order_costs``)."""

    planned = MoneySerializer(allow_null=True, help_text="The plan's price; null on a route.")
    additions = MoneySerializer(help_text="Cost additions approved.")
    current = MoneySerializer(help_text="The plan's price plus the approved cost additions.")


class OrderSerializer(StrictSerializer):
    """An order as a shipper sends it; read-only fields are filled in by Waybill."""

    id = serializers.UUIDField(read_only=True)
    creatorOrderId = ReferenceField(max_length=100)  # noqa: N815
    creatorId = serializers.UUIDField(read_only=True)  # noqa: N815
    relationalId = ReferenceField(  # noqa: N815
        max_length=100, required=False, allow_blank=True, allow_null=True
    )
    liveMode = serializers.BooleanField(read_only=True)  # noqa: N815
    status = serializers.ChoiceField(choices=OrderStatus.choices, read_only=True)
    tags = TagsField(required=False)
    notes = StrictCharField(max_length=5000, required=False, allow_blank=True, allow_null=True)
    currency = StrictCharField(  # noqa: N815
        min_length=3,
        max_length=3,
        required=False,
        validators=[RegexValidator(r"^[A-Za-z]{3}$", "An ISO 4217 code such as DKK or EUR.")],
        help_text="ISO 4217, e.g. DKK.",
    )
    customFields = CustomFieldsField(required=False)  # noqa: N815
    pickupLocation = LocationSerializer(required=False, allow_null=True)  # noqa: N815
    deliveryLocation = LocationSerializer()  # noqa: N815
    pickupContact = ContactSerializer(required=False, allow_null=True)  # noqa: N815
    deliveryContact = ContactSerializer(required=False, allow_null=True)  # noqa: N815
    pickupTimeFrame = TimeFrameSerializer(required=False, allow_null=True)  # noqa: N815
    deliveryTimeFrame = TimeFrameSerializer(required=False, allow_null=True)  # noqa: N815
    lines = LineSerializer(many=True, required=False, max_length=MAX_LINES)
    collis = ColloSerializer(many=True, required=False, max_length=MAX_COLLIS)
    totalWeight = serializers.DecimalField(  # noqa: N815
        max_digits=12, decimal_places=3, read_only=True
    )
    cancelReason = serializers.CharField(read_only=True)  # noqa: N815
    cancelledAt = serializers.DateTimeField(read_only=True, allow_null=True)  # noqa: N815
    goneFromPosAt = serializers.DateTimeField(  # noqa: N815
        read_only=True,
        allow_null=True,
        help_text="When the shipper's POS stopped knowing this picked-up order (it answered 404).",
    )
    createdAt = serializers.DateTimeField(read_only=True)  # noqa: N815
    updatedAt = serializers.DateTimeField(read_only=True)  # noqa: N815
    trackingUrl = serializers.CharField(read_only=True)  # noqa: N815
    cost = OrderCostSerializer(
        read_only=True, allow_null=True, help_text="Null until the order has a price."
    )

    def to_internal_value(self, data):
        if isinstance(data, dict):
            read_only = sorted(
                name for name in data if name in self.fields and self.fields[name].read_only
            )
            data = {k: v for k, v in data.items() if k not in read_only}
        return super().to_internal_value(data)

    def validate_currency(self, value):
        return value.upper()

    def validate(self, attrs):
        errors: dict[str, list[str]] = {}
        for kind in ("pickup", "delivery"):
            frame = attrs.get(f"{kind}TimeFrame")
            if not frame:
                continue
            location = attrs.get(f"{kind}Location") or {}
            # A time without offset is read in the location's zone (or the order's, on PATCH).
            fallback = self.context.get("time_zones", {}).get(kind, "Europe/Copenhagen")
            zone = ZoneInfo(location.get("timeZone") or fallback)
            for end in ("from", "to"):
                value = frame.get(end)
                if value is not None and dj_timezone.is_naive(value):
                    frame[end] = value.replace(tzinfo=zone)
            if frame.get("from") and frame.get("to") and frame["from"] > frame["to"]:
                errors[f"{kind}TimeFrame.from"] = ["Must not be after 'to'."]
        barcodes = [c["barcode"] for c in attrs.get("collis", []) if c.get("barcode")]
        if len(barcodes) != len(set(barcodes)):
            errors["collis"] = ["Barcodes must be unique within an order."]
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class OrderCancelSerializer(StrictSerializer):
    reason = StrictCharField(max_length=500)


class OrderUpsertSerializer(OrderSerializer):
    """An order put at its creatorOrderId: the URL names it, so the body need not."""

    creatorOrderId = ReferenceField(  # noqa: N815
        max_length=100, required=False, help_text="If given, the creatorOrderId of the URL."
    )


@extend_schema_field(
    {
        "type": ["object", "array", "string", "number", "boolean"],
        "description": (
            "An order in the OrderRequest shape, checked on its own: a bad item is reported "
            "in its result and does not stop the others."
        ),
    }
)
class BulkItemField(serializers.Field):
    """An item of a bulk request, passed through as sent: each is validated on its own."""

    def to_internal_value(self, data):
        return data

    def to_representation(self, value):
        return value


class OrderBulkSerializer(StrictSerializer):
    orders = serializers.ListField(
        # Even a null item fails alone, in its own result.
        child=BulkItemField(allow_null=True),
        min_length=1,
        max_length=1000,
        help_text="Up to 1,000 orders in the Order API's shape, each upserted by creatorOrderId.",
    )


@extend_schema_field({"type": "string", "enum": sorted(POS_EVENT_TYPES)})
class PosEventTypeField(StrictCharField):
    """A type of ``orders.pos.POS_EVENT_TYPES``, the one registry of what a POS may send."""


class PosEventSerializer(StrictSerializer):
    eventType = PosEventTypeField(max_length=50)  # noqa: N815
    entityId = ReferenceField(  # noqa: N815
        max_length=100, help_text="The entity's id at the POS; '.' and '..' are not ids."
    )


_per_thread = threading.local()


def order_spec_from(data: Any) -> dict:
    """Validate an order document into a spec, or raise ``ValidationError``.

    Building a serializer's fields costs four times what validating with them does, so each
    thread keeps one ``OrderSerializer`` and reuses it (it keeps no state between calls).
    """
    # Bulk items and POS answers do not pass the request parser's check as a whole.
    errors = document_errors(data)
    if errors:
        raise serializers.ValidationError(errors)
    serializer = getattr(_per_thread, "order_serializer", None)
    if serializer is None:
        serializer = _per_thread.order_serializer = OrderSerializer()
    return serializer.run_validation(data)


def order_spec_from_json(raw: bytes, *, defaults: dict[str, Any] | None = None) -> dict:
    """Read raw JSON (a POS answer) as every endpoint reads a body, fill in ``defaults`` the
    document leaves out, and validate it into a spec.

    Raises domain errors only, so callers outside the API need not know DRF:
    ``MalformedDocument`` when it is not JSON, ``InvalidInput`` listing the fields as the API
    would when it is not a valid order.
    """
    try:
        # Exact decimals, and a repeated key is refused.
        body = json_document(raw)
    except ParseError as exc:
        raise MalformedDocument(str(exc.detail)) from exc
    if isinstance(body, dict):
        for name, value in (defaults or {}).items():
            body.setdefault(name, value)
    try:
        return order_spec_from(body)
    except serializers.ValidationError as exc:
        raise InvalidInput("Invalid order.", errors=flatten_errors(exc.detail)) from exc
