from django.urls import path

from carriers.api import views

urlpatterns = [
    path("orders/<uuid:order_id>/plan", views.OrderPlanView.as_view(), name="order-plan"),
    path("orders/<uuid:order_id>/quotes", views.OrderQuotesView.as_view(), name="order-quotes"),
    path("carrier/orders", views.CarrierManifestView.as_view(), name="carrier-manifest"),
]
