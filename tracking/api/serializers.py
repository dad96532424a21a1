"""The documented shapes of ``POST /api/v1/carrier/events``. The view reads each item with
``tracking.intake`` (one reader for both formats, so a batch item fails alone); these
serializers describe the same rules to the OpenAPI document."""

from rest_framework import serializers

from config.api.fields import StrictSerializer
from tracking.facts import FACT_TYPES
from tracking.intake import MAX_ID_LENGTH, MAX_IMAGES, MAX_REFERENCE_LENGTH

MAX_BATCH = 1000
CARRIER_EVENT_TYPES = sorted(FACT_TYPES)
# Times: ISO 8601 with a UTC offset, e.g. 2022-01-03T17:52:01+01:00.
TIME = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$"


def _time(**kwargs):
    return serializers.RegexField(TIME, **kwargs)


class EventPositionSerializer(StrictSerializer):
    latitude = serializers.FloatField(min_value=-90, max_value=90)
    longitude = serializers.FloatField(min_value=-180, max_value=180)


class EventDeviationSerializer(StrictSerializer):
    code = serializers.CharField(required=False, max_length=MAX_REFERENCE_LENGTH)
    text = serializers.CharField(required=False, max_length=1000)


class EventEtaSerializer(StrictSerializer):
    from_ = _time()
    to = _time()

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = fields.pop("from_")
        return fields


class RouteFiguresSerializer(StrictSerializer):
    duration = serializers.FloatField(required=False, min_value=0, help_text="s")
    distance = serializers.FloatField(required=False, min_value=0, help_text="km")
    startTime = _time(required=False)
    endTime = _time(required=False)


class CarrierEventSerializer(StrictSerializer):
    """Waybill's compact form of a carrier event."""

    id = serializers.CharField(
        max_length=MAX_ID_LENGTH, help_text="Your event id: repeats are ignored."
    )
    type = serializers.ChoiceField(choices=CARRIER_EVENT_TYPES)
    orderId = serializers.CharField(
        required=False,
        max_length=MAX_REFERENCE_LENGTH,
        help_text="Waybill's order id or the shipper's creatorOrderId (or give barcode).",
    )
    barcode = serializers.CharField(
        required=False,
        max_length=MAX_REFERENCE_LENGTH,
        help_text="The collo's barcode; required for collo events.",
    )
    timeOfEvent = _time(help_text="When it happened, with its UTC offset.")
    position = EventPositionSerializer(required=False)
    driver = serializers.DictField(required=False)
    executor = serializers.DictField(required=False)
    deviation = EventDeviationSerializer(required=False)
    images = serializers.ListField(
        child=serializers.CharField(max_length=2000), required=False, max_length=MAX_IMAGES
    )
    eta = EventEtaSerializer(required=False, help_text="The new ETA window (EtaUpdated).")
    routeId = serializers.CharField(
        required=False, max_length=MAX_REFERENCE_LENGTH, help_text="RouteCompleted: the route."
    )
    actual = RouteFiguresSerializer(required=False, help_text="RouteCompleted: what it took.")


class SeedEventSerializer(StrictSerializer):
    """A seed 004 event exactly as a last-mile platform sends it."""

    id = serializers.CharField(max_length=MAX_ID_LENGTH)
    type = serializers.ChoiceField(choices=CARRIER_EVENT_TYPES)
    version = serializers.RegexField(r"^\d{1,3}\.\d{1,3}$")
    liveMode = serializers.BooleanField(required=False)
    dateTime = _time(required=False)
    data = serializers.DictField(help_text="The event's data, as in seed 004.")


class CarrierEventBatchSerializer(StrictSerializer):
    events = serializers.ListField(
        child=serializers.DictField(), min_length=1, max_length=MAX_BATCH
    )


class EventResultSerializer(serializers.Serializer):
    index = serializers.IntegerField(required=False)
    id = serializers.CharField(allow_null=True)
    type = serializers.CharField(allow_null=True)
    status = serializers.IntegerField(help_text="201 new, 200 a repeat, 4xx refused.")
    outcome = serializers.ChoiceField(
        choices=["applied", "recorded", "duplicate", "refused", "error"]
    )
    trackingEventId = serializers.UUIDField(allow_null=True)
    orderId = serializers.UUIDField(allow_null=True)
    error = serializers.DictField(allow_null=True)


class BatchResultSerializer(serializers.Serializer):
    received = serializers.IntegerField()
    applied = serializers.IntegerField()
    recorded = serializers.IntegerField()
    duplicate = serializers.IntegerField()
    failed = serializers.IntegerField()
    results = EventResultSerializer(many=True)
