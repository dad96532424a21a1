"""The shapes of the tracking and POD documents, for the published schema only: the documents
themselves are built in ``tracking.documents``."""

# ruff: noqa: N815
from drf_spectacular.utils import inline_serializer
from rest_framework import serializers

from carriers.api.serializers import CarrierReferenceSerializer, OrderReferenceSerializer


class TrackingPositionSerializer(serializers.Serializer):
    latitude = serializers.FloatField()
    longitude = serializers.FloatField()


class TrackingLastPositionSerializer(TrackingPositionSerializer):
    at = serializers.DateTimeField()


# "from" is a Python keyword: these are declared from a dict.
WindowSerializer = inline_serializer(
    "TrackingWindow",
    fields={
        "from": serializers.DateTimeField(allow_null=True),
        "to": serializers.DateTimeField(allow_null=True),
    },
    allow_null=True,
)
EtaSerializer = inline_serializer(
    "TrackingEta",
    fields={
        "from": serializers.DateTimeField(allow_null=True),
        "to": serializers.DateTimeField(allow_null=True),
        "source": serializers.ChoiceField(
            ["carrier", "route", "promise"],
            help_text="carrier: its last ETA update; route: the delivery stop; promise: the plan.",
        ),
    },
    allow_null=True,
)


class TrackingDeviationSerializer(serializers.Serializer):
    code = serializers.CharField(allow_null=True)
    text = serializers.CharField(allow_null=True)
    images = serializers.ListField(child=serializers.URLField())


class TrackingEventSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    type = serializers.CharField(help_text="The seed 004 event name, or EtaUpdated.")
    timeOfEvent = serializers.DateTimeField()
    colloBarcode = serializers.CharField(allow_null=True)
    position = TrackingPositionSerializer(allow_null=True)
    driver = serializers.DictField(
        allow_null=True, help_text="The driver as the carrier reported them (free-form)."
    )
    executor = serializers.DictField(
        allow_null=True, help_text="The executor as the carrier reported it (free-form)."
    )
    deviation = TrackingDeviationSerializer(allow_null=True)
    images = serializers.ListField(child=serializers.URLField())
    eta = WindowSerializer
    source = serializers.CharField()
    applied = serializers.BooleanField()
    receivedAt = serializers.DateTimeField()


class TrackingPodLinksSerializer(serializers.Serializer):
    url = serializers.CharField()
    pdfUrl = serializers.CharField()


class OrderTrackingSerializer(serializers.Serializer):
    order = OrderReferenceSerializer()
    status = serializers.CharField()
    deliveredAt = serializers.DateTimeField(allow_null=True)
    timeline = TrackingEventSerializer(many=True)
    lastPosition = TrackingLastPositionSerializer(allow_null=True)
    eta = EtaSerializer
    pod = TrackingPodLinksSerializer(allow_null=True)
    trackingUrl = serializers.CharField()


class ColloTrackingSerializer(serializers.Serializer):
    barcode = serializers.CharField()
    colloId = serializers.UUIDField()
    order = OrderReferenceSerializer()
    orderStatus = serializers.CharField()
    timeline = TrackingEventSerializer(many=True)
    lastPosition = TrackingLastPositionSerializer(allow_null=True)


class PodImageSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    kind = serializers.ChoiceField(["signature", "photo", "deviation"])
    contentType = serializers.ChoiceField(["image/png", "image/jpeg", "image/webp"])
    width = serializers.IntegerField()
    height = serializers.IntegerField()
    bytes = serializers.IntegerField()
    url = serializers.CharField(help_text="Signed; works until expiresAt, with no key.")
    expiresAt = serializers.DateTimeField()


class PodSignatureSerializer(serializers.Serializer):
    name = serializers.CharField(allow_null=True)
    signedAt = serializers.DateTimeField(allow_null=True)
    image = PodImageSerializer(allow_null=True)


class PodSerializer(serializers.Serializer):
    order = OrderReferenceSerializer()
    status = serializers.CharField()
    carrier = CarrierReferenceSerializer()
    signature = PodSignatureSerializer()
    photos = PodImageSerializer(many=True)
    deviationImages = PodImageSerializer(many=True)
    pdfUrl = serializers.CharField()
    createdAt = serializers.DateTimeField()
    updatedAt = serializers.DateTimeField()
