from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = "Events and webhooks"

    def ready(self) -> None:
        from webhooks.catalogue import catalogue_check

        # Each app declares its event types and attaches its builders in its events.py.
        autodiscover_modules("events")
        catalogue_check()
