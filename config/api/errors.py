"""One error shape for every 4xx: ``{"type", "detail", "errors": [{"field", "code", "message"}]}``.

Services raise the small ``WaybillError`` hierarchy of ``config.errors`` (re-exported here);
it and DRF's own exceptions are mapped onto the same shape by ``exception_handler``.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpResponsePermanentRedirect, JsonResponse
from django.urls import Resolver404, resolve
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions as drf_exceptions
from rest_framework.fields import get_error_detail
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.settings import api_settings

# Re-exported: the domain errors live in config.errors, which does not import DRF.
from config.errors import (  # noqa: F401
    Conflict,
    InvalidInput,
    NotFound,
    Unprocessable,
    WaybillError,
    first_or_404,
)


def flatten_errors(detail: Any, path: str = "") -> list[dict[str, str]]:
    """Turn DRF's nested error structure into a flat list naming each field by its path."""
    if isinstance(detail, dict):
        out: list[dict[str, str]] = []
        for key, value in detail.items():
            if key in (api_settings.NON_FIELD_ERRORS_KEY, "non_field_errors", NON_FIELD_ERRORS):
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


# The error type of an answer that only has a status (Django's own 404, 405, 500 pages).
STATUS_TYPES = {
    400: "malformed_request",
    401: "not_authenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "request_too_large",
    415: "unsupported_media_type",
    429: "throttled",
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


def _answer_in_json(context: dict[str, Any]) -> None:
    """An error is JSON even from a view that renders YAML or HTML (the schema, the docs);
    the browsable API keeps its HTML page, which shows the same body."""
    request = context.get("request")
    renderer = getattr(request, "accepted_renderer", None)
    if request is not None and not isinstance(renderer, JSONRenderer | BrowsableAPIRenderer):
        request.accepted_renderer = JSONRenderer()
        request.accepted_media_type = JSONRenderer.media_type


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    response = _exception_response(exc)
    if response is not None:
        _answer_in_json(context)
    return response


def _exception_response(exc: Exception) -> Response | None:
    if isinstance(exc, WaybillError):
        return Response(exc.as_body(), status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        # A model's own invariant (save(), full_clean()) is bad input like any other.
        exc = drf_exceptions.ValidationError(get_error_detail(exc))
    elif isinstance(exc, Http404):
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


def error_response(status: int, detail: str | None = None) -> JsonResponse:
    """An answer that has only a status, in the one error shape."""
    kind = STATUS_TYPES.get(status, "server_error" if status >= 500 else "error")
    if detail is None:
        try:
            detail = f"{HTTPStatus(status).phrase}."
        except ValueError:  # a status HTTP does not name
            detail = "Error."
    return JsonResponse({"type": kind, "detail": detail, "errors": []}, status=status)


@csrf_exempt  # no cookie-authenticated write can reach it: it only ever answers 404
def json_not_found(request, rest: str = ""):
    """Unknown API paths answer in the API's own error shape, not an HTML page, whatever
    the method; a known path asked without its trailing slash is redirected as Django would."""
    path = request.path_info
    if request.method in ("GET", "HEAD") and not path.endswith("/"):
        try:
            with_slash = resolve(f"{path}/")
        except Resolver404:
            with_slash = None
        if with_slash is not None and with_slash.func is not json_not_found:
            return HttpResponsePermanentRedirect(request.get_full_path(force_append_slash=True))
    return error_response(404, f"No endpoint at {request.path}.")
