from django.urls import path

from workflows.api import views

urlpatterns = [
    path("order-events", views.OrderEventListCreateView.as_view(), name="order-event-list"),
    path(
        "order-events/<uuid:order_event_id>",
        views.OrderEventDetailView.as_view(),
        name="order-event-detail",
    ),
    path("CreateOrderEvent", views.CreateOrderEventView.as_view(), name="create-order-event"),
    # Seed 003's Event API paths; /events and /events/{id} are the same reads.
    path("event/async", views.AsyncEventView.as_view(), name="event-async"),
    path("event", views.SeedEventListView.as_view(), name="seed-event-list"),
    path("event/<uuid:event_id>", views.SeedEventDetailView.as_view(), name="seed-event-detail"),
]
