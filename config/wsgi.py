import gc
import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()

from config.celery_app import app as celery_app  # noqa: E402 - once Django is set up

# What is loaded now (Django, the apps, every view the URLs name) lives as long as the
# process: frozen out of the garbage collector's scans, which took a fifth of a batch of
# carrier events when they went over it all again.
get_resolver().url_patterns  # noqa: B018 - imports every view module
# The broker's client as well, which the first message would import after the freeze.
celery_app.connection_for_write().get_transport_cls()
gc.freeze()
