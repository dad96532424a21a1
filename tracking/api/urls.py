from django.urls import path

from tracking.api import views

urlpatterns = [
    path("carrier/events", views.CarrierEventsView.as_view(), name="carrier-events"),
]
