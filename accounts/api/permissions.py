from rest_framework.permissions import BasePermission


class IsShipper(BasePermission):
    message = "This endpoint takes a shipper's API key."

    def has_permission(self, request, view) -> bool:
        return bool(getattr(request.user, "shipper", None))


class IsCarrier(BasePermission):
    message = "This endpoint takes a carrier's API key."

    def has_permission(self, request, view) -> bool:
        return bool(getattr(request.user, "carrier", None))
