"""Finance over the API: carriers send cost additions (with evidence) and invoices and read
their own; shippers read what concerns their orders; finance decides through the staff API.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.authentication import BasicAuthentication, SessionAuthentication
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.idempotency import idempotent
from config.api.errors import InvalidInput
from config.api.fields import StrictSerializer
from config.api.pagination import CreatedCursorPagination
from config.api.schema import ERROR_RESPONSES
from config.api.views import CarrierView, ShipperView
from finance import documents, selectors, services
from finance.api.serializers import (
    CostAdditionApproveSerializer,
    CostAdditionRequestSerializer,
    CostAdditionSerializer,
    InvoiceApproveSerializer,
    InvoiceDisputeSerializer,
    InvoiceInSerializer,
    InvoiceSerializer,
    ReasonSerializer,
)
from finance.models import CostAddition, Invoice

TAGS = ["finance"]


def _validated(serializer_class, data):
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer


class CostAdditionPagination(CreatedCursorPagination):
    ordering = ("-requested_at", "-id")


class InvoicePagination(CreatedCursorPagination):
    ordering = ("-received_at", "-id")


# --- carriers -------------------------------------------------------------------------------


class CarrierCostAdditionsView(CarrierView):
    pagination_class = CostAdditionPagination

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return CostAddition.objects.none()
        return selectors.cost_additions(tenant=self.tenant)

    @extend_schema(
        operation_id="carrier_cost_additions_list",
        tags=TAGS,
        summary="Your cost additions, newest first, with their status",
        description=(
            "`pending` until finance decides; `approved` with the amount approved (the amount "
            "asked, or less), `rejected` with the reason in `decisionNote`."
        ),
        responses={200: CostAdditionSerializer(many=True), **ERROR_RESPONSES},
    )
    def get(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response([documents.cost_addition_document(a) for a in page])

    @extend_schema(
        operation_id="carrier_cost_additions_create",
        tags=TAGS,
        summary="Ask to be paid more for an order or a route you carry",
        description=(
            "An order (`orderId`: Waybill's id or the shipper's creatorOrderId) or a route "
            "(`routeId`: id or slug) you carry, the amount in the order's price currency, a "
            "`reasonCode` (`waiting-time`, `extra-stop`, `failed-delivery-reattempt`, `toll`, "
            "`fuel`, `other`) and your words in `reason`. 201 when new; the same `reference` "
            "again answers 200 with the first one, or 409 when it asked for something else. "
            "Evidence images go to `POST /carrier/cost-additions/{id}/evidence`."
        ),
        request=CostAdditionRequestSerializer,
        responses={
            200: CostAdditionSerializer,
            201: CostAdditionSerializer,
            **ERROR_RESPONSES,
        },
    )
    @idempotent
    def post(self, request):
        spec = _validated(CostAdditionRequestSerializer, request.data).spec()
        addition, created = services.cost_addition_request(
            carrier=self.carrier, live_mode=self.live_mode, spec=spec, actor=self.actor
        )
        addition = selectors.cost_addition_get(tenant=self.tenant, cost_addition_id=addition.id)
        return Response(documents.cost_addition_document(addition), status=201 if created else 200)


class CostAdditionEvidenceUploadSerializer(StrictSerializer):
    # Documents the multipart body (the view reads the parts itself): only ``evidence``.
    evidence = serializers.ListField(child=serializers.ImageField(), min_length=1)


class CarrierCostAdditionEvidenceView(CarrierView):
    parser_classes = [MultiPartParser]

    @extend_schema(
        operation_id="carrier_cost_additions_evidence_create",
        tags=TAGS,
        summary="Add evidence images to a pending cost addition",
        description=(
            "multipart/form-data, `evidence` repeatable: PNG, JPEG or WebP (told from their "
            "bytes), checked as proof-of-delivery images are. 409 once decided."
        ),
        request={"multipart/form-data": CostAdditionEvidenceUploadSerializer},
        responses={201: CostAdditionSerializer, **ERROR_RESPONSES},
    )
    def post(self, request, cost_addition_id):
        # The addition first: a carrier that does not own it learns nothing from the body.
        addition = selectors.cost_addition_get(
            tenant=self.tenant, cost_addition_id=cost_addition_id
        )
        length = int(request.META.get("CONTENT_LENGTH") or 0)
        limit = settings.POD_MAX_IMAGES * settings.POD_IMAGE_MAX_BYTES + 1_000_000
        if length > limit:
            raise InvalidInput.for_field("body", f"The upload is larger than {limit} bytes.")
        unknown = sorted(set(request.data) - {"evidence"})
        if unknown:
            raise InvalidInput.for_field(unknown[0], "Unknown field.", "unknown_field")
        files = request.FILES.getlist("evidence")
        services.cost_addition_evidence_add(
            cost_addition=addition,
            uploads=[(f"evidence[{i}]", file) for i, file in enumerate(files)],
        )
        addition = selectors.cost_addition_get(tenant=self.tenant, cost_addition_id=addition.id)
        return Response(documents.cost_addition_document(addition), status=201)


class CarrierInvoicesView(CarrierView):
    pagination_class = InvoicePagination

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Invoice.objects.none()
        return selectors.carrier_invoices(tenant=self.tenant)

    @extend_schema(
        operation_id="carrier_invoices_list",
        tags=TAGS,
        summary="Your invoices, newest first, with their status",
        description=(
            "`received` (audited, waiting for finance), `disputed` (the reason in `dispute`, "
            "the lines disputed marked) or `approved` (final, each line's approved amount and "
            "any adjustment's reason)."
        ),
        responses={200: InvoiceSerializer(many=True), **ERROR_RESPONSES},
    )
    def get(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(
            [documents.invoice_document(i, audit=False) for i in page]
        )

    @extend_schema(
        operation_id="carrier_invoices_create",
        tags=TAGS,
        summary="Send an invoice",
        description=(
            "Your invoice `number`, `issueDate`, `period`, `currency` and `lines`, each an "
            "order, a route or a cost addition of yours (`kind`, `reference`) with its amount "
            "(excluding tax). Waybill audits every line on arrival; finance approves or "
            "disputes. 201 when new; the same number again answers 200 with the first one, or "
            "409 when its content differs."
        ),
        request=InvoiceInSerializer,
        responses={200: InvoiceSerializer, 201: InvoiceSerializer, **ERROR_RESPONSES},
    )
    @idempotent
    def post(self, request):
        spec = _validated(InvoiceInSerializer, request.data).spec()
        invoice, created = services.invoice_receive(
            carrier=self.carrier, live_mode=self.live_mode, spec=spec, actor=self.actor
        )
        invoice = selectors.carrier_invoices(tenant=self.tenant).get(id=invoice.id)
        return Response(
            documents.invoice_document(invoice, audit=False), status=201 if created else 200
        )


class CarrierInvoiceDetailView(CarrierView):
    @extend_schema(
        operation_id="carrier_invoices_retrieve",
        tags=TAGS,
        summary="One of your invoices",
        responses={200: InvoiceSerializer, **ERROR_RESPONSES},
    )
    def get(self, request, invoice_id):
        invoice = selectors.carrier_invoice_get(tenant=self.tenant, invoice_id=invoice_id)
        return Response(documents.invoice_document(invoice, audit=False))


# --- shippers -------------------------------------------------------------------------------


class CostAdditionListView(ShipperView):
    pagination_class = CostAdditionPagination

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return CostAddition.objects.none()
        return selectors.cost_additions(tenant=self.tenant)

    @extend_schema(
        operation_id="cost_additions_list",
        tags=TAGS,
        summary="Cost additions approved on your orders",
        description=(
            "Each with the carrier, the reason, the amount asked and approved, and the "
            "order's cost now (`orderCost`: the plan's price plus approved additions)."
        ),
        responses={200: CostAdditionSerializer(many=True), **ERROR_RESPONSES},
    )
    def get(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        costs = selectors.order_costs([a.order for a in page])
        return self.get_paginated_response(
            [documents.cost_addition_document(a, cost=costs.get(a.order_id)) for a in page]
        )


class InvoiceListView(ShipperView):
    pagination_class = InvoicePagination

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Invoice.objects.none()
        return selectors.shipper_invoices(tenant=self.tenant)

    @extend_schema(
        operation_id="invoices_list",
        tags=TAGS,
        summary="Approved carrier invoices, your lines only",
        description=(
            "Every approved invoice that charges your orders, with only your lines: invoiced, "
            "expected, approved, the audit's finding and any adjustment's reason."
        ),
        responses={200: InvoiceSerializer(many=True), **ERROR_RESPONSES},
    )
    def get(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(
            [documents.invoice_document(i, lines=i.shipper_lines) for i in page]
        )


# --- finance (staff) ------------------------------------------------------------------------


class HasFinancePermission(BasePermission):
    """Staff holding the view's permission (the ``finance`` group's): a dispatcher is 403."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated and user.is_staff):
            return False
        return user.has_perm(view.required_permission)


class FinanceView(APIView):
    authentication_classes = [SessionAuthentication, BasicAuthentication]
    permission_classes = [HasFinancePermission]
    required_permission = "finance.view_invoice"

    @property
    def actor(self) -> str:
        return f"user:{self.request.user}"


class CostAdditionApproveView(FinanceView):
    required_permission = "finance.approve_costaddition"

    @extend_schema(
        operation_id="finance_cost_additions_approve",
        tags=TAGS,
        summary="Approve a cost addition (finance)",
        description=(
            "At the amount asked, or a lower `amount`. The order's cost grows by it and its "
            "shipper gets `CostAdditionApproved`. A decision is final: 409 after one."
        ),
        request=CostAdditionApproveSerializer,
        responses={200: CostAdditionSerializer, **ERROR_RESPONSES},
    )
    def post(self, request, cost_addition_id):
        addition = selectors.cost_addition_for_staff(cost_addition_id)
        data = _validated(CostAdditionApproveSerializer, request.data).validated_data
        addition = services.cost_addition_approve(
            cost_addition=addition,
            actor=self.actor,
            amount=data.get("amount"),
            note=data["note"].strip(),
        )
        return Response(documents.cost_addition_document(addition))


class CostAdditionRejectView(FinanceView):
    required_permission = "finance.reject_costaddition"

    @extend_schema(
        operation_id="finance_cost_additions_reject",
        tags=TAGS,
        summary="Reject a cost addition (finance)",
        description="The `reason` is required; the carrier reads it. 409 once decided.",
        request=ReasonSerializer,
        responses={200: CostAdditionSerializer, **ERROR_RESPONSES},
    )
    def post(self, request, cost_addition_id):
        addition = selectors.cost_addition_for_staff(cost_addition_id)
        data = _validated(ReasonSerializer, request.data).validated_data
        addition = services.cost_addition_reject(
            cost_addition=addition, actor=self.actor, reason=data["reason"]
        )
        return Response(documents.cost_addition_document(addition))


class InvoiceDetailView(FinanceView):
    required_permission = "finance.view_invoice"

    @extend_schema(
        operation_id="finance_invoices_retrieve",
        tags=TAGS,
        summary="An invoice with the audit's findings per line (finance)",
        responses={200: InvoiceSerializer, **ERROR_RESPONSES},
    )
    def get(self, request, invoice_id):
        return Response(documents.invoice_document(selectors.invoice_for_staff(invoice_id)))


class InvoiceApproveView(FinanceView):
    required_permission = "finance.approve_invoice"

    @extend_schema(
        operation_id="finance_invoices_approve",
        tags=TAGS,
        summary="Approve and finalise an invoice (finance)",
        description=(
            "Every line at its invoiced amount, except those in `lines`: each at its `amount`, "
            "with its `reason`. Final: no change after it (409). Every shipper whose orders it "
            "covers gets `InvoiceApproved` with its own lines."
        ),
        request=InvoiceApproveSerializer,
        responses={200: InvoiceSerializer, **ERROR_RESPONSES},
    )
    def post(self, request, invoice_id):
        invoice = selectors.invoice_for_staff(invoice_id)
        adjustments = _validated(InvoiceApproveSerializer, request.data).adjustments()
        invoice = services.invoice_approve(
            invoice=invoice, actor=self.actor, adjustments=adjustments
        )
        return Response(documents.invoice_document(invoice))


class InvoiceDisputeView(FinanceView):
    required_permission = "finance.dispute_invoice"

    @extend_schema(
        operation_id="finance_invoices_dispute",
        tags=TAGS,
        summary="Dispute an invoice (finance)",
        description=(
            "The `reason` is required; `lines` names the positions disputed (all when left "
            "out). The carrier reads both. 409 once approved or already disputed."
        ),
        request=InvoiceDisputeSerializer,
        responses={200: InvoiceSerializer, **ERROR_RESPONSES},
    )
    def post(self, request, invoice_id):
        invoice = selectors.invoice_for_staff(invoice_id)
        data = _validated(InvoiceDisputeSerializer, request.data).validated_data
        invoice = services.invoice_dispute(
            invoice=invoice, actor=self.actor, reason=data["reason"], positions=data.get("lines")
        )
        return Response(documents.invoice_document(invoice))


class InvoiceExportView(FinanceView):
    required_permission = "finance.export_invoice"

    @extend_schema(
        operation_id="finance_invoices_export",
        tags=TAGS,
        summary="An invoice's detail as CSV (finance)",
        description=(
            "One row per line: invoice, carrier, line, kind, order reference, reference, "
            "currency, expected, invoiced, approved, finding, adjustment reason."
        ),
        responses={
            (200, "text/csv"): OpenApiResponse(description="The lines, with a header row."),
            **ERROR_RESPONSES,
        },
    )
    def get(self, request, invoice_id):
        invoice = selectors.invoice_for_staff(invoice_id)
        response = HttpResponse(documents.invoices_csv([invoice]), content_type="text/csv")
        name = "".join(c if c.isalnum() or c in "-_" else "_" for c in invoice.number)[:60]
        response["Content-Disposition"] = f'attachment; filename="invoice-{name}.csv"'
        return response
