"""Fields and filters every Waybill endpoint shares, in bodies and in query parameters.

Strict fields: a string, a boolean, a known field and nothing else; JSON's types are not
coerced (``1`` is not ``true``, ``5`` is not ``"5"``) and a misspelt field is an error.

Dates and times: Python cannot represent a time before year 1 or after 9999, and a time at
the edge of that range moves past it when converted to another zone; such a value, once
stored, breaks every read of the rows around it. So every accepted date lies in
``ACCEPTED_DATES``, far from either edge, and a date outside is a 400 naming the field.
"""

from __future__ import annotations

from datetime import date, datetime

import django_filters
from django import forms
from django_filters.fields import IsoDateTimeField
from rest_framework import serializers

from config.api.text import reference_normalised

ACCEPTED_DATES = (date(1970, 1, 1), date(2200, 12, 31))
OUT_OF_RANGE = (
    f"Must be between {ACCEPTED_DATES[0].isoformat()} and {ACCEPTED_DATES[1].isoformat()}."
)


def in_accepted_range(value: date | datetime) -> bool:
    day = value.date() if isinstance(value, datetime) else value
    return ACCEPTED_DATES[0] <= day <= ACCEPTED_DATES[1]


class StrictCharField(serializers.CharField):
    """A string and nothing else: numbers and booleans are wrong types, not strings."""

    default_error_messages = {"invalid": "Must be a string."}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        # The published limit is on the text as sent, before surrounding white space is trimmed.
        if self.max_length is not None and len(data) > self.max_length:
            self.fail("max_length", max_length=self.max_length)
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    """true or false and nothing else: 0, 1 and "yes" are wrong types, not booleans."""

    default_error_messages = {"invalid": "Must be true or false."}

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


class StrictSerializer(serializers.Serializer):
    """Rejects fields it does not know, so a misspelt field is an error, not silently lost."""

    refuses_unknown_fields = True

    def to_internal_value(self, data):
        unknown = sorted(set(data) - set(self.fields)) if isinstance(data, dict) else []
        errors = {name: ["Unknown field."] for name in unknown}
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            if isinstance(exc.detail, dict):
                errors = {**exc.detail, **errors}
            elif not errors:
                raise
        if errors:
            raise serializers.ValidationError(errors)
        return value


class _Bounded:
    """Refuses a date or time outside ``ACCEPTED_DATES`` once the field has parsed it."""

    default_error_messages = {"out_of_range": OUT_OF_RANGE}

    def to_internal_value(self, value):
        value = super().to_internal_value(value)
        if not in_accepted_range(value):
            self.fail("out_of_range")
        return value


class BoundedDateTimeField(_Bounded, serializers.DateTimeField):
    pass


class BoundedDateField(_Bounded, serializers.DateField):
    pass


class _BoundedIsoDateTimeFormField(IsoDateTimeField):
    def to_python(self, value):
        value = super().to_python(value)
        if value is not None and not in_accepted_range(value):
            raise forms.ValidationError(OUT_OF_RANGE, code="out_of_range")
        return value


class _BoundedDateFormField(forms.DateField):
    def to_python(self, value):
        value = super().to_python(value)
        if value is not None and not in_accepted_range(value):
            raise forms.ValidationError(OUT_OF_RANGE, code="out_of_range")
        return value


class BoundedIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = _BoundedIsoDateTimeFormField


class BoundedDateFilter(django_filters.DateFilter):
    field_class = _BoundedDateFormField


class ReferenceFilter(django_filters.CharFilter):
    """References are stored NFC-normalised (``config.api.text``); so is what is looked up."""

    def filter(self, qs, value):
        return super().filter(qs, reference_normalised(value) if value else value)
