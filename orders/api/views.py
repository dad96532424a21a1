from django.conf import settings
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from accounts.api.idempotency import idempotent
from config.api.errors import InvalidInput, validation_body
from config.api.pagination import CreatedCursorPagination
from config.api.schema import (
    ERROR_RESPONSES,
    LOCATION_OF_NEW,
    REFERENCE_SCHEMA,
    ErrorSerializer,
)
from config.api.text import reference_normalised, reference_problem
from config.api.views import ShipperView
from finance.selectors import order_cost, order_costs
from orders import bulk, pos, selectors, services
from orders.api.examples import (
    BULK_EXAMPLES,
    CANCEL_EXAMPLE,
    CONFLICT,
    ORDER_EXAMPLES,
    ORDER_RESPONSE_EXAMPLE,
    POS_EVENT_EXAMPLES,
    VALIDATION_ERROR,
)
from orders.api.filters import OrderFilter
from orders.api.serializers import (
    OrderBulkSerializer,
    OrderCancelSerializer,
    OrderSerializer,
    OrderUpsertSerializer,
    PosEventSerializer,
    order_spec_from,
)
from orders.documents import order_document
from orders.models import Order

CREATOR_ORDER_ID_IN_PATH = OpenApiParameter(
    "creator_order_id",
    REFERENCE_SCHEMA,
    OpenApiParameter.PATH,
    description="The order's creatorOrderId, percent-encoded.",
)


def _reference_in_path(value: str) -> str:
    """A creatorOrderId from the URL, held to the rules a stored one was held to."""
    problem = reference_problem(value)
    if problem:
        raise InvalidInput.for_field("creatorOrderId", problem, code="invalid_character")
    return reference_normalised(value)


def _with_cost(order) -> dict:
    return order_document(order, cost=order_cost(order))


def _validated(serializer_class, data, **kwargs) -> dict:
    serializer = serializer_class(data=data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class OrderListCreateView(ShipperView):
    serializer_class = OrderSerializer
    filterset_class = OrderFilter
    pagination_class = CreatedCursorPagination

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no tenant
            return Order.objects.none()
        return selectors.order_list(tenant=self.tenant)

    @extend_schema(
        operation_id="orders_list",
        examples=[VALIDATION_ERROR],
        responses={200: OrderSerializer(many=True), **ERROR_RESPONSES},
    )
    def get(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        costs = order_costs(page)
        return self.get_paginated_response([order_document(o, cost=costs[o.id]) for o in page])

    @extend_schema(
        operation_id="orders_create",
        request=OrderSerializer,
        responses={201: OrderSerializer, **ERROR_RESPONSES},
        examples=[*ORDER_EXAMPLES, ORDER_RESPONSE_EXAMPLE, VALIDATION_ERROR, CONFLICT],
        parameters=[
            OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER),
            LOCATION_OF_NEW,
        ],
    )
    @idempotent
    def post(self, request):
        spec = order_spec_from(request.data)
        order = services.order_create(
            shipper=self.shipper, live_mode=self.live_mode, spec=spec, actor=self.actor
        )
        # A new order has no plan yet: planning runs after this commit.
        response = Response(order_document(order, cost=None), status=status.HTTP_201_CREATED)
        response["Location"] = f"/api/v1/orders/{order.id}"
        return response


class OrderDetailView(ShipperView):
    serializer_class = OrderSerializer

    @extend_schema(
        operation_id="orders_retrieve",
        examples=[ORDER_RESPONSE_EXAMPLE],
        responses={200: OrderSerializer, **ERROR_RESPONSES},
    )
    def get(self, request, order_id):
        order = selectors.order_get(tenant=self.tenant, order_id=order_id)
        return Response(_with_cost(order))

    @extend_schema(
        operation_id="orders_partial_update",
        examples=[ORDER_RESPONSE_EXAMPLE, VALIDATION_ERROR],
        request=OrderSerializer,
        responses={200: OrderSerializer, **ERROR_RESPONSES},
        description=(
            "Each top-level key given replaces that part of the order (lines and collis as a "
            "whole). After pickup only pickupContact, deliveryContact and notes may change (409). "
            "The creatorOrderId never changes; send it only as it is."
        ),
    )
    def patch(self, request, order_id):
        order = selectors.order_get(tenant=self.tenant, order_id=order_id)
        spec = _validated(
            OrderSerializer,
            request.data,
            partial=True,
            context={
                "time_zones": {
                    "pickup": order.pickup_time_zone,
                    "delivery": order.delivery_time_zone,
                }
            },
        )
        if "creatorOrderId" in spec and spec["creatorOrderId"] != order.creator_order_id:
            raise InvalidInput.for_field(
                "creatorOrderId", "The creatorOrderId of an order cannot change."
            )
        order = services.order_update(order=order, spec=spec, actor=self.actor)
        return Response(_with_cost(order))


class OrderByRefView(ShipperView):
    serializer_class = OrderSerializer

    @extend_schema(
        operation_id="orders_ref_retrieve",
        parameters=[CREATOR_ORDER_ID_IN_PATH],
        examples=[ORDER_RESPONSE_EXAMPLE],
        responses={200: OrderSerializer, **ERROR_RESPONSES},
    )
    def get(self, request, creator_order_id):
        order = selectors.order_get_by_ref(
            tenant=self.tenant, creator_order_id=_reference_in_path(creator_order_id)
        )
        return Response(_with_cost(order))

    @extend_schema(
        operation_id="orders_ref_upsert",
        request=OrderUpsertSerializer,
        parameters=[CREATOR_ORDER_ID_IN_PATH],
        responses={200: OrderSerializer, 201: OrderSerializer, **ERROR_RESPONSES},
        examples=[*ORDER_EXAMPLES, ORDER_RESPONSE_EXAMPLE, VALIDATION_ERROR],
        description="Create the order with this creatorOrderId (201) or replace it (200).",
    )
    def put(self, request, creator_order_id):
        creator_order_id = _reference_in_path(creator_order_id)
        data = request.data
        if isinstance(data, dict):
            in_body = data.setdefault("creatorOrderId", creator_order_id)
            if isinstance(in_body, str) and reference_normalised(in_body) != creator_order_id:
                raise InvalidInput.for_field(
                    "creatorOrderId", "Must match the creatorOrderId in the URL."
                )
        spec = order_spec_from(data)
        order, created = services.order_upsert(
            shipper=self.shipper, live_mode=self.live_mode, spec=spec, actor=self.actor
        )
        return Response(_with_cost(order), status=201 if created else 200)


class OrderCancelView(ShipperView):
    serializer_class = OrderCancelSerializer

    @extend_schema(
        operation_id="orders_cancel",
        examples=[CANCEL_EXAMPLE, ORDER_RESPONSE_EXAMPLE],
        request=OrderCancelSerializer,
        responses={200: OrderSerializer, **ERROR_RESPONSES},
        description="Cancel until pickup; cancelling a cancelled order changes nothing.",
    )
    @idempotent
    def post(self, request, order_id):
        order = selectors.order_get(tenant=self.tenant, order_id=order_id)
        spec = _validated(OrderCancelSerializer, request.data)
        order = services.order_cancel(order=order, reason=spec["reason"], actor=self.actor)
        return Response(_with_cost(order))


BulkResultSerializer = inline_serializer(
    "OrderBulkResult",
    fields={
        "created": serializers.IntegerField(),
        "updated": serializers.IntegerField(),
        "unchanged": serializers.IntegerField(),
        "failed": serializers.IntegerField(),
        "results": inline_serializer(
            "OrderBulkItem",
            fields={
                "index": serializers.IntegerField(),
                "outcome": serializers.ChoiceField(["created", "updated", "unchanged", "error"]),
                "id": serializers.UUIDField(allow_null=True),
                "creatorOrderId": serializers.CharField(allow_null=True),
                "error": ErrorSerializer(allow_null=True),
            },
            many=True,
        ),
    },
)


class OrderBulkView(ShipperView):
    serializer_class = OrderBulkSerializer
    max_body_bytes = settings.API_MAX_BULK_BODY_BYTES
    json_items_checked_alone = "orders"

    @extend_schema(
        operation_id="orders_bulk_upsert",
        examples=BULK_EXAMPLES,
        request=OrderBulkSerializer,
        responses={200: BulkResultSerializer, **ERROR_RESPONSES},
        description=(
            "Upsert up to 1,000 orders by creatorOrderId. Each item gets its own result; "
            "a bad item does not stop the others."
        ),
    )
    @idempotent
    def post(self, request):
        items = _validated(OrderBulkSerializer, request.data)["orders"]
        specs, failures = [], []
        for index, item in enumerate(items):
            try:
                specs.append((index, order_spec_from(item)))
            except ValidationError as exc:
                failures.append((index, item, exc.detail))
        results = bulk.order_bulk_upsert(
            shipper=self.shipper, live_mode=self.live_mode, specs=specs, actor=self.actor
        )
        rows = [
            {
                "index": r.index,
                "outcome": r.outcome,
                "id": str(r.order.id) if r.order else None,
                "creatorOrderId": r.creator_order_id,
                "error": r.error,
            }
            for r in results
        ]
        rows += [
            {
                "index": index,
                "outcome": "error",
                "id": None,
                "creatorOrderId": item.get("creatorOrderId") if isinstance(item, dict) else None,
                "error": validation_body(errors),
            }
            for index, item, errors in failures
        ]
        rows.sort(key=lambda row: row["index"])
        counts = {
            k: sum(1 for r in rows if r["outcome"] == k)
            for k in ("created", "updated", "unchanged")
        }
        return Response(
            {
                **counts,
                "failed": len(failures) + sum(1 for r in results if r.outcome == "error"),
                "results": rows,
            }
        )


class PosEventView(ShipperView):
    @extend_schema(
        operation_id="pos_events_submit",
        examples=POS_EVENT_EXAMPLES,
        request=PosEventSerializer,
        responses={
            202: inline_serializer(
                "PosEventAccepted",
                fields={"id": serializers.UUIDField(), "status": serializers.CharField()},
            ),
            **ERROR_RESPONSES,
        },
        description=(
            "A thin event from the shipper's POS (seed 001): Waybill fetches the entity from the "
            "configured POS endpoint and applies it. Supported types: "
            + ", ".join(sorted(pos.POS_EVENT_TYPES))
            + "."
        ),
    )
    @idempotent
    def post(self, request):
        spec = _validated(PosEventSerializer, request.data)
        fetch = pos.pos_event_accept(
            shipper=self.shipper,
            live_mode=self.live_mode,
            event_type=spec["eventType"],
            entity_id=spec["entityId"],
        )
        return Response(
            {"id": str(fetch.id), "status": fetch.status}, status=status.HTTP_202_ACCEPTED
        )


class EposEventView(PosEventView):
    # Seed 001's path (POST /epos/events): the same view, published once as /pos/events.
    @extend_schema(exclude=True)
    @idempotent
    def post(self, request):
        return super().post.__wrapped__(self, request)
