import os

from celery import Celery
from kombu.transport import TRANSPORT_ALIASES

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# The embedded broker (no server): kombu's filesystem transport with atomic writes.
TRANSPORT_ALIASES["waybillfs"] = "config.broker:Transport"

app = Celery("waybill")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
