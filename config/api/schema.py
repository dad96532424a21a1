"""How the OpenAPI document states what every endpoint shares: errors, paging, text, decimals.

Integrations generate clients and validators from `/api/schema/`, and a schemathesis run checks
every answer against it, so these rules are written once here instead of per view.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django_filters import MultipleChoiceFilter
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import serializers

from config.api.fields import (
    ACCEPTED_DATES,
    BoundedDateField,
    BoundedDateFilter,
    BoundedDateTimeField,
    BoundedIsoDateTimeFilter,
)
from config.api.text import _NOT_IN_REFERENCE


class FieldErrorSerializer(serializers.Serializer):
    field = serializers.CharField(help_text="Dotted path of the field, e.g. lines[0].price.")
    code = serializers.CharField()
    message = serializers.CharField()


class ErrorSerializer(serializers.Serializer):
    """The one shape of every 4xx answer."""

    type = serializers.CharField(help_text="Stable machine-readable code, e.g. validation_error.")
    detail = serializers.CharField()
    errors = FieldErrorSerializer(many=True)


ERROR_DESCRIPTIONS = {
    400: (
        "Invalid input: `errors` names each field (or query parameter) and what is wrong. "
        "No text anywhere in a request may hold a NUL character or an unpaired surrogate. "
        "A list refuses query parameters it does not document, and one-value ones given twice."
    ),
    401: "No API key, or an unknown, revoked or expired one.",
    403: "The key or user may not use this endpoint.",
    404: "No such object for this key (another tenant's objects are not found either).",
    406: "The Accept header asks for a format other than JSON.",
    409: "The request conflicts with the object's state, e.g. a change after pickup.",
    413: "The request body is larger than Waybill takes.",
    415: "The request body is not JSON.",
    422: "Well-formed, but Waybill cannot act on it.",
}

ERROR_RESPONSES = {
    code: OpenApiResponse(ErrorSerializer, description=ERROR_DESCRIPTIONS[code])
    for code in (400, 401, 403, 404, 409, 422)
}
"""Error answers to spread into an operation's `responses`; `WaybillAutoSchema` adds the rest."""

LOCATION_OF_NEW = OpenApiParameter(
    "Location",
    str,
    OpenApiParameter.HEADER,
    response=[201],
    required=True,
    description="The new object's path, e.g. /api/v1/orders/{id}.",
)
"""The `Location` header of a 201, for operations that set it."""

_ANSWERS_OF_EVERY_OPERATION = (400, 401, 403, 404, 406)
_ANSWERS_OF_WRITES = (409, 422)
_ANSWERS_OF_BODIES = (413, 415)


def _reference_pattern() -> str:
    """`config.api.text`'s refused characters as a JSON Schema (ECMA-262) pattern.

    Unpaired surrogates are left out: no JSON text that is valid UTF-8 can carry one.
    """
    refused = _NOT_IN_REFERENCE.pattern[1:-1].replace("\ud800-\udfff", "")
    escaped = "".join("-" if c == "-" else f"\\u{ord(c):04x}" for c in refused)
    return f"^[^{escaped}]+$"


REFERENCE_SCHEMA = {
    "type": "string",
    "pattern": _reference_pattern(),
    "description": (
        "An id another system holds: no control, bidirectional or zero-width characters; "
        "stored NFC-normalised."
    ),
}


def _year_pattern() -> str:
    """The accepted years of `config.api.fields.ACCEPTED_DATES` as a pattern on an ISO date."""
    first, last = ACCEPTED_DATES[0].year, ACCEPTED_DATES[1].year
    if (first, last) != (1970, 2200):
        raise ValueError("Update the year pattern with ACCEPTED_DATES.")
    return r"^(?:19[7-9]\d|2[01]\d\d|2200)-"


ACCEPTED_DATE_PATTERN = _year_pattern()
ACCEPTED_DATES_TEXT = f"Between {ACCEPTED_DATES[0]} and {ACCEPTED_DATES[1]}."
_BOUNDED_FIELDS = (BoundedDateTimeField, BoundedDateField)
_BOUNDED_FILTERS = (BoundedIsoDateTimeFilter, BoundedDateFilter)


def _not_blank_pattern() -> str:
    """Some character that `str.strip()` keeps: DRF trims text, and blank text is refused."""
    # All of Unicode's white space lies in the Basic Multilingual Plane; scanning past it would
    # cost every process a tenth of a second at start.
    spaces = [c for c in range(0x10000) if chr(c).isspace()]
    runs: list[list[int]] = []
    for c in spaces:
        if runs and runs[-1][1] == c - 1:
            runs[-1][1] = c
        else:
            runs.append([c, c])
    ranges = "".join(f"\\u{a:04x}" if a == b else f"\\u{a:04x}-\\u{b:04x}" for a, b in runs)
    return f"[^{ranges}]"


NOT_BLANK_PATTERN = _not_blank_pattern()
IDEMPOTENCY_KEY = "Idempotency-Key"


def _idempotency_key_parameter() -> dict[str, Any]:
    return {
        "name": IDEMPOTENCY_KEY,
        "in": "header",
        "required": False,
        "description": (
            "Send the same key again to get the first answer again instead of a second write. "
            "A key is bound to its first request: with another body it is a 422."
        ),
        "schema": {
            "type": "string",
            "minLength": 1,
            "maxLength": 255,
            "pattern": NOT_BLANK_PATTERN,
        },
    }


def _decimal_pattern(field: serializers.DecimalField) -> str:
    """A pattern that holds exactly the strings the field takes (up to its digits and bounds)."""
    places = field.decimal_places or 0
    whole = field.max_whole_digits if field.max_whole_digits is not None else 30
    fraction = rf"(?:\.\d{{1,{places}}})?" if places else ""
    minimum = field.min_value
    maximum = field.max_value
    sign = "" if minimum is not None and minimum >= 0 else "-?"
    if minimum is not None and minimum > 0:
        # Zero is refused: some digit, before or after the point, is not a zero.
        alternatives = []
        if whole:
            alternatives.append(rf"0*[1-9]\d{{0,{whole - 1}}}{fraction}")
        if places:
            first_nonzero = "|".join(
                rf"0{{{k}}}[1-9]\d{{0,{places - 1 - k}}}" for k in range(places)
            )
            alternatives.append(rf"0*\.(?:{first_nonzero})")
        body = "|".join(alternatives)
    elif maximum is not None and maximum > 0 and _is_power_of_ten(maximum):
        # E.g. a tax rate of at most 100: the bound itself, or fewer whole digits.
        digits = len(str(int(maximum))) - 1
        zeros = rf"(?:\.0{{1,{places}}})?" if places else ""
        body = rf"0*(?:{int(maximum)}{zeros}|\d{{1,{digits}}}{fraction})"
    elif whole and places:
        body = rf"0*(?:\d{{1,{whole}}}{fraction}|\.\d{{1,{places}}})"
    elif whole:
        body = rf"0*\d{{1,{whole}}}"
    else:
        body = rf"0*\.\d{{1,{places}}}|0+{fraction}"
    return f"^{sign}(?:{body})$"


def _is_power_of_ten(value: Decimal) -> bool:
    text = str(int(value))
    return value == int(value) and text.startswith("1") and set(text[1:]) <= {"0"}


def _decimal_number(field: serializers.DecimalField) -> dict[str, Any]:
    """The same decimal sent as a JSON number; `multipleOf` bounds its decimal places."""
    schema: dict[str, Any] = {"type": "number"}
    if field.decimal_places:
        schema["multipleOf"] = float(Decimal(1).scaleb(-field.decimal_places))
    if field.min_value is not None:
        schema["minimum"] = float(field.min_value)
    if field.max_value is not None:
        schema["maximum"] = float(field.max_value)
    elif field.max_whole_digits is not None:
        schema["exclusiveMaximum"] = 10**field.max_whole_digits
    return schema


class WaybillAutoSchema(AutoSchema):
    """Documents what DRF's introspection leaves out or gets wrong for Waybill's API:

    - every operation lists the error answers it can give, in the one error shape;
    - a page size is bounded (1 to the paginator's maximum), a cursor is opaque;
    - a date or time lies in the accepted years (`config.api.fields.ACCEPTED_DATES`);
    - a decimal is a string with a pattern that holds what the field takes, and in requests
      also a JSON number, as the API accepts both;
    - a serializer that refuses unknown fields says so (`additionalProperties: false`).
    """

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        codes = list(_ANSWERS_OF_EVERY_OPERATION)
        if self.method in ("POST", "PUT", "PATCH", "DELETE"):
            codes += _ANSWERS_OF_WRITES
        if self.method in ("POST", "PUT", "PATCH") and self.get_request_serializer() is not None:
            codes += _ANSWERS_OF_BODIES
        for code in codes:
            if str(code) not in responses:
                response = OpenApiResponse(ErrorSerializer, description=ERROR_DESCRIPTIONS[code])
                responses[str(code)] = self._get_response_for_code(
                    response, str(code), direction=direction
                )
        return responses

    def _get_response_headers_for_code(self, status_code, direction="response"):
        headers = super()._get_response_headers_for_code(status_code, direction)
        if str(status_code).startswith("2") and self._takes_idempotency_key():
            headers.setdefault(
                "Idempotent-Replayed",
                {
                    "schema": {"type": "string", "enum": ["true"]},
                    "description": "Set when this is the stored answer to an earlier request.",
                },
            )
        if str(status_code) == "401":
            headers.setdefault(
                "WWW-Authenticate",
                {
                    "schema": {"type": "string"},
                    "description": "How to authenticate: `Bearer` with an API key.",
                },
            )
        return headers

    def _get_pagination_parameters(self):
        parameters = super()._get_pagination_parameters()
        paginator = self._get_paginator()
        size_name = getattr(paginator, "page_size_query_param", None)
        cursor_name = getattr(paginator, "cursor_query_param", None)
        for parameter in parameters:
            if parameter["name"] == size_name:
                parameter["schema"] = {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": paginator.max_page_size,
                    "default": paginator.page_size,
                }
                parameter["description"] = (
                    f"Page size, 1 to {paginator.max_page_size} (default {paginator.page_size})."
                )
            elif parameter["name"] == cursor_name:
                parameter["description"] = (
                    "Opaque: the `next` or `previous` link of the page before. Any other value "
                    "is a 400."
                )
        return parameters

    def _get_parameters(self):
        parameters = super()._get_parameters()
        filters = self._filters()
        for parameter in parameters:
            if parameter["in"] == "header" and parameter["name"] == IDEMPOTENCY_KEY:
                parameter.update(_idempotency_key_parameter())
            if parameter["in"] != "query" or parameter["name"] not in filters:
                continue
            query_filter = filters[parameter["name"]]
            if isinstance(query_filter, _BOUNDED_FILTERS):
                parameter["schema"]["pattern"] = ACCEPTED_DATE_PATTERN
                parameter.setdefault("description", ACCEPTED_DATES_TEXT)
            if not isinstance(query_filter, MultipleChoiceFilter):
                # `?createdFrom=` filters nothing, as if it were left out.
                parameter["allowEmptyValue"] = True
        if self._takes_idempotency_key() and not any(
            p["name"] == IDEMPOTENCY_KEY for p in parameters
        ):
            parameters.append(_idempotency_key_parameter())
        return parameters

    def _filters(self) -> dict[str, Any]:
        """The view's filters, with those its filter set adds when it is made (`from`, `to`)."""
        if not self._is_list_view():
            return {}
        filterset_class = getattr(self.view, "filterset_class", None)
        return dict(filterset_class().filters) if filterset_class else {}

    def _takes_idempotency_key(self) -> bool:
        handler = getattr(self.view, self.method.lower(), None)
        return bool(getattr(handler, "accepts_idempotency_key", False))

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if isinstance(field, _BOUNDED_FIELDS) and schema and direction == "request":
            schema = {**schema, "pattern": ACCEPTED_DATE_PATTERN}
        if direction == "request" and _is_trimmed_text(field, schema):
            # Beside any pattern of the field's own (allOf keeps both).
            schema = {**schema, "allOf": [{"pattern": NOT_BLANK_PATTERN}]}
        if isinstance(field, serializers.DecimalField) and schema and "pattern" in schema:
            schema = dict(schema)
            nullable = isinstance(schema.get("type"), list)
            schema["pattern"] = _decimal_pattern(field)
            if direction == "request":
                text = {"type": "string", "format": "decimal", "pattern": schema.pop("pattern")}
                schema.pop("type")
                schema.pop("format", None)
                schema["anyOf"] = [text, _decimal_number(field)]
                if nullable:
                    schema["anyOf"].append({"type": "null"})
        return schema

    def _map_basic_serializer(self, serializer, direction):
        schema = super()._map_basic_serializer(serializer, direction)
        if direction == "request" and getattr(serializer, "refuses_unknown_fields", False):
            schema["additionalProperties"] = False
        return schema


def _is_trimmed_text(field: serializers.Field, schema: dict[str, Any] | None) -> bool:
    if not isinstance(field, serializers.CharField) or not schema:
        return False
    if field.allow_blank or not field.trim_whitespace:
        return False
    kind = schema.get("type")
    is_text = kind == "string" or (isinstance(kind, list) and "string" in kind)
    return is_text and "enum" not in schema and "format" not in schema


def nullable_as_type_lists(result, generator, request, public):
    """OpenAPI 3.1 has no `nullable`: DRF's paginators still write it, so turn it into types."""

    def visit(node: Any) -> None:
        if isinstance(node, dict):
            if node.pop("nullable", False):
                if isinstance(node.get("type"), str):
                    node["type"] = [node["type"], "null"]
                elif "type" not in node:
                    node["anyOf"] = [
                        {k: node.pop(k) for k in list(node) if k not in ("description",)},
                        {"type": "null"},
                    ]
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    visit(result)
    return result
