from dataclasses import dataclass

from rest_framework import authentication, exceptions

from accounts.models import ApiKey
from accounts.selectors import api_key_find
from accounts.services import KEY_PREFIXES, api_key_hash, api_key_touch
from accounts.tenancy import Tenant


class TenantPrincipal:
    """What every API principal answers from its tenant (built once, at authentication)."""

    tenant: Tenant

    is_authenticated = True
    is_anonymous = False

    @property
    def shipper(self):
        return self.tenant.shipper

    @property
    def carrier(self):
        return self.tenant.carrier

    @property
    def live_mode(self) -> bool:
        return self.tenant.live_mode

    @property
    def scope(self) -> str:
        return self.tenant.scope


@dataclass(frozen=True)
class ApiPrincipal(TenantPrincipal):
    """Who is calling: the key, and the tenant it acts for."""

    api_key: ApiKey
    tenant: Tenant

    @property
    def actor(self) -> str:
        return f"api-key:{self.api_key.prefix}"


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header:
            return None
        scheme, _, raw_key = header.partition(" ")
        raw_key = raw_key.strip()
        if scheme.lower() != "bearer" or not raw_key:
            raise exceptions.AuthenticationFailed("Use 'Authorization: Bearer <API key>'.")
        if not raw_key.startswith(tuple(KEY_PREFIXES.values())):
            raise exceptions.AuthenticationFailed("That is not a Waybill API key.")
        api_key = api_key_find(key_hash=api_key_hash(raw_key))
        if api_key is None or not (api_key.tenant and api_key.tenant.active):
            raise exceptions.AuthenticationFailed("Unknown or revoked API key.")
        api_key_touch(api_key=api_key)
        return ApiPrincipal(api_key=api_key, tenant=Tenant.of_api_key(api_key)), api_key

    def authenticate_header(self, request):
        return 'Bearer realm="api"'


# The scheme's OpenAPI description registers itself on import; DRF imports this module
# (DEFAULT_AUTHENTICATION_CLASSES) before any schema is generated.
from accounts.api import schema  # noqa: E402, F401
