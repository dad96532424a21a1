from django.contrib import admin
from django.urls import include, path, re_path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from config.api.errors import json_not_found
from config.health import healthz
from tracking.api.pod_views import pod_image_serve
from tracking.pages import tracking_page

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="api-redoc"),
    path("api/v1/", include("orders.api.urls")),
    path("api/v1/", include("webhooks.api.urls")),
    path("api/v1/", include("carriers.api.urls")),
    path("api/v1/", include("routing.api.urls")),
    path("api/v1/", include("tracking.api.urls")),
    path("api/v1/", include("tracking.api.pod_urls")),
    path("api/v1/", include("finance.api.urls")),
    path("api/v1/", include("workflows.api.urls")),
    # The receiver's tracking page and the signed POD image links: the token is the grant.
    path("t/<str:token>", tracking_page, name="tracking-page"),
    path("pod/images/<str:token>", pod_image_serve, name="pod-image"),
    # Last: whatever else is under /api/ answers the API's JSON 404, never Django's HTML page.
    re_path(r"^api/", json_not_found),
]
