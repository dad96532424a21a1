"""``Idempotency-Key`` on POST: the same key and body within 24 h returns the first answer.

The record is inserted in the same transaction as the work it guards, so a second request with
the same key waits on the unique index until the first commits, then replays its answer;
if the first rolled back, the second does the work itself.
"""

import functools
import hashlib
import json
from collections.abc import Callable

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.response import Response

from accounts.models import IdempotencyRecord
from config.errors import InvalidInput, Unprocessable

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
# Set when the answer is rendered, the same way for the replay: not stored.
_RENDERED_HEADERS = frozenset({"content-type", "content-length"})


def _fingerprint(request) -> str:
    body = json.dumps(request.data, sort_keys=True, cls=DjangoJSONEncoder)
    return hashlib.sha256(f"{request.method} {request.path}\n{body}".encode()).hexdigest()


def _claim(scope: str, key: str, fingerprint: str) -> tuple[IdempotencyRecord, bool]:
    """Insert the record, or return the committed one that holds this key."""
    for _ in range(2):
        try:
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(
                    scope=scope, key=key, request_fingerprint=fingerprint
                )
            return record, True
        except IntegrityError:
            record = IdempotencyRecord.objects.filter(scope=scope, key=key).first()
            if record is None:
                continue
            if record.created_at < timezone.now() - settings.IDEMPOTENCY_TTL:
                record.delete()
                continue
            return record, False
    raise Unprocessable("The Idempotency-Key is in use by a request still running; retry.")


def idempotent(view_method: Callable) -> Callable:
    @functools.wraps(view_method)
    def wrapper(self, request, *args, **kwargs):
        key = request.headers.get(HEADER)
        if key is None:
            return view_method(self, request, *args, **kwargs)
        if not key.strip() or len(key) > MAX_KEY_LENGTH:
            raise InvalidInput.for_field(
                HEADER, f"An Idempotency-Key is 1 to {MAX_KEY_LENGTH} characters."
            )
        fingerprint = _fingerprint(request)
        with transaction.atomic():
            record, created = _claim(request.user.scope, key, fingerprint)
            if not created:
                if record.request_fingerprint != fingerprint:
                    raise Unprocessable(
                        "This Idempotency-Key was used with another request body.",
                        code="idempotency_key_reused",
                        errors=[
                            {
                                "field": HEADER,
                                "code": "reused",
                                "message": "Send a new key for a different request.",
                            }
                        ],
                    )
                response = Response(record.response_body, status=record.status_code)
                for name, value in record.response_headers.items():
                    response[name] = value
                response["Idempotent-Replayed"] = "true"
                return response
            response = view_method(self, request, *args, **kwargs)
            record.status_code = response.status_code
            record.response_body = response.data
            record.response_headers = {
                name: value
                for name, value in response.items()
                if name.lower() not in _RENDERED_HEADERS
            }
            record.save(update_fields=["status_code", "response_body", "response_headers"])
            return response

    # Read by the OpenAPI schema, which documents the header on every such operation.
    wrapper.accepts_idempotency_key = True
    return wrapper
