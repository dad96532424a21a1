"""The API's tracking endpoints: proofs of delivery and the Go API for shippers."""

from django.urls import path

from tracking.api import pod_views, tracking_views

urlpatterns = [
    path(
        "carrier/orders/<uuid:order_id>/pod",
        pod_views.CarrierPodView.as_view(),
        name="carrier-order-pod",
    ),
    path("orders/<uuid:order_id>/pod", pod_views.OrderPodView.as_view(), name="order-pod"),
    path(
        "orders/<uuid:order_id>/pod.pdf", pod_views.OrderPodPdfView.as_view(), name="order-pod-pdf"
    ),
    path(
        "orders/<uuid:order_id>/tracking",
        tracking_views.OrderTrackingView.as_view(),
        name="order-tracking",
    ),
    path(
        "collis/<str:barcode>/tracking",
        tracking_views.ColloTrackingView.as_view(),
        name="collo-tracking",
    ),
]
