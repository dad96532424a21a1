"""Waybill's URLs with the benchmark's bare endpoint in front (``ROOT_URLCONF=bench.urls``).

``bench/bare`` comes first and lies outside ``api/v1/``, whose catch-all would answer 404.
"""

from django.urls import path

from bench.bare import bare_view
from config.urls import urlpatterns as waybill_urlpatterns

urlpatterns = [
    path("bench/bare", bare_view, name="bench-bare"),
    *waybill_urlpatterns,
]
