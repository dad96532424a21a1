import uuid

from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Exists, OuterRef
from django.utils import timezone

from accounts.tenancy import Tenant, TenantQuerySet
from carriers.models import _validate_time_zone


class Depot(models.Model):
    """Where routes start and end: a hub the orders are delivered from."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200)
    address = models.CharField(max_length=255, blank=True)
    latitude = models.FloatField()
    longitude = models.FloatField()
    time_zone = models.CharField(
        max_length=64, default="Europe/Copenhagen", validators=[_validate_time_zone]
    )

    def __str__(self) -> str:
        return self.name


class VehicleType(models.TextChoices):
    BIKE = "cargo-bike", "Cargo bike"
    CAR = "car", "Car"
    VAN = "van", "Van"
    TRUCK = "truck", "Truck"


class VehicleGroup(models.Model):
    """A number of alike vehicles at a depot, with their limits, costs, shift and breaks."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200)
    depot = models.ForeignKey(Depot, on_delete=models.PROTECT, related_name="vehicle_groups")
    # The last-mile platform that drives these vehicles and reports on their routes.
    operator = models.ForeignKey(
        "carriers.Carrier",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="operated_vehicle_groups",
    )
    vehicle_type = models.CharField(max_length=20, choices=VehicleType.choices)
    handled_tags = models.JSONField(
        default=list, blank=True, help_text="Tags it can handle, e.g. Handling:2person."
    )
    vehicles = models.PositiveIntegerField(default=1)
    max_volume_m3 = models.DecimalField(max_digits=8, decimal_places=3, null=True, blank=True)
    max_weight_kg = models.DecimalField(max_digits=10, decimal_places=1, null=True, blank=True)
    max_colli = models.PositiveIntegerField(null=True, blank=True)
    max_stops = models.PositiveIntegerField(null=True, blank=True)
    max_duration_s = models.PositiveIntegerField(null=True, blank=True)
    max_distance_m = models.PositiveIntegerField(null=True, blank=True)
    cost_per_km = models.DecimalField(max_digits=8, decimal_places=2, default=0)
    cost_per_hour = models.DecimalField(max_digits=8, decimal_places=2, default=0)
    cost_per_vehicle = models.DecimalField(max_digits=10, decimal_places=2, default=0)
    shift_start = models.TimeField(default="07:00")
    shift_end = models.TimeField(default="17:00")
    break_after_s = models.PositiveIntegerField(
        null=True, blank=True, help_text="A route longer than this includes a break."
    )
    break_duration_s = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.shift_start >= self.shift_end:
            raise ValidationError("The shift must end after it starts.")


def _validate_slots(value) -> None:
    if not isinstance(value, list) or not value:
        raise ValidationError('A list: [{"start": "07:00", "end": "07:30", "departures": 4}].')
    for slot in value:
        if not isinstance(slot, dict) or set(slot) != {"start", "end", "departures"}:
            raise ValidationError("Each slot has start, end and departures.")
        if not (isinstance(slot["departures"], int) and slot["departures"] > 0):
            raise ValidationError("departures is a positive whole number.")
        if str(slot["start"]) >= str(slot["end"]):
            raise ValidationError("A slot ends after it starts (HH:MM).")


class Gate(models.Model):
    """A loading gate at a depot: routes leave in its time slots, a number per slot."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=100)
    depot = models.ForeignKey(Depot, on_delete=models.PROTECT, related_name="gates")
    slots = models.JSONField(
        validators=[_validate_slots],
        help_text='[{"start": "07:00", "end": "07:30", "departures": 4}, …] in the depot\'s zone',
    )

    def __str__(self) -> str:
        return f"{self.depot} · {self.name}"


class JobStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SOLVED = "solved", "Solved"
    APPROVED = "approved", "Approved"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


class OptimizationJob(models.Model):
    """One optimisation of a day's orders onto the vehicle groups and gates given."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200)
    date = models.DateField()
    owner = models.ForeignKey(
        "accounts.Shipper",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="optimization_jobs",
        help_text="Empty: orders of every shipper.",
    )
    live_mode = models.BooleanField(default=False)
    orders = models.ManyToManyField("orders.Order", related_name="optimization_jobs", blank=True)
    vehicle_groups = models.ManyToManyField(VehicleGroup, related_name="jobs")
    gates = models.ManyToManyField(Gate, related_name="jobs")
    settings = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    time_budget_s = models.PositiveIntegerField(default=30)
    seed = models.PositiveIntegerField(default=1)
    status = models.CharField(max_length=10, choices=JobStatus.choices, default=JobStatus.DRAFT)
    progress = models.FloatField(default=0, help_text="0 to 1 while running.")
    cancel_requested = models.BooleanField(default=False)
    # Runs started since the job was queued: a job whose worker keeps stopping is failed by
    # the sweeper instead of being started again for ever.
    attempts = models.PositiveSmallIntegerField(default=0, editable=False)
    # When its run was queued (created, run again, or by the sweeper), or None when no message
    # is out for it (a worker took it, or the broker refused it). The sweeper queues a queued
    # job again only past ROUTING_JOB_QUEUE_LEASE.
    queued_at = models.DateTimeField(null=True, blank=True, editable=False)
    error = models.TextField(blank=True)
    # The solution until approval: routes with their stops and figures, and who was left out.
    solution = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    meta = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    created_by = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.CharField(max_length=200, blank=True)
    number = models.PositiveIntegerField(unique=True, null=True, editable=False)

    class Meta:
        ordering = ["-created_at"]
        permissions = [("approve_optimizationjob", "Can approve a route optimisation")]

    def __str__(self) -> str:
        return f"{self.name} ({self.date})"


class RouteStatus(models.TextChoices):
    PLANNED = "planned", "Planned"
    DISPATCHED = "dispatched", "Dispatched"
    IN_PROGRESS = "in_progress", "In progress"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"


R = RouteStatus
# The one table of a route's legal moves (``routing.services.route_status_move``): it is
# driven forward by its operator's events, and cancelled only before its goods are on the road.
ROUTE_TRANSITIONS: dict[str, frozenset[str]] = {
    R.PLANNED: frozenset({R.DISPATCHED, R.CANCELLED}),
    R.DISPATCHED: frozenset({R.IN_PROGRESS, R.CANCELLED}),
    R.IN_PROGRESS: frozenset({R.COMPLETED}),
    R.COMPLETED: frozenset(),
    R.CANCELLED: frozenset(),
}
# The order a route goes through when it is driven: a later status reached by an event moves
# it through the ones before (a platform may report a delivery before any pickup).
ROUTE_PROGRESS = (R.PLANNED, R.DISPATCHED, R.IN_PROGRESS, R.COMPLETED)


def route_can_move(current: str, new: str) -> bool:
    return new in ROUTE_TRANSITIONS[current]


# Routes still to drive: their orders are allocated to them.
ROUTE_OPEN_STATUSES = (RouteStatus.PLANNED, RouteStatus.DISPATCHED, RouteStatus.IN_PROGRESS)
# Routes ``route_cancel`` may cancel: none of their goods is on the road yet.
ROUTE_CANCELLABLE_STATUSES = (RouteStatus.PLANNED, RouteStatus.DISPATCHED)


class RouteQuerySet(TenantQuerySet):
    """A route is shared: it is a shipper's when it carries at least one of its orders."""

    def of(self, tenant: Tenant) -> "RouteQuerySet":
        return self.filter(Exists(Stop.objects.of(tenant).filter(route=OuterRef("pk"))))


class Route(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    job = models.ForeignKey(OptimizationJob, on_delete=models.PROTECT, related_name="routes")
    slug = models.CharField(max_length=30, unique=True)
    reference = models.CharField(max_length=100, blank=True)
    tags = models.JSONField(default=list, blank=True)
    executors = models.JSONField(default=list, blank=True)
    vehicle_group = models.ForeignKey(VehicleGroup, on_delete=models.PROTECT, related_name="+")
    gate = models.ForeignKey(Gate, on_delete=models.PROTECT, related_name="+")
    start_time = models.DateTimeField()
    end_time = models.DateTimeField()
    stops_count = models.PositiveIntegerField()
    first_stop_task_time = models.PositiveIntegerField(help_text="s")
    duration = models.PositiveIntegerField(help_text="s")
    distance_km = models.FloatField()
    driving_duration = models.PositiveIntegerField(help_text="s")
    waiting_time = models.PositiveIntegerField(help_text="s")
    task_time = models.PositiveIntegerField(help_text="s")
    break_time = models.PositiveIntegerField(help_text="s")
    weight = models.FloatField(help_text="kg")
    volume = models.FloatField(help_text="m³")
    status = models.CharField(
        max_length=12, choices=RouteStatus.choices, default=RouteStatus.PLANNED
    )
    # What the route really took, from its executor's events (RouteCompleted).
    actual_start_time = models.DateTimeField(null=True, blank=True)
    actual_end_time = models.DateTimeField(null=True, blank=True)
    actual_distance_km = models.FloatField(null=True, blank=True)
    actual_duration = models.PositiveIntegerField(null=True, blank=True, help_text="s")
    created_at = models.DateTimeField(default=timezone.now)

    objects = RouteQuerySet.as_manager()

    class Meta:
        ordering = ["slug"]
        # Routes are cancelled (``route_cancel``), never deleted with their stops.
        permissions = [("cancel_route", "Can cancel a route")]

    def __str__(self) -> str:
        return self.slug


class StopKind(models.TextChoices):
    PICKUP = "pickup", "Pickup"
    DELIVERY = "delivery", "Delivery"


class StopQuerySet(TenantQuerySet):
    shipper_path = "order__shipper"
    live_mode_path = "order__live_mode"


class Stop(models.Model):
    # A route with stops cannot be deleted: its orders would be left on no route.
    route = models.ForeignKey(Route, on_delete=models.PROTECT, related_name="stops")
    sequence = models.PositiveIntegerField()
    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="stops")
    kind = models.CharField(max_length=10, choices=StopKind.choices, default=StopKind.DELIVERY)
    latitude = models.FloatField()
    longitude = models.FloatField()
    planned_arrival = models.DateTimeField()
    eta = models.DateTimeField()
    window_from = models.DateTimeField(null=True, blank=True)
    window_to = models.DateTimeField(null=True, blank=True)
    service_time_s = models.PositiveIntegerField(default=0)

    objects = StopQuerySet.as_manager()

    class Meta:
        ordering = ["route", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["route", "sequence"], name="one_stop_per_sequence")
        ]

    def __str__(self) -> str:
        return f"{self.route} #{self.sequence}"
