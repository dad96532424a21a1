import math
from decimal import Decimal

from rest_framework import serializers

from carriers.api.serializers import StopSerializer
from config.api.fields import (
    BoundedDateField,
    StrictBooleanField,
    StrictCharField,
    StrictSerializer,
)
from routing.models import JobStatus, RouteStatus


class StrictIntegerField(serializers.IntegerField):
    """A JSON number and nothing else: "30" is a wrong type, not 30.

    30.0 is 30: JSON (and JSON Schema's `integer`) does not tell them apart.
    """

    default_error_messages = {"invalid": "Must be a whole number."}

    def to_internal_value(self, data):
        # The JSON parser reads 30.0 as a Decimal (config.api.parsers).
        if isinstance(data, float | Decimal) and math.isfinite(data) and data == int(data):
            data = int(data)
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class JobSettingsSerializer(StrictSerializer):
    serviceTimeS = StrictIntegerField(min_value=0, max_value=7200, required=False)  # noqa: N815
    serviceTimePerColloS = StrictIntegerField(  # noqa: N815
        min_value=0, max_value=3600, required=False
    )
    maxIterations = StrictIntegerField(  # noqa: N815
        min_value=1, max_value=10_000_000, required=False
    )
    executors = serializers.ListField(
        child=StrictCharField(max_length=100), max_length=20, required=False
    )


class JobCreateSerializer(StrictSerializer):
    name = StrictCharField(max_length=200)
    date = BoundedDateField()
    vehicleGroups = serializers.ListField(  # noqa: N815
        child=serializers.UUIDField(),
        min_length=1,
        max_length=100,
        help_text="Vehicle groups that exist.",
    )
    gates = serializers.ListField(
        child=serializers.UUIDField(),
        min_length=1,
        max_length=100,
        help_text="Gates that exist, at a vehicle group's depot.",
    )
    orders = serializers.ListField(
        child=serializers.UUIDField(),
        max_length=20_000,
        required=False,
        help_text=(
            "Orders that exist, in the job's mode, each with a delivery position. Default: every "
            "routable order delivered on the date."
        ),
    )
    ownerId = serializers.UUIDField(  # noqa: N815
        required=False, allow_null=True, help_text="A shipper that exists."
    )
    liveMode = StrictBooleanField(required=False, default=False)  # noqa: N815
    timeBudgetS = StrictIntegerField(  # noqa: N815
        min_value=1, max_value=3600, required=False, default=30
    )
    seed = StrictIntegerField(min_value=0, max_value=2**31 - 1, required=False, default=1)
    settings = JobSettingsSerializer(required=False)


# --- what the routing endpoints return, for the OpenAPI document ------------------------------


class NamedSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField(allow_blank=True)


class JobStopSerializer(serializers.Serializer):
    sequence = serializers.IntegerField(min_value=0)
    orderId = serializers.UUIDField()  # noqa: N815
    creatorOrderId = serializers.CharField(allow_blank=True)  # noqa: N815
    arrival = serializers.DateTimeField(allow_null=True)
    eta = serializers.DateTimeField(allow_null=True)
    departure = serializers.DateTimeField(allow_null=True)


class JobRouteSerializer(serializers.Serializer):
    vehicleGroup = NamedSerializer()  # noqa: N815
    gate = NamedSerializer()
    startTime = serializers.DateTimeField(allow_null=True)  # noqa: N815
    endTime = serializers.DateTimeField(allow_null=True)  # noqa: N815
    distanceKm = serializers.FloatField(min_value=0)  # noqa: N815
    drivingDuration = serializers.IntegerField(min_value=0, help_text="Seconds.")  # noqa: N815
    waitingTime = serializers.IntegerField(min_value=0, help_text="Seconds.")  # noqa: N815
    taskTime = serializers.IntegerField(min_value=0, help_text="Seconds.")  # noqa: N815
    breakTime = serializers.IntegerField(min_value=0, help_text="Seconds.")  # noqa: N815
    weightKg = serializers.FloatField(min_value=0)  # noqa: N815
    volumeM3 = serializers.FloatField(min_value=0)  # noqa: N815
    stops = JobStopSerializer(many=True)


class UnscheduledSerializer(serializers.Serializer):
    orderId = serializers.UUIDField()  # noqa: N815
    creatorOrderId = serializers.CharField(allow_blank=True)  # noqa: N815
    reasons = serializers.ListField(child=serializers.CharField())


class SolverSerializer(serializers.Serializer):
    cost = serializers.IntegerField(allow_null=True)
    runtimeS = serializers.FloatField(allow_null=True)  # noqa: N815
    iterations = serializers.IntegerField(allow_null=True)
    stoppedBy = serializers.CharField(allow_null=True)  # noqa: N815


class JobMetaSerializer(serializers.Serializer):
    """Totals over every route of the solution, as RouteOptimizationJobApproved has them."""

    routesCount = serializers.IntegerField(min_value=0)  # noqa: N815
    shipmentsCount = serializers.IntegerField(min_value=0)  # noqa: N815
    servicesCount = serializers.IntegerField(min_value=0)  # noqa: N815
    duration = serializers.IntegerField(min_value=0, help_text="Seconds.")
    distance = serializers.FloatField(min_value=0, help_text="Kilometres.")
    drivingDuration = serializers.IntegerField(min_value=0)  # noqa: N815
    waitingTime = serializers.IntegerField(min_value=0)  # noqa: N815
    taskTime = serializers.IntegerField(min_value=0)  # noqa: N815
    breakTime = serializers.IntegerField(min_value=0)  # noqa: N815
    weight = serializers.FloatField(min_value=0, help_text="Kilograms.")
    volume = serializers.FloatField(min_value=0, help_text="Cubic metres.")
    unscheduledTasks = serializers.IntegerField(min_value=0)  # noqa: N815

    def get_fields(self):
        # Empty until the job is solved.
        fields = super().get_fields()
        for field in fields.values():
            field.required = False
        return fields


class JobSerializer(serializers.Serializer):
    """A route optimisation job: status, progress, figures, routes and who was left out."""

    id = serializers.UUIDField()
    number = serializers.IntegerField()
    name = serializers.CharField()
    date = serializers.DateField()
    ownerId = serializers.UUIDField(allow_null=True)  # noqa: N815
    liveMode = serializers.BooleanField()  # noqa: N815
    status = serializers.ChoiceField(choices=JobStatus.choices)
    progress = serializers.FloatField(min_value=0, max_value=1)
    timeBudgetS = serializers.IntegerField()  # noqa: N815
    seed = serializers.IntegerField()
    settings = JobSettingsSerializer()
    error = serializers.CharField(allow_blank=True)
    vehicleGroups = NamedSerializer(many=True)  # noqa: N815
    gates = NamedSerializer(many=True)
    ordersInScope = serializers.IntegerField(min_value=0)  # noqa: N815
    meta = JobMetaSerializer()
    routes = JobRouteSerializer(many=True)
    unscheduled = UnscheduledSerializer(many=True)
    solver = SolverSerializer()
    createdAt = serializers.DateTimeField()  # noqa: N815
    startedAt = serializers.DateTimeField(allow_null=True)  # noqa: N815
    finishedAt = serializers.DateTimeField(allow_null=True)  # noqa: N815
    approvedAt = serializers.DateTimeField(allow_null=True)  # noqa: N815
    approvedBy = serializers.CharField(allow_blank=True)  # noqa: N815


class RouteSerializer(serializers.Serializer):
    """A route carrying at least one of your orders."""

    id = serializers.UUIDField()
    slug = serializers.CharField()
    reference = serializers.CharField(allow_blank=True)
    tags = serializers.ListField(child=serializers.CharField())
    executors = serializers.ListField(child=serializers.CharField())
    status = serializers.ChoiceField(choices=RouteStatus.choices)
    vehicleGroup = serializers.CharField()  # noqa: N815
    gate = serializers.CharField()
    startTime = serializers.DateTimeField()  # noqa: N815
    endTime = serializers.DateTimeField()  # noqa: N815
    stopsCount = serializers.IntegerField(min_value=0)  # noqa: N815
    distanceKm = serializers.FloatField(min_value=0)  # noqa: N815
    duration = serializers.IntegerField(min_value=0, help_text="Seconds.")


class RouteListSerializer(serializers.Serializer):
    results = RouteSerializer(many=True, help_text="Newest first, at most 500.")


class RouteDetailSerializer(RouteSerializer):
    """A route: your stops in full, other shippers' only counted."""

    stops = StopSerializer(many=True)
    otherStops = serializers.IntegerField(min_value=0)  # noqa: N815
