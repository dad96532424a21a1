"""Planning reads: the selection catalogue, an order as a shipment, plans and manifests.

What the API and the events show of plans is built in ``carriers.documents``."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone

from accounts.tenancy import Tenant
from carriers.market import (
    Area,
    Catalogue,
    Offer,
    Parcel,
    Place,
    Rate,
    Shipment,
)
from carriers.models import CapacityLoad, Plan, PlanStatus, Service
from carriers.selection import (
    Selection,
    select,
)
from orders.models import PICKED_UP_OR_LATER, Collo, Order, OrderStatus

ON_TIME_PERIOD = timedelta(days=30)
# Plans whose order got this far count towards the carrier's on-time rate.
_MEASURED_STATUSES = PICKED_UP_OR_LATER


def _decimal(value) -> Decimal | None:
    return None if value is None else Decimal(value)


def _breaks(items: list[dict], key: str) -> tuple[tuple[Decimal, Decimal], ...]:
    return tuple((Decimal(str(i[key])), Decimal(str(i["price"]))) for i in items)


def _area(area) -> Area:
    return Area(
        kind=area.kind,
        country_code=area.country_code.upper(),
        postcode_from=area.postcode_from.replace(" ", "").upper(),
        postcode_to=area.postcode_to.replace(" ", "").upper(),
        prefixes=tuple(
            p.strip().replace(" ", "").upper()
            for p in area.postcode_prefixes.split(",")
            if p.strip()
        ),
        latitude=area.depot_latitude,
        longitude=area.depot_longitude,
        radius_km=float(area.radius_km) if area.radius_km is not None else None,
    )


def _rate(card) -> Rate:
    return Rate(
        valid_from=card.valid_from,
        valid_to=card.valid_to,
        currency=card.currency,
        weight_breaks=_breaks(card.weight_breaks, "upToKg"),
        per_kg=card.per_kg,
        per_collo=card.per_collo,
        distance_bands=_breaks(card.distance_bands, "upToKm"),
        tag_surcharges={t: Decimal(str(p)) for t, p in card.tag_surcharges.items()},
        minimum_charge=card.minimum_charge,
        fuel_surcharge_pct=card.fuel_surcharge_pct,
        volumetric_kg_per_m3=card.volumetric_kg_per_m3,
    )


def _offer(service: Service) -> Offer:
    carrier = service.carrier
    window = None
    if service.delivery_window_start is not None and service.delivery_window_end is not None:
        window = (service.delivery_window_start, service.delivery_window_end)
    return Offer(
        service_id=str(service.id),
        code=service.code,
        name=service.name,
        carrier_id=str(carrier.id),
        carrier_name=carrier.name,
        carrier_slug=carrier.slug,
        time_zone=ZoneInfo(carrier.time_zone),
        transit_days=service.transit_days,
        cutoff=service.cutoff_time,
        operating_days=frozenset(service.operating_days),
        pickup_window=(service.pickup_window_start, service.pickup_window_end),
        delivery_window=window,
        handled_tags=frozenset(service.handled_tags),
        max_collo_weight_kg=_decimal(service.max_collo_weight_kg),
        max_collo_dimensions_cm=(
            _decimal(service.max_collo_length_cm),
            _decimal(service.max_collo_width_cm),
            _decimal(service.max_collo_height_cm),
        ),
        max_total_weight_kg=_decimal(service.max_total_weight_kg),
        max_total_volume_m3=_decimal(service.max_total_volume_m3),
        max_collis=service.max_collis,
        capacity_orders=service.daily_capacity_orders,
        capacity_kg=_decimal(service.daily_capacity_kg),
        areas=tuple(_area(a) for a in service.areas.all()),
        rates=tuple(
            _rate(c)
            for c in sorted(service.rate_cards.all(), key=lambda c: c.valid_from, reverse=True)
        ),
    )


def carrier_on_time_counts(*, now: datetime | None = None) -> dict[str, tuple[int, int]]:
    """Per carrier, (delivered on time, measured) over plans promised in the last 30 days."""
    now = now or timezone.now()
    rows = (
        Plan.objects.filter(
            is_current=True,
            status=PlanStatus.PLANNED,
            promised_delivery_to__gte=now - ON_TIME_PERIOD,
            promised_delivery_to__lt=now,
            order__status__in=_MEASURED_STATUSES,
        )
        .values("carrier_id")
        .annotate(
            measured=Count("id"),
            on_time=Count("id", filter=Q(order__delivered_at__lte=F("promised_delivery_to"))),
        )
    )
    return {str(r["carrier_id"]): (r["on_time"], r["measured"]) for r in rows}


def catalogue_load(*, now: datetime | None = None) -> Catalogue:
    """Every active service of every active carrier, ready for ``select``: five queries."""
    now = now or timezone.now()
    services = list(
        Service.objects.filter(active=True, carrier__active=True)
        .select_related("carrier")
        .prefetch_related("areas", "rate_cards")
        .order_by("carrier__slug", "code")
    )
    offers = [_offer(s) for s in services]
    today = now.date() - timedelta(days=1)
    loads = {
        (str(load.service_id), load.day): (load.orders, load.weight_kg)
        for load in CapacityLoad.objects.filter(day__gte=today, service__in=services)
    }
    return Catalogue(
        offers=offers,
        requirement_tags=frozenset(t for o in offers for t in o.handled_tags),
        requirement_namespaces=tuple(settings.CARRIER_REQUIREMENT_TAG_NAMESPACES),
        on_time=carrier_on_time_counts(now=now),
        loads=loads,
    )


def _place(order: Order, kind: str) -> Place:
    return Place(
        country_code=getattr(order, f"{kind}_country_code").upper(),
        postal_code=getattr(order, f"{kind}_postal_code").replace(" ", "").upper(),
        latitude=getattr(order, f"{kind}_latitude"),
        longitude=getattr(order, f"{kind}_longitude"),
    )


def _aware(value: datetime | None, time_zone: str) -> datetime | None:
    if value is None or timezone.is_aware(value):
        return value
    return value.replace(tzinfo=ZoneInfo(time_zone))


def shipment_of(order: Order, collis: list[Collo]) -> Shipment:
    """The order as selection sees it: places, parcels, tags (its own and its collis')."""
    tags = set(order.tags)
    for collo in collis:
        tags.update(collo.tags)
    return Shipment(
        pickup=_place(order, "pickup"),
        delivery=_place(order, "delivery"),
        parcels=tuple(
            Parcel(
                weight_kg=Decimal(c.weight),
                volume_m3=_decimal(c.volume),
                length_cm=_decimal(c.length),
                width_cm=_decimal(c.width),
                height_cm=_decimal(c.height),
            )
            for c in collis
        ),
        tags=frozenset(tags),
        pickup_from=_aware(order.pickup_from, order.pickup_time_zone),
        pickup_to=_aware(order.pickup_to, order.pickup_time_zone),
        delivery_from=_aware(order.delivery_from, order.delivery_time_zone),
        delivery_to=_aware(order.delivery_to, order.delivery_time_zone),
    )


def order_quote(*, order: Order, collis: list[Collo] | None = None) -> Selection:
    """The options an order has right now, booking nothing."""
    collis = list(order.collis.all()) if collis is None else collis
    return select(
        shipment_of(order, collis),
        catalogue_load(),
        policy=order.shipper.planning_policy,
        now=timezone.now(),
    )


def plan_current(order: Order) -> Plan | None:
    return (
        Plan.objects.select_related("carrier", "service")
        .filter(order=order, is_current=True)
        .first()
    )


def plan_shared_with(plan: Plan) -> dict[str, Any]:
    """Orders collected with this one: same service, pickup day and pickup address (once
    the order is on an approved route, the Plan API shows that route's orders instead).

    The shipper's own are named by creatorOrderId; other shippers' are only counted.
    """
    if plan.status != PlanStatus.PLANNED:
        return {"orders": [], "otherOrders": 0}
    order = plan.order
    together = (
        Order.objects.filter(
            plans__is_current=True,
            plans__service_id=plan.service_id,
            plans__pickup_day=plan.pickup_day,
            live_mode=order.live_mode,
            pickup_address_primary=order.pickup_address_primary,
            pickup_postal_code=order.pickup_postal_code,
        )
        .exclude(id=order.id)
        .exclude(status=OrderStatus.CANCELLED)
    )
    own = list(
        together.filter(shipper_id=order.shipper_id)
        .order_by("creator_order_id")
        .values_list("creator_order_id", flat=True)[:100]
    )
    others = together.exclude(shipper_id=order.shipper_id).count()
    return {"orders": own, "otherOrders": others}


def plans_earlier(order: Order) -> QuerySet[Plan]:
    """The order's earlier plans, newest first, with what their summaries show."""
    return Plan.objects.filter(order=order, is_current=False).select_related(
        "order", "carrier", "service"
    )


def carrier_manifest(*, tenant: Tenant) -> QuerySet[Plan]:
    """The current plans that put orders on the tenant carrier, with what a driver needs."""
    return (
        Plan.objects.of(tenant)
        .filter(is_current=True, status=PlanStatus.PLANNED)
        .select_related("order", "order__shipper", "service")
        .prefetch_related("order__collis")
    )
