"""``?token=`` authentication for carrier events: a platform like seed 004's sets no headers."""

from __future__ import annotations

from dataclasses import dataclass

from rest_framework import authentication, exceptions

from accounts.api.authentication import TenantPrincipal
from accounts.tenancy import Tenant
from tracking.models import CarrierEventsToken
from tracking.selectors import carrier_events_token_find


@dataclass(frozen=True)
class EventsTokenPrincipal(TenantPrincipal):
    """Who is calling: a carrier's events token, and the tenant (carrier, mode) it acts for."""

    token: CarrierEventsToken
    tenant: Tenant

    @property
    def actor(self) -> str:
        return f"events-token:{self.token.prefix}"


class CarrierEventsTokenAuthentication(authentication.BaseAuthentication):
    """``?token=wb_evt_…``; a wrong or revoked token is a 401, never a fall-through."""

    def authenticate(self, request):
        plain = request.query_params.get("token")
        if plain is None:
            return None
        token = carrier_events_token_find(plain=plain.strip())
        if token is None or not token.carrier.active:
            raise exceptions.AuthenticationFailed("Unknown or revoked events token.")
        tenant = Tenant.of_carrier(token.carrier, live_mode=token.live_mode)
        return EventsTokenPrincipal(token=token, tenant=tenant), token

    def authenticate_header(self, request):
        return 'Bearer realm="api"'


# The scheme's OpenAPI description registers itself on import, as accounts.api.schema does.
from tracking.api import schema  # noqa: E402, F401
