"""What the Plan API and the carrier manifest return, for the OpenAPI document.

The answers are built by ``carriers.selectors``; these serializers describe them field for field
so that integrations can generate clients from `/api/schema/` and a schemathesis run can hold
every answer to it.
"""

from rest_framework import serializers

from accounts.models import PlanningPolicy
from carriers.models import PlanStatus
from orders.api.serializers import (
    ColloSerializer,
    ContactSerializer,
    LocationSerializer,
    MoneySerializer,
    OrderCostSerializer,
    PositionSerializer,
    TimeFrameSerializer,
)
from orders.models import OrderStatus

# A plan document's status: a plan's, or why there is none yet.
PLAN_OUTCOMES = [("pending", "Pending"), ("cancelled", "Cancelled"), *PlanStatus.choices]


class WindowSerializer(serializers.Serializer):
    # "from" is a Python keyword, so the fields cannot be declared as attributes.
    def get_fields(self):
        return {
            "from": serializers.DateTimeField(help_text="With the carrier's UTC offset."),
            "to": serializers.DateTimeField(),
        }


class CarrierReferenceSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    slug = serializers.CharField()


class ServiceNameSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class ServiceReferenceSerializer(ServiceNameSerializer):
    id = serializers.UUIDField()


class ReasonSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()


class OrderReferenceSerializer(serializers.Serializer):
    """The short order block of every plan document and seed 004 event."""

    id = serializers.UUIDField()
    creatorOrderId = serializers.CharField()  # noqa: N815
    creatorId = serializers.UUIDField()  # noqa: N815
    relationalId = serializers.CharField(allow_blank=True)  # noqa: N815
    tags = serializers.ListField(child=serializers.CharField())


class PlanSummarySerializer(serializers.Serializer):
    id = serializers.UUIDField()
    status = serializers.ChoiceField(choices=PlanStatus.choices)
    policy = serializers.ChoiceField(choices=PlanningPolicy.choices)
    decidedAt = serializers.DateTimeField()  # noqa: N815
    decidedBy = serializers.CharField()  # noqa: N815
    overridden = serializers.BooleanField()
    carrier = CarrierReferenceSerializer(allow_null=True)
    service = ServiceNameSerializer(allow_null=True)
    price = MoneySerializer(allow_null=True)
    priceBreakdown = serializers.DictField(  # noqa: N815
        child=serializers.CharField(), allow_null=True, help_text="Amounts by price component."
    )
    pickupDay = serializers.DateField(allow_null=True)  # noqa: N815
    promisedPickup = WindowSerializer(allow_null=True)  # noqa: N815
    promisedDelivery = WindowSerializer(allow_null=True)  # noqa: N815
    reason = serializers.CharField(allow_blank=True)
    unplannedReasons = serializers.ListField(child=serializers.CharField())  # noqa: N815


class OptionSerializer(serializers.Serializer):
    """A service that can take the order, priced, with what it promises."""

    carrier = CarrierReferenceSerializer()
    service = ServiceReferenceSerializer()
    price = MoneySerializer()
    priceBreakdown = serializers.DictField(child=serializers.CharField())  # noqa: N815
    pickupDay = serializers.DateField()  # noqa: N815
    promisedPickup = WindowSerializer()  # noqa: N815
    promisedDelivery = WindowSerializer()  # noqa: N815
    onTimeRate = serializers.FloatField(min_value=0, max_value=1)  # noqa: N815
    score = serializers.FloatField()
    waived = ReasonSerializer(many=True, help_text="Rules this option was let off, and why.")


class RejectionSerializer(serializers.Serializer):
    """A service ruled out, with every reason."""

    carrier = CarrierReferenceSerializer()
    service = ServiceReferenceSerializer()
    reasons = ReasonSerializer(many=True)


class SharedWithSerializer(serializers.Serializer):
    orders = serializers.ListField(
        child=serializers.CharField(), help_text="Your orders collected with it, by creatorOrderId."
    )
    otherOrders = serializers.IntegerField(  # noqa: N815
        min_value=0, help_text="Other shippers' orders collected with it: only counted."
    )


class RouteReferenceSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    slug = serializers.CharField()
    reference = serializers.CharField(allow_blank=True)
    tags = serializers.ListField(child=serializers.CharField())
    executors = serializers.ListField(child=serializers.CharField())


class StopSerializer(serializers.Serializer):
    sequence = serializers.IntegerField(min_value=0)
    kind = serializers.ChoiceField(choices=[("pickup", "Pickup"), ("delivery", "Delivery")])
    order = OrderReferenceSerializer()
    position = PositionSerializer()
    plannedArrival = serializers.DateTimeField()  # noqa: N815
    eta = serializers.DateTimeField()
    timeWindow = WindowSerializer(allow_null=True)  # noqa: N815
    serviceTimeS = serializers.IntegerField(min_value=0)  # noqa: N815


class PlanDocumentSerializer(serializers.Serializer):
    """`GET /orders/{id}/plan`."""

    order = OrderReferenceSerializer()
    status = serializers.ChoiceField(
        choices=PLAN_OUTCOMES,
        help_text="`pending` until the planner has run; `cancelled` for an order cancelled first.",
    )
    plan = PlanSummarySerializer(allow_null=True)
    route = RouteReferenceSerializer(allow_null=True)
    stop = StopSerializer(allow_null=True)
    sharedWith = SharedWithSerializer()  # noqa: N815
    optionsConsidered = serializers.IntegerField(min_value=0)  # noqa: N815
    options = OptionSerializer(many=True, help_text="Best first.")
    rejections = RejectionSerializer(many=True)
    history = PlanSummarySerializer(many=True, help_text="Earlier decisions, newest first.")
    cost = OrderCostSerializer(
        allow_null=True,
        help_text="What the order costs now: the plan's price plus approved cost additions.",
    )


class OfferReferenceSerializer(serializers.Serializer):
    carrier = CarrierReferenceSerializer()
    service = ServiceReferenceSerializer()


class QuoteSerializer(serializers.Serializer):
    """`GET /orders/{id}/quotes`."""

    order = OrderReferenceSerializer()
    policy = serializers.ChoiceField(choices=PlanningPolicy.choices)
    wouldChoose = OfferReferenceSerializer(allow_null=True)  # noqa: N815
    explanation = serializers.CharField()
    options = OptionSerializer(many=True, help_text="Best first.")
    rejections = RejectionSerializer(many=True)
    unplannedReasons = serializers.ListField(child=serializers.CharField())  # noqa: N815


class ManifestOrderSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    creatorOrderId = serializers.CharField()  # noqa: N815
    relationalId = serializers.CharField(allow_blank=True)  # noqa: N815
    tags = serializers.ListField(child=serializers.CharField())
    status = serializers.ChoiceField(choices=OrderStatus.choices)
    notes = serializers.CharField(allow_blank=True)


class ShipperReferenceSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()


class ManifestStopSerializer(serializers.Serializer):
    location = LocationSerializer()
    contact = ContactSerializer(allow_null=True)
    timeFrame = TimeFrameSerializer(allow_null=True)  # noqa: N815


class ManifestEntrySerializer(serializers.Serializer):
    """An order allocated to the carrier, with what a driver needs."""

    order = ManifestOrderSerializer()
    shipper = ShipperReferenceSerializer()
    service = ServiceNameSerializer(allow_null=True)
    pickupDay = serializers.DateField(allow_null=True)  # noqa: N815
    promisedPickup = WindowSerializer(allow_null=True)  # noqa: N815
    promisedDelivery = WindowSerializer(allow_null=True)  # noqa: N815
    price = MoneySerializer(allow_null=True)
    pickup = ManifestStopSerializer()
    delivery = ManifestStopSerializer()
    collis = ColloSerializer(many=True)
    totalWeight = serializers.DecimalField(  # noqa: N815
        max_digits=12, decimal_places=3, help_text="Kilograms."
    )
