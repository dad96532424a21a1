from django.urls import path

from webhooks.api import views

urlpatterns = [
    path("events", views.EventListView.as_view(), name="event-list"),
    path("events/<uuid:event_id>", views.EventDetailView.as_view(), name="event-detail"),
    path("webhooks/event-types", views.EventTypesView.as_view(), name="webhook-event-types"),
    path(
        "webhooks/subscriptions",
        views.SubscriptionListView.as_view(),
        name="webhook-subscription-list",
    ),
    path(
        "webhooks/subscriptions/<uuid:subscription_id>",
        views.SubscriptionDetailView.as_view(),
        name="webhook-subscription-detail",
    ),
    path(
        "webhooks/subscriptions/<uuid:subscription_id>/rotate-secret",
        views.SubscriptionRotateSecretView.as_view(),
        name="webhook-subscription-rotate-secret",
    ),
    path(
        "webhooks/subscriptions/<uuid:subscription_id>/test",
        views.SubscriptionTestView.as_view(),
        name="webhook-subscription-test",
    ),
    path(
        "webhooks/subscriptions/<uuid:subscription_id>/replay",
        views.SubscriptionReplayView.as_view(),
        name="webhook-subscription-replay",
    ),
    path("webhooks/deliveries", views.DeliveryListView.as_view(), name="webhook-delivery-list"),
    path(
        "webhooks/deliveries/<uuid:delivery_id>",
        views.DeliveryDetailView.as_view(),
        name="webhook-delivery-detail",
    ),
    path(
        "webhooks/deliveries/<uuid:delivery_id>/replay",
        views.DeliveryReplayView.as_view(),
        name="webhook-delivery-replay",
    ),
]
