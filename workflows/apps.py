from django.apps import AppConfig


class WorkflowsConfig(AppConfig):
    name = "workflows"
    verbose_name = "Order events and workflows"

    def ready(self) -> None:
        from webhooks.services import events_listener_add
        from workflows.engine import events_appended

        events_listener_add(events_appended)
