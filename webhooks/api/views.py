from datetime import timedelta

import django_filters
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from accounts.api.idempotency import idempotent
from config.api.fields import BoundedIsoDateTimeFilter, ReferenceFilter
from config.api.pagination import CreatedCursorPagination
from config.api.schema import ACCEPTED_DATE_PATTERN, ERROR_RESPONSES
from config.api.views import ShipperView
from webhooks import selectors, services
from webhooks.api.serializers import (
    DeliveryDetailSerializer,
    DeliverySerializer,
    EventSerializer,
    EventTypesSerializer,
    ReplayQueuedSerializer,
    ReplaySerializer,
    SubscriptionSerializer,
    SubscriptionWithSecretSerializer,
    TestAnswerSerializer,
)
from webhooks.catalogue import CATALOGUE, event_types_document
from webhooks.models import Delivery, DeliveryStatus, Event, EventCategory, Subscription
from webhooks.sending import subscription_send_test

DEFAULT_EVENT_WINDOW = timedelta(days=30)


def _moment(name: str, description: str) -> OpenApiParameter:
    """A `from`/`to` query parameter: added by the filter sets at run time, so named here."""
    return OpenApiParameter(
        name,
        OpenApiTypes.DATETIME,
        description=f"{description} ISO 8601, between 1970 and 2200.",
        pattern=ACCEPTED_DATE_PATTERN,
    )


class EventPagination(CreatedCursorPagination):
    """Newest first by default; ``sort=asc`` reads oldest first."""

    ordering = ("-date_time", "-id")

    def get_ordering(self, request, queryset, view):
        sort = request.query_params.get("sort", "desc")
        if sort not in ("asc", "desc"):
            raise ValidationError({"sort": ["Either asc or desc."]})
        return ("date_time", "id") if sort == "asc" else ("-date_time", "-id")


class EventFilter(django_filters.FilterSet):
    type = django_filters.CharFilter(field_name="type")
    name = django_filters.CharFilter(field_name="type", help_text="The same as type (seed 003).")
    category = django_filters.ChoiceFilter(choices=EventCategory.choices)
    entityType = django_filters.CharFilter(field_name="entity_type")  # noqa: N815
    entityId = django_filters.CharFilter(field_name="entity_id")  # noqa: N815
    entityRef = ReferenceFilter(field_name="entity_ref")  # noqa: N815
    rootEntityType = django_filters.CharFilter(field_name="root_entity_type")  # noqa: N815
    rootEntityId = django_filters.CharFilter(field_name="root_entity_id")  # noqa: N815
    rootEntityRef = ReferenceFilter(field_name="root_entity_ref")  # noqa: N815

    class Meta:
        model = Event
        fields: list[str] = []

    def __init__(self, data=None, *args, **kwargs):
        super().__init__(data, *args, **kwargs)
        self.filters["from"] = BoundedIsoDateTimeFilter(
            field_name="date_time", lookup_expr="gte", help_text="Default: 30 days ago."
        )
        self.filters["to"] = BoundedIsoDateTimeFilter(field_name="date_time", lookup_expr="lt")

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        if not self.form.cleaned_data.get("from"):
            queryset = queryset.filter(date_time__gte=timezone.now() - DEFAULT_EVENT_WINDOW)
        return queryset


class EventListView(ShipperView):
    serializer_class = EventSerializer
    filterset_class = EventFilter
    pagination_class = EventPagination
    extra_query_params = ("sort",)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Event.objects.none()
        return selectors.event_list(tenant=self.tenant)

    @extend_schema(
        operation_id="events_list",
        parameters=[
            _moment("from", "Events at or after; default 30 days ago."),
            _moment("to", "Events before."),
            OpenApiParameter("sort", str, enum=["desc", "asc"], description="Default desc."),
        ],
        responses={200: EventSerializer(many=True), **ERROR_RESPONSES},
    )
    def get(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(EventSerializer(page, many=True).data)


class EventDetailView(ShipperView):
    serializer_class = EventSerializer

    @extend_schema(
        operation_id="events_retrieve", responses={200: EventSerializer, **ERROR_RESPONSES}
    )
    def get(self, request, event_id):
        event = selectors.event_get(tenant=self.tenant, event_id=event_id)
        return Response(EventSerializer(event).data)


class EventTypesView(ShipperView):
    @extend_schema(
        operation_id="webhooks_event_types",
        responses={
            200: EventTypesSerializer,
            **ERROR_RESPONSES,
        },
        description=(
            "Every event type Waybill sends, its versions and a JSON Schema of each version's "
            "envelope: " + ", ".join(sorted(CATALOGUE)) + "."
        ),
    )
    def get(self, request):
        return Response({"eventTypes": event_types_document()})


class SubscriptionListView(ShipperView):
    serializer_class = SubscriptionSerializer
    pagination_class = CreatedCursorPagination

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Subscription.objects.none()
        return selectors.subscription_list(tenant=self.tenant)

    @extend_schema(
        operation_id="webhooks_subscriptions_list",
        responses={200: SubscriptionSerializer(many=True), **ERROR_RESPONSES},
    )
    def get(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(SubscriptionSerializer(page, many=True).data)

    @extend_schema(
        operation_id="webhooks_subscriptions_create",
        request=SubscriptionSerializer,
        responses={201: SubscriptionWithSecretSerializer, **ERROR_RESPONSES},
        description=(
            "Subscribe a URL to event types (`*` for all), pinning versions per type. The "
            "answer carries the signing secret; verify `webhook-signature` with it."
        ),
    )
    @idempotent
    def post(self, request):
        serializer = SubscriptionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        subscription = services.subscription_create(
            shipper=self.shipper,
            live_mode=self.live_mode,
            url=data["url"],
            event_types=data["event_types"],
            versions=data.get("versions", {}),
            description=data.get("description", ""),
        )
        return Response(
            SubscriptionWithSecretSerializer(subscription).data, status=status.HTTP_201_CREATED
        )


class SubscriptionView(ShipperView):
    serializer_class = SubscriptionSerializer

    def _subscription(self, subscription_id):
        return selectors.subscription_get(tenant=self.tenant, subscription_id=subscription_id)


class SubscriptionDetailView(SubscriptionView):
    @extend_schema(
        operation_id="webhooks_subscriptions_retrieve",
        responses={200: SubscriptionSerializer, **ERROR_RESPONSES},
    )
    def get(self, request, subscription_id):
        return Response(SubscriptionSerializer(self._subscription(subscription_id)).data)

    @extend_schema(
        operation_id="webhooks_subscriptions_update",
        responses={200: SubscriptionSerializer, **ERROR_RESPONSES},
    )
    def patch(self, request, subscription_id):
        subscription = self._subscription(subscription_id)
        serializer = SubscriptionSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        subscription = services.subscription_update(
            subscription=subscription, changes=dict(serializer.validated_data)
        )
        return Response(SubscriptionSerializer(subscription).data)

    @extend_schema(
        operation_id="webhooks_subscriptions_delete", responses={204: None, **ERROR_RESPONSES}
    )
    def delete(self, request, subscription_id):
        services.subscription_delete(subscription=self._subscription(subscription_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class SubscriptionRotateSecretView(SubscriptionView):
    @extend_schema(
        operation_id="webhooks_subscriptions_rotate_secret",
        request=None,
        responses={200: SubscriptionWithSecretSerializer, **ERROR_RESPONSES},
        description="A new secret; the old one keeps signing too for 24 hours.",
    )
    @idempotent
    def post(self, request, subscription_id):
        subscription = services.subscription_rotate_secret(
            subscription=self._subscription(subscription_id)
        )
        return Response(SubscriptionWithSecretSerializer(subscription).data)


class SubscriptionTestView(SubscriptionView):
    @extend_schema(
        operation_id="webhooks_subscriptions_test",
        request=None,
        responses={200: TestAnswerSerializer, **ERROR_RESPONSES},
        description="Send a signed WebhookTest event now and return the receiver's answer.",
    )
    def post(self, request, subscription_id):
        outcome = subscription_send_test(subscription=self._subscription(subscription_id))
        return Response(TestAnswerSerializer(outcome).data)


class SubscriptionReplayView(SubscriptionView):
    @extend_schema(
        operation_id="webhooks_subscriptions_replay",
        request=ReplaySerializer,
        responses={
            202: ReplayQueuedSerializer,
            **ERROR_RESPONSES,
        },
        description="Send again every failed or dead delivery created in [from, to).",
    )
    @idempotent
    def post(self, request, subscription_id):
        subscription = self._subscription(subscription_id)
        serializer = ReplaySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        replays = services.subscription_replay_failed(
            subscription=subscription,
            since=serializer.validated_data["from"],
            until=serializer.validated_data["to"],
        )
        return Response(
            {"replayed": len(replays), "deliveryIds": [str(d.id) for d in replays]},
            status=status.HTTP_202_ACCEPTED,
        )


class DeliveryFilter(django_filters.FilterSet):
    subscription = django_filters.UUIDFilter(field_name="subscription_id")
    status = django_filters.MultipleChoiceFilter(choices=DeliveryStatus.choices)
    type = django_filters.CharFilter(field_name="event__type")

    class Meta:
        model = Delivery
        fields: list[str] = []

    def __init__(self, data=None, *args, **kwargs):
        super().__init__(data, *args, **kwargs)
        self.filters["from"] = BoundedIsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
        self.filters["to"] = BoundedIsoDateTimeFilter(field_name="created_at", lookup_expr="lt")


class DeliveryListView(ShipperView):
    serializer_class = DeliverySerializer
    filterset_class = DeliveryFilter
    pagination_class = CreatedCursorPagination

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Delivery.objects.none()
        return selectors.delivery_list(tenant=self.tenant)

    @extend_schema(
        operation_id="webhooks_deliveries_list",
        parameters=[_moment("from", "Created at or after."), _moment("to", "Created before.")],
        responses={200: DeliverySerializer(many=True), **ERROR_RESPONSES},
    )
    def get(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(DeliverySerializer(page, many=True).data)


class DeliveryDetailView(ShipperView):
    serializer_class = DeliveryDetailSerializer

    @extend_schema(
        operation_id="webhooks_deliveries_retrieve",
        responses={200: DeliveryDetailSerializer, **ERROR_RESPONSES},
    )
    def get(self, request, delivery_id):
        delivery = selectors.delivery_get(tenant=self.tenant, delivery_id=delivery_id)
        return Response(DeliveryDetailSerializer(delivery).data)


class DeliveryReplayView(ShipperView):
    @extend_schema(
        operation_id="webhooks_deliveries_replay",
        request=None,
        responses={202: DeliverySerializer, **ERROR_RESPONSES},
        description="Send the delivery's event again (same webhook-id), as a new delivery.",
    )
    @idempotent
    def post(self, request, delivery_id):
        delivery = selectors.delivery_get(tenant=self.tenant, delivery_id=delivery_id)
        replay = services.delivery_replay(delivery=delivery)
        replay.event = delivery.event
        return Response(DeliverySerializer(replay).data, status=status.HTTP_202_ACCEPTED)
