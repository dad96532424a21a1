"""What the finance endpoints take (strict: unknown fields, wrong types and bad values are 400s
naming the field) and what they answer, field for field, for the OpenAPI document."""

from __future__ import annotations

from decimal import Decimal

from django.core.validators import RegexValidator
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from carriers.api.serializers import CarrierReferenceSerializer, OrderReferenceSerializer
from config.api.fields import StrictCharField, StrictSerializer, _Bounded
from finance.audit import LineSpec
from finance.models import (
    CostAdditionReason,
    CostAdditionStatus,
    Finding,
    InvoiceStatus,
    LineKind,
)
from finance.services import MAX_INVOICE_LINES, Adjustment, CostAdditionSpec, InvoiceSpec
from orders.api.serializers import MoneySerializer, OrderCostSerializer, ReferenceField

AMOUNT = {"max_digits": 12, "decimal_places": 2}
# A day of the accepted years, as a pattern alone: a generator reaches it directly, where
# ``format: date`` filtered by the years' pattern is met by one string in forty.
DAY_PATTERN = r"^(?:19[7-9]\d|2[01]\d\d|2200)-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])$"


@extend_schema_field(
    {"type": "string", "pattern": DAY_PATTERN, "description": "A calendar day, YYYY-MM-DD."}
)
class DayField(_Bounded, serializers.DateField):
    """A date between ``ACCEPTED_DATES``'s ends, read as ISO 8601 (YYYY-MM-DD)."""


CURRENCY_CODE = RegexValidator(r"^[A-Z]{3}$", "An ISO 4217 code in capitals, e.g. DKK.")


def _currency(**kwargs) -> StrictCharField:
    return StrictCharField(
        min_length=3, max_length=3, validators=[CURRENCY_CODE], help_text="ISO 4217.", **kwargs
    )


def _text(max_length: int, **kwargs) -> StrictCharField:
    return StrictCharField(max_length=max_length, **kwargs)


# --- what carriers send -------------------------------------------------------------------------


class CostAdditionRequestSerializer(StrictSerializer):
    reference = ReferenceField(max_length=100, help_text="Yours; sending it again is idempotent.")
    orderId = ReferenceField(  # noqa: N815
        max_length=100,
        required=False,
        help_text="The order: Waybill's id or the shipper's creatorOrderId. Or give routeId.",
    )
    routeId = ReferenceField(  # noqa: N815
        max_length=100, required=False, help_text="A route you drive: its id or slug."
    )
    amount = serializers.DecimalField(**AMOUNT, min_value=Decimal("0.01"))
    currency = _currency()
    reasonCode = serializers.ChoiceField(choices=CostAdditionReason.choices)  # noqa: N815
    reason = _text(500, required=False, allow_blank=True, default="")

    def validate(self, attrs):
        if ("orderId" in attrs) == ("routeId" in attrs):
            raise serializers.ValidationError(
                {"orderId": ["Give orderId or routeId, one of them."]}
            )
        return attrs

    def spec(self) -> CostAdditionSpec:
        data = self.validated_data
        return CostAdditionSpec(
            reference=data["reference"],
            amount=data["amount"],
            currency=data["currency"],
            reason_code=data["reasonCode"],
            reason_text=data["reason"].strip(),
            order_reference=data.get("orderId", ""),
            route_reference=data.get("routeId", ""),
        )


class PeriodSerializer(StrictSerializer):
    def get_fields(self):
        return {"from": DayField(), "to": DayField()}


class InvoiceLineInSerializer(StrictSerializer):
    kind = serializers.ChoiceField(choices=LineKind.choices)
    reference = ReferenceField(
        max_length=100,
        help_text="An order (id or creatorOrderId), a route (id or slug) or one of your cost "
        "additions (id or reference).",
    )
    amount = serializers.DecimalField(**AMOUNT, min_value=Decimal("0"))
    description = _text(500, required=False, allow_blank=True, default="")


class InvoiceInSerializer(StrictSerializer):
    number = ReferenceField(max_length=100, help_text="Yours; sending it again is idempotent.")
    issueDate = DayField()  # noqa: N815
    period = PeriodSerializer()
    currency = _currency()
    lines = InvoiceLineInSerializer(many=True, min_length=1, max_length=MAX_INVOICE_LINES)

    def spec(self) -> InvoiceSpec:
        data = self.validated_data
        return InvoiceSpec(
            number=data["number"],
            issue_date=data["issueDate"],
            period_from=data["period"]["from"],
            period_to=data["period"]["to"],
            currency=data["currency"],
            lines=[
                LineSpec(
                    kind=line["kind"],
                    reference=line["reference"],
                    amount=line["amount"],
                    description=line["description"].strip(),
                )
                for line in data["lines"]
            ],
        )


# --- what finance sends -------------------------------------------------------------------------


class CostAdditionApproveSerializer(StrictSerializer):
    amount = serializers.DecimalField(
        **AMOUNT,
        min_value=Decimal("0.01"),
        required=False,
        help_text="Less than asked, if so; at most the amount asked.",
    )
    note = _text(500, required=False, allow_blank=True, default="")


class ReasonSerializer(StrictSerializer):
    reason = _text(500, help_text="Required; the carrier reads it.")


class AdjustmentSerializer(StrictSerializer):
    position = serializers.IntegerField(min_value=1, max_value=MAX_INVOICE_LINES)
    amount = serializers.DecimalField(**AMOUNT, min_value=Decimal("0"))
    reason = _text(500)


class InvoiceApproveSerializer(StrictSerializer):
    lines = AdjustmentSerializer(
        many=True,
        required=False,
        max_length=MAX_INVOICE_LINES,
        help_text="Lines approved at another amount than invoiced, each with its reason.",
    )

    def adjustments(self) -> dict[int, Adjustment]:
        return {
            line["position"]: Adjustment(line["amount"], line["reason"])
            for line in self.validated_data.get("lines", [])
        }


class InvoiceDisputeSerializer(ReasonSerializer):
    lines = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_INVOICE_LINES),
        required=False,
        max_length=MAX_INVOICE_LINES,
        help_text="The positions of the lines disputed; all when left out.",
    )


# --- what the endpoints answer ------------------------------------------------------------------


class RouteBlockSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    slug = serializers.CharField()


class EvidenceSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    contentType = serializers.CharField()  # noqa: N815
    width = serializers.IntegerField()
    height = serializers.IntegerField()
    size = serializers.IntegerField()


class CostAdditionSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    reference = serializers.CharField()
    carrier = CarrierReferenceSerializer()
    order = OrderReferenceSerializer(allow_null=True)
    route = RouteBlockSerializer(allow_null=True)
    amount = MoneySerializer(help_text="As asked.")
    reasonCode = serializers.ChoiceField(choices=CostAdditionReason.choices)  # noqa: N815
    reason = serializers.CharField(allow_blank=True)
    status = serializers.ChoiceField(choices=CostAdditionStatus.choices)
    approvedAmount = MoneySerializer(allow_null=True)  # noqa: N815
    decisionNote = serializers.CharField(  # noqa: N815
        allow_blank=True, help_text="Why it was rejected, or finance's note on approval."
    )
    decidedAt = serializers.DateTimeField(allow_null=True)  # noqa: N815
    decidedBy = serializers.CharField(allow_blank=True)  # noqa: N815
    requestedAt = serializers.DateTimeField()  # noqa: N815
    evidence = EvidenceSerializer(many=True)
    orderCost = OrderCostSerializer(  # noqa: N815
        required=False, allow_null=True, help_text="The order's cost now (orders only)."
    )


class InvoiceLineSerializer(serializers.Serializer):
    position = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=LineKind.choices)
    reference = serializers.CharField()
    description = serializers.CharField(allow_blank=True)
    order = OrderReferenceSerializer(allow_null=True)
    route = RouteBlockSerializer(allow_null=True)
    costAdditionId = serializers.UUIDField(allow_null=True)  # noqa: N815
    invoiced = MoneySerializer()
    approved = MoneySerializer(allow_null=True)
    adjustmentReason = serializers.CharField(allow_blank=True)  # noqa: N815
    disputed = serializers.BooleanField()
    expected = MoneySerializer(
        required=False, allow_null=True, help_text="Not shown to the carrier."
    )
    finding = serializers.ChoiceField(
        choices=Finding.choices, required=False, help_text="Not shown to the carrier."
    )


class DisputeSerializer(serializers.Serializer):
    reason = serializers.CharField()
    at = serializers.DateTimeField()
    by = serializers.CharField()


class InvoiceTotalsSerializer(serializers.Serializer):
    invoiced = MoneySerializer()
    approved = MoneySerializer(allow_null=True)


class InvoiceSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    number = serializers.CharField()
    carrier = CarrierReferenceSerializer()
    issueDate = serializers.DateField()  # noqa: N815
    period = PeriodSerializer()
    currency = serializers.CharField()
    status = serializers.ChoiceField(choices=InvoiceStatus.choices)
    receivedAt = serializers.DateTimeField()  # noqa: N815
    decidedAt = serializers.DateTimeField(allow_null=True)  # noqa: N815
    decidedBy = serializers.CharField(allow_blank=True)  # noqa: N815
    dispute = DisputeSerializer(allow_null=True)
    totals = InvoiceTotalsSerializer()
    lines = InvoiceLineSerializer(many=True)
