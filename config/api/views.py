"""The base views of every key-authenticated endpoint: the tenant comes from the key."""

from __future__ import annotations

from rest_framework.generics import GenericAPIView

from accounts.api.permissions import IsCarrier, IsShipper
from accounts.tenancy import Tenant


# No docstrings on these classes: drf-spectacular would publish them as the description of
# every operation that has none of its own.
class TenantView(GenericAPIView):
    # Acts for the tenant of the calling key; selectors take ``self.tenant``.

    @property
    def tenant(self) -> Tenant:
        return self.request.user.tenant

    @property
    def live_mode(self) -> bool:
        return self.tenant.live_mode

    @property
    def actor(self) -> str:
        return self.request.user.actor


class ShipperView(TenantView):
    permission_classes = [IsShipper]

    @property
    def shipper(self):
        return self.tenant.shipper


class CarrierView(TenantView):
    permission_classes = [IsCarrier]

    @property
    def carrier(self):
        return self.tenant.carrier
