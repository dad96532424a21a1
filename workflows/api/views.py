from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.response import Response

from accounts.api.idempotency import idempotent
from config.api.pagination import CreatedCursorPagination
from config.api.schema import ERROR_RESPONSES
from config.api.views import ShipperView
from webhooks.api.views import EventDetailView, EventListView
from workflows import orchestration, selectors
from workflows.api.serializers import (
    AsyncEventAcceptedSerializer,
    AsyncEventSerializer,
    OrderEventDocumentSerializer,
    OrderEventResultSerializer,
    OrderEventSerializer,
)
from workflows.documents import order_event_document
from workflows.models import OrderEvent
from workflows.services import OrderEventSpec, order_event_upsert

SEED_EXAMPLE = OpenApiExample(
    "Seed 002's example",
    request_only=True,
    value={
        "id": "492a93255ab449008e42200a23a81522",
        "order_id": "113bd4e26ab14d049c931a30eaf7b8c4",
        "event_type": "delivered",
        "event_reference": "abc",
        "event_date": "2020-03-26T16:00:00Z",
        "message": "",
        "order_event_lines": [
            {"order_line_id": "abc123", "quantity": 5, "row_total": 6.00, "product_price": 3.00}
        ],
        "custom_fields": {"tracking_reference": "aaaa-bbbb-cccc"},
    },
)


UPSERT_RESPONSES = {
    200: OrderEventResultSerializer,
    201: OrderEventResultSerializer,
    **ERROR_RESPONSES,
}


class _SeedAnswers:
    # Seed 002 answers failures with the HTTP status, a message and the error, besides
    # Waybill's own error fields (``detail``, ``errors`` naming each field).
    def handle_exception(self, exc):
        response = super().handle_exception(exc)
        if response.status_code >= 400 and isinstance(response.data, dict):
            detail = str(response.data.get("detail", ""))
            response.data = {
                "status": response.status_code,
                "message": "The order event was not saved.",
                "error": detail,
                **response.data,
            }
        return response


class _OrderEventUpsert(_SeedAnswers, ShipperView):
    def upsert(self, request) -> Response:
        serializer = OrderEventSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        spec = OrderEventSpec(
            id=data.get("id"),
            event_reference=data["event_reference"],
            order_id=data["order_id"],
            event_type=data["event_type"],
            event_date=data["event_date"],
            message=data.get("message", ""),
            lines=data.get("order_event_lines"),
            custom_fields=data.get("custom_fields"),
        )
        event, created = order_event_upsert(tenant=self.tenant, spec=spec)
        code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        message = "Order event created." if created else "Order event updated."
        return Response({"id": str(event.id), "status": code, "message": message}, status=code)


class OrderEventListCreateView(_OrderEventUpsert):
    pagination_class = CreatedCursorPagination
    queryset = OrderEvent.objects.none()  # for the schema; reads go through the selectors

    @extend_schema(
        operation_id="order_events_upsert",
        tags=["order events"],
        summary="Create or update an order event (seed 002 CreateOrderEvent)",
        request=OrderEventSerializer,
        examples=[SEED_EXAMPLE],
        responses=UPSERT_RESPONSES,
        description=(
            "Registers an event against one of your orders (by Waybill id or creatorOrderId), "
            "for workflows such as notifications. With `id` it updates that event (an id not "
            "known yet creates it under that id); without, the order's event with this "
            "`event_reference`. It never moves the order's status by itself. Answers "
            "`{id, status, message}`; a failure adds `error` and names the fields in `errors`. "
            "Also at `POST /api/v1/CreateOrderEvent`, seed 002's own path."
        ),
    )
    @idempotent
    def post(self, request):
        return self.upsert(request)

    @extend_schema(
        operation_id="order_events_list",
        tags=["order events"],
        summary="Your order events, newest first",
        parameters=[
            OpenApiParameter("order_id", str, description="Waybill's order id or creatorOrderId.")
        ],
        responses={200: OrderEventDocumentSerializer(many=True), **ERROR_RESPONSES},
    )
    def get(self, request):
        events = selectors.order_events(tenant=self.tenant)
        order_id = request.query_params.get("order_id")
        if order_id is not None:
            order = selectors.order_of_tenant(tenant=self.tenant, order_id=order_id.strip()[:100])
            events = events.filter(order=order)
        page = self.paginate_queryset(events)
        return self.get_paginated_response([order_event_document(e) for e in page])


class CreateOrderEventView(_OrderEventUpsert):
    # Seed 002's own path, so its example request works as written apart from the host; the
    # published document lists the operation once, under /order-events.

    @extend_schema(exclude=True)
    @idempotent
    def post(self, request):
        return self.upsert(request)


class OrderEventDetailView(_SeedAnswers, ShipperView):
    @extend_schema(
        operation_id="order_events_retrieve",
        tags=["order events"],
        responses={200: OrderEventDocumentSerializer, **ERROR_RESPONSES},
    )
    def get(self, request, order_event_id):
        event = selectors.order_event_get(tenant=self.tenant, event_id=order_event_id)
        return Response(order_event_document(event))


class AsyncEventView(ShipperView):
    @extend_schema(
        operation_id="event_async_create",
        tags=["events"],
        summary="Create an event that triggers a workflow (seed 003's /event/async)",
        request=AsyncEventSerializer,
        responses={202: AsyncEventAcceptedSerializer, **ERROR_RESPONSES},
        description=(
            "Stored as an `ORCHESTRATION` event and answered 202 at once; a worker runs the "
            "workflow its `name` names and records what it did as `ORCHESTRATION_AUDIT` "
            "events on the same entities (read them with `GET /event?category=…`). Built-in "
            "names: " + ", ".join(sorted(orchestration.BUILT_INS)) + "; any other name is "
            'accepted and audited as "No workflow matched".'
        ),
    )
    @idempotent
    def post(self, request):
        serializer = AsyncEventSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        spec = orchestration.AsyncEventSpec(
            name=data["name"],
            entity_type=data.get("entityType", ""),
            entity_id=data.get("entityId", ""),
            entity_ref=data.get("entityRef", ""),
            root_entity_type=data.get("rootEntityType", ""),
            root_entity_id=data.get("rootEntityId", ""),
            root_entity_ref=data.get("rootEntityRef", ""),
            attributes=data.get("attributes") or {},
        )
        event = orchestration.async_event_accept(tenant=self.tenant, spec=spec)
        body = {"id": str(event.id), "name": event.type, "type": event.category}
        return Response({**body, "status": "PENDING"}, status=status.HTTP_202_ACCEPTED)


class SeedEventListView(EventListView):
    # Seed 003's path for GET /events: the same view, published once.
    @extend_schema(exclude=True)
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class SeedEventDetailView(EventDetailView):
    # Seed 003's path for GET /events/{id}: the same view, published once.
    @extend_schema(exclude=True)
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)
