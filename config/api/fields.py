"""Fields and filters every Waybill endpoint shares, in bodies and in query parameters.

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
