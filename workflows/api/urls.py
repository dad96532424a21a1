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
]
