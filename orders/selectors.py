from __future__ import annotations

from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.expressions import RawSQL

from accounts.tenancy import Tenant
from config.errors import first_or_404
from orders.models import Collo, Order


def order_get(*, tenant: Tenant, order_id) -> Order:
    """One of the tenant's orders in its mode; anything else is a 404."""
    return first_or_404(
        Order.objects.of(tenant).prefetch_related("lines", "collis").filter(id=order_id),
        f"No order with id '{order_id}'.",
    )


def order_get_by_ref(*, tenant: Tenant, creator_order_id: str) -> Order:
    return first_or_404(
        Order.objects.of(tenant)
        .prefetch_related("lines", "collis")
        .filter(creator_order_id=creator_order_id),
        f"No order with creatorOrderId '{creator_order_id}'.",
    )


def order_find_by_ref(*, shipper, live_mode: bool, creator_order_id: str) -> Order | None:
    tenant = Tenant.of_shipper(shipper, live_mode=live_mode)
    return Order.objects.of(tenant).filter(creator_order_id=creator_order_id).first()


def tag_filter(tag: str) -> Q:
    """Orders carrying ``tag``; a GIN-friendly containment on PostgreSQL."""
    if connection.vendor == "postgresql":
        return Q(tags__contains=[tag])
    return Q(
        id__in=RawSQL(
            "SELECT o.id FROM orders_order o, json_each(o.tags) t WHERE t.value = %s", (tag,)
        )
    )


def barcode_filter(barcode: str) -> Q:
    return Q(Exists(Collo.objects.filter(order=OuterRef("pk"), barcode=barcode)))


def order_list(*, tenant: Tenant) -> QuerySet[Order]:
    """The tenant's orders in its mode, ready for the list filters and paging."""
    return Order.objects.of(tenant).prefetch_related("lines", "collis")
