from rest_framework import serializers

from orders.api.serializers import StrictCharField, StrictSerializer


class StrictIntegerField(serializers.IntegerField):
    """A JSON number and nothing else: "30" is a wrong type, not 30."""

    default_error_messages = {"invalid": "Must be a whole number."}

    def to_internal_value(self, data):
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
    date = serializers.DateField()
    vehicleGroups = serializers.ListField(  # noqa: N815
        child=serializers.UUIDField(), min_length=1, max_length=100
    )
    gates = serializers.ListField(child=serializers.UUIDField(), min_length=1, max_length=100)
    orders = serializers.ListField(
        child=serializers.UUIDField(),
        max_length=20_000,
        required=False,
        help_text="Default: every routable order delivered on the date.",
    )
    ownerId = serializers.UUIDField(required=False, allow_null=True)  # noqa: N815
    liveMode = serializers.BooleanField(required=False, default=False)  # noqa: N815
    timeBudgetS = StrictIntegerField(  # noqa: N815
        min_value=1, max_value=3600, required=False, default=30
    )
    seed = StrictIntegerField(min_value=0, max_value=2**31 - 1, required=False, default=1)
    settings = JobSettingsSerializer(required=False)
