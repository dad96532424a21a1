"""Tenancy, in one place: who a request acts for, and the one queryset method that scopes rows.

A ``Tenant`` is one shipper or one carrier in one mode (live or test). The API builds it once
per request from the key (``ApiPrincipal.tenant``); every selector that reads tenant-owned
rows starts from ``Model.objects.of(tenant)``. Each tenant-owned model says, on its
queryset, which path leads to its shipper, its carrier and its mode; a tenant of a kind the
model does not belong to sees nothing (fail closed).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Self

from django.db import models

if TYPE_CHECKING:
    from accounts.models import ApiKey, Shipper
    from carriers.models import Carrier


@dataclass(frozen=True)
class Tenant:
    """One shipper or one carrier, in live or test mode."""

    live_mode: bool
    shipper: Shipper | None = None
    carrier: Carrier | None = None

    def __post_init__(self) -> None:
        if (self.shipper is None) == (self.carrier is None):
            raise ValueError("A tenant is one shipper or one carrier.")

    @classmethod
    def of_shipper(cls, shipper: Shipper, *, live_mode: bool) -> Tenant:
        return cls(live_mode=live_mode, shipper=shipper)

    @classmethod
    def of_carrier(cls, carrier: Carrier, *, live_mode: bool) -> Tenant:
        return cls(live_mode=live_mode, carrier=carrier)

    @classmethod
    def of_api_key(cls, api_key: ApiKey) -> Tenant:
        return cls(live_mode=api_key.live_mode, shipper=api_key.shipper, carrier=api_key.carrier)

    @property
    def kind(self) -> str:
        return "shipper" if self.shipper is not None else "carrier"

    @property
    def mode(self) -> str:
        return "live" if self.live_mode else "test"

    @property
    def id(self) -> Any:
        return (self.shipper or self.carrier).pk

    @property
    def scope(self) -> str:
        """``kind:id:mode``: what idempotency records and caches are keyed by."""
        return f"{self.kind}:{self.id}:{self.mode}"

    def __str__(self) -> str:
        return f"{self.shipper or self.carrier} ({self.mode})"


class TenantQuerySet(models.QuerySet):
    """A queryset of rows that belong to tenants. Subclasses name the paths to the owner:
    ``shipper_path`` and/or ``carrier_path`` (None: that kind of tenant owns none of these
    rows) and ``live_mode_path``."""

    shipper_path: str | None = "shipper"
    carrier_path: str | None = None
    live_mode_path: str = "live_mode"

    def of(self, tenant: Tenant) -> Self:
        """The rows of ``tenant``, in its mode; nothing else."""
        path = self.shipper_path if tenant.kind == "shipper" else self.carrier_path
        if path is None:
            return self.none()
        return self.filter(**{f"{path}_id": tenant.id, self.live_mode_path: tenant.live_mode})
