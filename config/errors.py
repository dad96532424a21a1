"""The errors services and selectors raise: plain Python, no DRF, so domain code never needs
the API package. ``config.api.errors`` maps them onto the API's one error shape."""

from __future__ import annotations

from typing import Any


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


class MalformedDocument(WaybillError):
    """A body that is not a JSON document at all (the API's ``ParseError``, without DRF)."""

    status_code = 400
    code = "malformed_request"


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
