"""One error shape for every 4xx: ``{"type", "detail", "errors": [{"field", "code", "message"}]}``.

Services raise the small ``WaybillError`` hierarchy below; DRF's own exceptions are mapped onto
the same shape by ``exception_handler``.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from rest_framework import exceptions as drf_exceptions
from rest_framework.response import Response
from rest_framework.settings import api_settings


class WaybillError(Exception):
    status_code = 400
    code = "invalid"

    def __init__(
        self,
        detail: str,
        *,
        code: str | None = None,
        errors: list[dict[str, str]] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        if code:
            self.code = code
        self.errors = errors or []
        self.extra = extra or {}

    def as_body(self) -> dict[str, Any]:
        return {"type": self.code, "detail": self.detail, "errors": self.errors, **self.extra}


class InvalidInput(WaybillError):
    status_code = 400
    code = "validation_error"

    @classmethod
    def for_field(cls, field: str, message: str, code: str = "invalid") -> InvalidInput:
        return cls(message, errors=[{"field": field, "code": code, "message": message}])


class NotFound(WaybillError):
    status_code = 404
    code = "not_found"


def first_or_404(queryset, detail: str):
    """The first row of a tenant-scoped queryset; none (or another tenant's) is a 404."""
    row = queryset.first()
    if row is None:
        raise NotFound(detail)
    return row


class Conflict(WaybillError):
    status_code = 409
    code = "conflict"


class Unprocessable(WaybillError):
    status_code = 422
    code = "unprocessable"


def flatten_errors(detail: Any, path: str = "") -> list[dict[str, str]]:
    """Turn DRF's nested error structure into a flat list naming each field by its path."""
    if isinstance(detail, dict):
        out: list[dict[str, str]] = []
        for key, value in detail.items():
            if key in (api_settings.NON_FIELD_ERRORS_KEY, "non_field_errors"):
                out.extend(flatten_errors(value, path))
            elif isinstance(key, int) or str(key).isdigit():
                out.extend(flatten_errors(value, f"{path}[{key}]"))
            else:
                out.extend(flatten_errors(value, f"{path}.{key}" if path else str(key)))
        return out
    if isinstance(detail, list):
        if all(isinstance(item, str) for item in detail):
            return [_error(path, item) for item in detail]
        out = []
        for index, item in enumerate(detail):
            if isinstance(item, str):
                out.append(_error(path, item))
            else:
                out.extend(flatten_errors(item, f"{path}[{index}]"))
        return out
    return [_error(path, detail)]


def _error(path: str, message: Any) -> dict[str, str]:
    return {
        "field": path or "body",
        "code": str(getattr(message, "code", "invalid")),
        "message": str(message),
    }


def validation_body(detail: Any) -> dict[str, Any]:
    errors = flatten_errors(detail)
    fields = ", ".join(dict.fromkeys(e["field"] for e in errors))
    return {
        "type": "validation_error",
        "detail": f"Invalid input: {fields}." if fields else "Invalid input.",
        "errors": errors,
    }


_DRF_TYPES = {
    drf_exceptions.ParseError: "malformed_request",
    drf_exceptions.NotAuthenticated: "not_authenticated",
    drf_exceptions.AuthenticationFailed: "authentication_failed",
    drf_exceptions.PermissionDenied: "permission_denied",
    drf_exceptions.NotFound: "not_found",
    drf_exceptions.MethodNotAllowed: "method_not_allowed",
    drf_exceptions.NotAcceptable: "not_acceptable",
    drf_exceptions.UnsupportedMediaType: "unsupported_media_type",
    drf_exceptions.Throttled: "throttled",
}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, WaybillError):
        return Response(exc.as_body(), status=exc.status_code)
    if isinstance(exc, Http404):
        exc = drf_exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = drf_exceptions.PermissionDenied()
    if isinstance(exc, drf_exceptions.ValidationError):
        return Response(validation_body(exc.detail), status=400)
    if isinstance(exc, drf_exceptions.APIException):
        kind = next((t for cls, t in _DRF_TYPES.items() if isinstance(exc, cls)), "error")
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        errors = (
            [{"field": "body", "code": kind, "message": detail}]
            if kind == "malformed_request"
            else []
        )
        response = Response(
            {"type": kind, "detail": detail, "errors": errors}, status=exc.status_code
        )
        if isinstance(exc, drf_exceptions.NotAuthenticated | drf_exceptions.AuthenticationFailed):
            response["WWW-Authenticate"] = 'Bearer realm="api"'
        return response
    return None


def json_not_found(request, rest: str = ""):
    """Unknown API paths answer in the API's own error shape, not an HTML page."""
    from django.http import JsonResponse

    return JsonResponse(
        {"type": "not_found", "detail": f"No endpoint at {request.path}.", "errors": []}, status=404
    )
