from django.urls import path

from orders.api import views

urlpatterns = [
    path("orders", views.OrderListCreateView.as_view(), name="order-list"),
    path("orders/bulk", views.OrderBulkView.as_view(), name="order-bulk"),
    path("orders/ref/<path:creator_order_id>", views.OrderByRefView.as_view(), name="order-ref"),
    path("orders/<uuid:order_id>", views.OrderDetailView.as_view(), name="order-detail"),
    path("orders/<uuid:order_id>/cancel", views.OrderCancelView.as_view(), name="order-cancel"),
    path("pos/events", views.PosEventView.as_view(), name="pos-events"),
    # Seed 001's own path for the same thing.
    path("epos/events", views.EposEventView.as_view(), name="epos-events"),
]
