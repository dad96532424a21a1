from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework.response import Response

from carriers import documents, selectors
from carriers.api.filters import ManifestFilter
from carriers.api.serializers import (
    ManifestEntrySerializer,
    PlanDocumentSerializer,
    QuoteSerializer,
)
from carriers.models import Plan
from config.api.pagination import CreatedCursorPagination
from config.api.schema import ERROR_RESPONSES
from config.api.views import CarrierView, ShipperView
from finance.selectors import order_cost
from orders.selectors import order_get

PLAN_EXAMPLE = OpenApiExample(
    "A planned order",
    response_only=True,
    value={
        "order": {
            "id": "0b8f7a4e-3a53-4a8e-9d1c-2f9e8f0b9a11",
            "creatorOrderId": "WEB-100234",
            "creatorId": "7c2b1f9e-5d0a-4d6b-8f3e-1a2b3c4d5e6f",
            "relationalId": "SO-88123",
            "tags": ["Outbound"],
        },
        "status": "planned",
        "plan": {
            "id": "5a0d2c9e-6f1b-4e7a-8c3d-9b8a7f6e5d4c",
            "status": "planned",
            "policy": "cheapest",
            "decidedAt": "2026-11-23T09:12:03.120000+00:00",
            "decidedBy": "waybill:planner",
            "overridden": False,
            "carrier": {"id": "…", "name": "Bybud", "slug": "bybud"},
            "service": {"code": "next-day", "name": "Next day"},
            "price": {"amount": "79.38", "currency": "DKK"},
            "priceBreakdown": {"weight": "59.00", "collis": "10.00", "fuel": "10.38"},
            "pickupDay": "2026-11-23",
            "promisedPickup": {
                "from": "2026-11-23T14:00:00+01:00",
                "to": "2026-11-23T18:00:00+01:00",
            },
            "promisedDelivery": {
                "from": "2026-11-24T00:00:00+01:00",
                "to": "2026-11-25T00:00:00+01:00",
            },
            "reason": "Bybud Next day: the lowest price (79.38 DKK) of 3 options; 2 ruled out.",
            "unplannedReasons": [],
        },
        "route": None,
        "stop": None,
        "sharedWith": {"orders": ["WEB-100233"], "otherOrders": 2},
        "optionsConsidered": 5,
        "options": ["… every option, best first, with price and promised windows …"],
        "rejections": [
            {
                "carrier": {"id": "…", "name": "Fjernfragt", "slug": "fjernfragt"},
                "service": {"id": "…", "code": "pallet", "name": "Pallet"},
                "reasons": [{"code": "outside-area", "message": "The delivery …"}],
            }
        ],
        "history": [],
        "cost": {
            "planned": {"amount": "79.38", "currency": "DKK"},
            "additions": {"amount": "45.00", "currency": "DKK"},
            "current": {"amount": "124.38", "currency": "DKK"},
        },
    },
)


class OrderPlanView(ShipperView):
    @extend_schema(
        operation_id="orders_plan_retrieve",
        tags=["plans"],
        summary="How an order was planned",
        description=(
            "The current plan: policy, when and by whom it was decided, carrier and service, "
            "price with its breakdown, promised pickup and delivery windows, every option "
            "considered (best first) and every service ruled out with its reasons, and the "
            "orders collected with it (yours by creatorOrderId, other shippers' only counted). "
            "`status` is `pending` until the planner has run, `unplanned` when no service can "
            "take the order (see `plan.unplannedReasons`). `route` and `stop` are set once the "
            "order is on an approved route."
        ),
        responses={200: PlanDocumentSerializer, **ERROR_RESPONSES},
        examples=[PLAN_EXAMPLE],
    )
    def get(self, request, order_id):
        order = order_get(tenant=self.tenant, order_id=order_id)
        return Response(documents.plan_document(order, cost=order_cost(order)))


class OrderQuotesView(ShipperView):
    @extend_schema(
        operation_id="orders_quotes_retrieve",
        tags=["plans"],
        summary="The options an order has now, booking nothing",
        description=(
            "Every service that could take the order now, priced and ranked by your planning "
            "policy, and every service ruled out with its reasons. Nothing is reserved: the "
            "plan may differ if capacity is taken meanwhile."
        ),
        responses={200: QuoteSerializer, **ERROR_RESPONSES},
    )
    def get(self, request, order_id):
        order = order_get(tenant=self.tenant, order_id=order_id)
        return Response(documents.quote_document(order, selectors.order_quote(order=order)))


class ManifestPagination(CreatedCursorPagination):
    ordering = ("-decided_at", "-id")


class CarrierManifestView(CarrierView):
    filterset_class = ManifestFilter
    pagination_class = ManifestPagination

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Plan.objects.none()
        return selectors.carrier_manifest(tenant=self.tenant)

    @extend_schema(
        operation_id="carrier_orders_list",
        tags=["carriers"],
        summary="The carrier's manifest: orders allocated to it",
        description=(
            "With a carrier key: every order currently planned on one of the carrier's "
            "services, with pickup and delivery (address, position, contact, time frame), "
            "promised windows and collis. Filter by `pickupDay`, `pickupDayFrom`/`pickupDayTo`, "
            "`status` (repeatable) and `service`."
        ),
        responses={200: ManifestEntrySerializer(many=True), **ERROR_RESPONSES},
    )
    def get(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response([documents.manifest_entry(p) for p in page])
