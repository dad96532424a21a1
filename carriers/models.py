import uuid
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone

from accounts.tenancy import TenantQuerySet
from orders.models import Order


def _validate_time_zone(value: str) -> None:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError(f"'{value}' is not an IANA time zone name.") from None


def _validate_weekdays(value) -> None:
    if not isinstance(value, list) or not value or any(d not in range(1, 8) for d in value):
        raise ValidationError("A non-empty list of ISO weekdays, 1 (Monday) to 7 (Sunday).")


def _weekdays_default() -> list[int]:
    return [1, 2, 3, 4, 5]


class Carrier(models.Model):
    """A logistics provider: it owns its services, their areas, limits and rate cards."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=100, unique=True)
    contact_email = models.EmailField(blank=True)
    contact_phone = models.CharField(max_length=40, blank=True)
    time_zone = models.CharField(
        max_length=64,
        default="Europe/Copenhagen",
        validators=[_validate_time_zone],
        help_text="Cut-off times and operating days are read in this zone.",
    )
    active = models.BooleanField(default=True)
    # How far an invoiced amount may differ from the expected one and still be a match
    # (finance.audit): both limits hold, so a small order is not let off by the absolute one.
    invoice_tolerance_amount = models.DecimalField(
        max_digits=10,
        decimal_places=2,
        default=Decimal("1.00"),
        help_text="Largest difference per invoice line, in the invoice's currency.",
    )
    invoice_tolerance_pct = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=Decimal("1.00"),
        help_text="Largest difference per invoice line, in percent of the expected amount.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Service(models.Model):
    """One product of a carrier (e.g. next-day parcel, same-day courier) with its hard limits."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    carrier = models.ForeignKey(Carrier, on_delete=models.CASCADE, related_name="services")
    code = models.SlugField(max_length=50)
    name = models.CharField(max_length=200)
    active = models.BooleanField(default=True)
    transit_days = models.PositiveSmallIntegerField(
        default=1, help_text="Operating days from pickup to delivery; 0 is same day."
    )
    cutoff_time = models.TimeField(
        help_text="Orders planned after this local time are picked up the next operating day."
    )
    operating_days = models.JSONField(
        default=_weekdays_default,
        validators=[_validate_weekdays],
        help_text="ISO weekdays the service picks up and delivers: 1 Monday … 7 Sunday.",
    )
    pickup_window_start = models.TimeField(default="08:00")
    pickup_window_end = models.TimeField(default="18:00")
    delivery_window_start = models.TimeField(
        null=True, blank=True, help_text="Time-definite delivery: the promised window's start."
    )
    delivery_window_end = models.TimeField(null=True, blank=True)
    handled_tags = models.JSONField(
        default=list,
        blank=True,
        help_text="Tags the service handles (e.g. Handling:2person). An order tag is a "
        "requirement when some service lists it or its namespace is a handling one "
        "(CARRIER_REQUIREMENT_TAG_NAMESPACES); a requirement not listed here rules the "
        "service out. Other tags (Outbound, Fragile) are informational.",
    )
    max_collo_weight_kg = models.DecimalField(
        max_digits=10, decimal_places=3, null=True, blank=True
    )
    max_collo_length_cm = models.DecimalField(max_digits=8, decimal_places=1, null=True, blank=True)
    max_collo_width_cm = models.DecimalField(max_digits=8, decimal_places=1, null=True, blank=True)
    max_collo_height_cm = models.DecimalField(max_digits=8, decimal_places=1, null=True, blank=True)
    max_total_weight_kg = models.DecimalField(
        max_digits=10, decimal_places=3, null=True, blank=True
    )
    max_total_volume_m3 = models.DecimalField(
        max_digits=10, decimal_places=4, null=True, blank=True
    )
    max_collis = models.PositiveIntegerField(null=True, blank=True)
    daily_capacity_orders = models.PositiveIntegerField(
        null=True, blank=True, help_text="Orders per pickup day; empty is unlimited."
    )
    daily_capacity_kg = models.DecimalField(
        max_digits=12, decimal_places=3, null=True, blank=True, help_text="kg per pickup day."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["carrier__name", "code"]
        constraints = [
            models.UniqueConstraint(fields=["carrier", "code"], name="service_code_per_carrier")
        ]

    def __str__(self) -> str:
        return f"{self.carrier.name} · {self.name}"

    def clean(self) -> None:
        if (self.delivery_window_start is None) != (self.delivery_window_end is None):
            raise ValidationError("Give both ends of the delivery window, or neither.")
        start, end = self.pickup_window_start, self.pickup_window_end
        if start and end and start >= end:
            raise ValidationError("The pickup window must end after it starts.")


class AreaKind(models.TextChoices):
    COUNTRY = "country", "Whole country"
    POSTCODE_RANGE = "range", "Postcode range"
    POSTCODE_PREFIX = "prefix", "Postcode prefixes"
    RADIUS = "radius", "Radius around a depot"


class ServiceArea(models.Model):
    """Where a service operates; pickup and delivery must both lie in one of its areas."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="areas")
    kind = models.CharField(max_length=10, choices=AreaKind.choices)
    country_code = models.CharField(max_length=2, blank=True, help_text="ISO 3166-1 alpha-2.")
    postcode_from = models.CharField(max_length=20, blank=True)
    postcode_to = models.CharField(max_length=20, blank=True)
    postcode_prefixes = models.CharField(
        max_length=500, blank=True, help_text="Comma-separated, e.g. 1,2,30"
    )
    depot_latitude = models.FloatField(null=True, blank=True)
    depot_longitude = models.FloatField(null=True, blank=True)
    radius_km = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)

    def __str__(self) -> str:
        if self.kind == AreaKind.RADIUS:
            return f"{self.radius_km} km around ({self.depot_latitude}, {self.depot_longitude})"
        if self.kind == AreaKind.POSTCODE_RANGE:
            return f"{self.country_code} {self.postcode_from}–{self.postcode_to}"
        if self.kind == AreaKind.POSTCODE_PREFIX:
            return f"{self.country_code} {self.postcode_prefixes}"
        return self.country_code

    def clean(self) -> None:
        self.country_code = self.country_code.upper()
        if self.kind == AreaKind.RADIUS:
            if None in (self.depot_latitude, self.depot_longitude, self.radius_km):
                raise ValidationError("A radius area needs the depot position and the radius.")
            return
        if not self.country_code:
            raise ValidationError({"country_code": "Required for this kind of area."})
        if self.kind == AreaKind.POSTCODE_RANGE and not (self.postcode_from and self.postcode_to):
            raise ValidationError("A postcode range needs both ends.")
        if self.kind == AreaKind.POSTCODE_PREFIX and not self.postcode_prefixes.strip(", "):
            raise ValidationError({"postcode_prefixes": "Give at least one prefix."})


def _validate_breaks(value, key: str) -> None:
    if not isinstance(value, list):
        raise ValidationError("A list.")
    last = Decimal(0)
    for item in value:
        if not isinstance(item, dict) or set(item) != {key, "price"}:
            raise ValidationError(f'Each item is {{"{key}": "…", "price": "…"}}.')
        try:
            bound, price = Decimal(str(item[key])), Decimal(str(item["price"]))
        except ArithmeticError:
            raise ValidationError(f"Not a number: {item}.") from None
        if bound <= last or price < 0:
            raise ValidationError(f"{key} must increase and prices be ≥ 0.")
        last = bound


def validate_weight_breaks(value) -> None:
    _validate_breaks(value, "upToKg")


def validate_distance_bands(value) -> None:
    _validate_breaks(value, "upToKm")


def validate_tag_surcharges(value) -> None:
    if not isinstance(value, dict):
        raise ValidationError('An object: {"Handling:2person": "150.00"}.')
    for tag, price in value.items():
        try:
            if Decimal(str(price)) < 0:
                raise ValidationError(f"Surcharge for {tag} is negative.")
        except ArithmeticError:
            raise ValidationError(f"Not a number: {price}.") from None


class RateCard(models.Model):
    """A service's prices for a validity period.

    The price of an order: the weight break its chargeable weight falls in (beyond the last
    break, that price plus ``per_kg`` for every kg above it), plus ``per_collo`` per collo, plus
    the distance band's price, plus the surcharges of the order's tags; at least
    ``minimum_charge``; then ``fuel_surcharge_pct`` on top.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="rate_cards")
    valid_from = models.DateField()
    valid_to = models.DateField(null=True, blank=True, help_text="Inclusive; empty is open.")
    currency = models.CharField(max_length=3, default="DKK")
    weight_breaks = models.JSONField(
        default=list,
        blank=True,
        validators=[validate_weight_breaks],
        encoder=DjangoJSONEncoder,
        help_text='[{"upToKg": "5", "price": "49.00"}, {"upToKg": "20", "price": "79.00"}]',
    )
    per_kg = models.DecimalField(max_digits=10, decimal_places=4, default=0)
    per_collo = models.DecimalField(max_digits=10, decimal_places=2, default=0)
    distance_bands = models.JSONField(
        default=list,
        blank=True,
        validators=[validate_distance_bands],
        encoder=DjangoJSONEncoder,
        help_text='[{"upToKm": "25", "price": "0"}, {"upToKm": "100", "price": "40.00"}]; '
        "empty: distance is not priced. Beyond the last band the card does not rate.",
    )
    tag_surcharges = models.JSONField(
        default=dict,
        blank=True,
        validators=[validate_tag_surcharges],
        encoder=DjangoJSONEncoder,
        help_text='{"Handling:2person": "150.00"}',
    )
    minimum_charge = models.DecimalField(max_digits=10, decimal_places=2, default=0)
    fuel_surcharge_pct = models.DecimalField(max_digits=5, decimal_places=2, default=0)
    volumetric_kg_per_m3 = models.DecimalField(
        max_digits=8,
        decimal_places=2,
        default=0,
        help_text="Chargeable weight is the larger of the real weight and volume × this; 0 off.",
    )

    class Meta:
        ordering = ["service", "-valid_from"]

    def __str__(self) -> str:
        return f"{self.service} from {self.valid_from}"

    def clean(self) -> None:
        if self.valid_to and self.valid_to < self.valid_from:
            raise ValidationError("valid_to is before valid_from.")


class CapacityLoad(models.Model):
    """What a service has taken on for one pickup day; raised only within its capacity."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="loads")
    day = models.DateField()
    orders = models.PositiveIntegerField(default=0)
    weight_kg = models.DecimalField(max_digits=14, decimal_places=3, default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["service", "day"], name="one_load_per_service_day")
        ]

    def __str__(self) -> str:
        return f"{self.service} {self.day}: {self.orders} orders, {self.weight_kg} kg"


class PlanStatus(models.TextChoices):
    PLANNED = "planned", "Planned"
    UNPLANNED = "unplanned", "Unplanned"
    # On an own-fleet route: no carrier, no price; the route and stop say the rest.
    ROUTED = "routed", "On an own-fleet route"
    # Carried by nobody any more (the order was cancelled, or its route was): no price.
    RELEASED = "released", "Released"


class PlanQuerySet(TenantQuerySet):
    # A plan is its order's shipper's, and the carrier's it puts the order on.
    shipper_path = "order__shipper"
    carrier_path = "carrier"
    live_mode_path = "order__live_mode"


class Plan(models.Model):
    """One planning decision for an order. The newest is current; older ones stay as history."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    order = models.ForeignKey("orders.Order", on_delete=models.CASCADE, related_name="plans")
    is_current = models.BooleanField(default=True)
    status = models.CharField(max_length=10, choices=PlanStatus.choices)
    policy = models.CharField(max_length=10)
    service = models.ForeignKey(
        Service, null=True, blank=True, on_delete=models.PROTECT, related_name="plans"
    )
    # Denormalised for the carrier's manifest, which filters by both.
    carrier = models.ForeignKey(
        Carrier, null=True, blank=True, on_delete=models.PROTECT, related_name="plans"
    )
    price = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    price_breakdown = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    pickup_day = models.DateField(null=True, blank=True)
    reserved_weight_kg = models.DecimalField(max_digits=12, decimal_places=3, default=0)
    # True while this plan's order and weight count in its service's CapacityLoad.
    capacity_held = models.BooleanField(default=False)
    promised_pickup_from = models.DateTimeField(null=True, blank=True)
    promised_pickup_to = models.DateTimeField(null=True, blank=True)
    promised_delivery_from = models.DateTimeField(null=True, blank=True)
    promised_delivery_to = models.DateTimeField(null=True, blank=True)
    options = models.JSONField(default=list, blank=True, encoder=DjangoJSONEncoder)
    rejections = models.JSONField(default=list, blank=True, encoder=DjangoJSONEncoder)
    unplanned_reasons = models.JSONField(default=list, blank=True)
    reason = models.CharField(max_length=500, help_text="Why this option, in words.")
    overridden = models.BooleanField(default=False)
    decided_at = models.DateTimeField(default=timezone.now)
    decided_by = models.CharField(max_length=200)

    objects = PlanQuerySet.as_manager()

    class Meta:
        ordering = ["-decided_at"]
        permissions = [("override_plan", "Can override the carrier chosen for an order")]
        constraints = [
            models.UniqueConstraint(
                fields=["order"],
                condition=models.Q(is_current=True),
                name="one_current_plan_per_order",
            )
        ]
        indexes = [
            models.Index(
                fields=["carrier", "pickup_day"],
                condition=models.Q(is_current=True),
                name="plan_carrier_manifest",
            )
        ]

    def __str__(self) -> str:
        return f"{self.order} → {self.service or 'unplanned'}"


class PlanningFailure(models.Model):
    """Planning an order raised: what went wrong, how often, and when the sweeper tries again.

    One row per order while its planning keeps failing; planning it removes the row. The
    order keeps ``needs_planning``, so a change to it or a dispatcher's re-plan tries at once.
    """

    order = models.OneToOneField(
        "orders.Order",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="planning_failure",
    )
    attempts = models.PositiveSmallIntegerField(
        default=1, help_text="Failures in a row since the order last changed."
    )
    error = models.TextField()
    failed_at = models.DateTimeField()
    retry_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the sweeper plans the order again; empty: it has given up until the "
        "order changes or a dispatcher plans it again.",
    )

    def __str__(self) -> str:
        return f"{self.order}: planning failed {self.attempts}×"


class UnplannedOrder(Order):
    """Orders no service can take: the dispatcher's queue in the admin."""

    class Meta:
        proxy = True
        verbose_name = "unplanned order"
        verbose_name_plural = "unplanned orders (dispatcher queue)"
