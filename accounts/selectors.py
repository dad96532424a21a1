"""Reads of accounts: the API key a request presents."""

from __future__ import annotations

from django.db import connection

from accounts.models import ApiKey, Shipper
from carriers.models import Carrier
from config.sql import Columns, quote

_KEY = Columns(ApiKey, "k")
_SHIPPER = Columns(Shipper, "s")
_CARRIER = Columns(Carrier, "c")


def api_key_find(*, key_hash: str) -> ApiKey | None:
    """The unrevoked key with this hash, its shipper or carrier loaded; asked on every
    request, so written by hand (``config.sql``)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {_KEY.sql}, {_SHIPPER.sql}, {_CARRIER.sql} "
            f"FROM {quote(ApiKey._meta.db_table)} k "
            f'LEFT JOIN {quote(Shipper._meta.db_table)} s ON s."id" = k."shipper_id" '
            f'LEFT JOIN {quote(Carrier._meta.db_table)} c ON c."id" = k."carrier_id" '
            'WHERE k."key_hash" = %s AND k."revoked_at" IS NULL',
            [key_hash],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    api_key = _KEY.instance(row)
    # A key belongs to exactly one tenant: the other join is all NULLs.
    api_key.shipper = _SHIPPER.instance(row, _KEY.width) if api_key.shipper_id else None
    api_key.carrier = (
        _CARRIER.instance(row, _KEY.width + _SHIPPER.width) if api_key.carrier_id else None
    )
    return api_key
