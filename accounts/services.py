import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from accounts.models import ApiKey, ApiKeyMode, IdempotencyRecord, Shipper
from carriers.models import Carrier

KEY_PREFIXES = {ApiKeyMode.LIVE: "wb_live_", ApiKeyMode.TEST: "wb_test_"}
# Recording last use is a write; once a minute per key is plenty for an admin column.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def api_key_hash(raw_key: str) -> str:
    # Keys carry 256 bits of randomness, so a plain SHA-256 is a safe and fast lookup hash.
    return hashlib.sha256(raw_key.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedApiKey:
    api_key: ApiKey
    raw_key: str


def api_key_create(
    *,
    mode: str,
    shipper: Shipper | None = None,
    carrier: Carrier | None = None,
    name: str = "",
) -> IssuedApiKey:
    """Issue a key. The raw key is returned once and never stored."""
    if (shipper is None) == (carrier is None):
        raise ValueError("An API key belongs to exactly one shipper or one carrier.")
    mode = ApiKeyMode(mode)
    raw_key = KEY_PREFIXES[mode] + secrets.token_urlsafe(32)
    api_key = ApiKey.objects.create(
        name=name,
        shipper=shipper,
        carrier=carrier,
        mode=mode,
        prefix=raw_key[:14],
        key_hash=api_key_hash(raw_key),
    )
    return IssuedApiKey(api_key=api_key, raw_key=raw_key)


def api_key_revoke(*, api_key: ApiKey) -> ApiKey:
    ApiKey.objects.filter(id=api_key.id, revoked_at__isnull=True).update(revoked_at=timezone.now())
    api_key.refresh_from_db()
    return api_key


def api_key_touch(*, api_key: ApiKey) -> None:
    now = timezone.now()
    if api_key.last_used_at and now - api_key.last_used_at < LAST_USED_RESOLUTION:
        return
    ApiKey.objects.filter(id=api_key.id).update(last_used_at=now)
    api_key.last_used_at = now


@transaction.atomic
def shipper_get_or_create(*, slug: str, name: str = "") -> Shipper:
    shipper, _ = Shipper.objects.get_or_create(
        slug=slugify(slug), defaults={"name": name or slug.replace("-", " ").title()}
    )
    return shipper


@transaction.atomic
def carrier_get_or_create(*, slug: str, name: str = "") -> Carrier:
    carrier, _ = Carrier.objects.get_or_create(
        slug=slugify(slug), defaults={"name": name or slug.replace("-", " ").title()}
    )
    return carrier


def idempotency_records_purge() -> int:
    """Forget the answers kept for Idempotency-Key replays once their 24 h are over."""
    cutoff = timezone.now() - settings.IDEMPOTENCY_TTL
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted
