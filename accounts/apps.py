from django.apps import AppConfig
from django.db.models.signals import post_migrate

# What each staff group may do in the admin; permissions by app label and codename. Every
# admin action and admin page that changes something checks one of these (see README):
# a dispatcher never approves money, finance never changes plans, orders or keys, and
# issuing or revoking API keys belongs to neither group.
STAFF_GROUPS = {
    "dispatcher": {
        "orders": [
            "view_order",
            "change_order",
            "cancel_order",
            "view_orderline",
            "view_collo",
            "view_orderhistory",
            "view_posintegration",
            "change_posintegration",
            "add_posintegration",
            "view_posfetch",
            "change_posfetch",
        ],
        "accounts": ["view_shipper", "view_apikey"],
        "carriers": [
            *(
                f"{action}_{model}"
                for model in ("carrier", "service", "servicearea", "ratecard")
                for action in ("view", "add", "change")
            ),
            "view_plan",
            "override_plan",
            "view_capacityload",
            "view_unplannedorder",
            "change_unplannedorder",
        ],
        "routing": [
            *(
                f"{action}_{model}"
                for model in ("depot", "vehiclegroup", "gate", "optimizationjob")
                for action in ("view", "add", "change")
            ),
            "approve_optimizationjob",
            "view_route",
            "cancel_route",
            "view_stop",
        ],
        "workflows": [
            "view_orderevent",
            *(
                f"{action}_{model}"
                for model in ("workflow", "workflowcondition", "workflowaction")
                for action in ("view", "add", "change", "delete")
            ),
            "view_workflowrun",
        ],
        "notifications": [
            "view_notificationtemplate",
            "change_notificationtemplate",
            "add_notificationtemplate",
            "view_notificationmessage",
            "view_receiveroptout",
            "change_receiveroptout",
            "add_receiveroptout",
        ],
        "webhooks": [
            "view_event",
            "view_subscription",
            "change_subscription",
            "view_delivery",
            "replay_delivery",
            "view_deliveryattempt",
        ],
    },
    "finance": {
        "orders": ["view_order", "view_orderline", "view_collo", "view_orderhistory"],
        "accounts": ["view_shipper"],
        "carriers": ["view_carrier", "view_service", "view_ratecard", "view_plan"],
        "webhooks": ["view_event"],
        # Money: finance's alone. Cost additions and invoices arrive from carriers and change
        # only through these decisions, so finance holds no add, change or delete.
        "finance": [
            "view_costaddition",
            "approve_costaddition",
            "reject_costaddition",
            "view_costadditionevidence",
            "view_invoice",
            "approve_invoice",
            "dispute_invoice",
            "export_invoice",
            "view_invoiceline",
        ],
    },
}


def ensure_staff_groups(**kwargs) -> None:
    from django.contrib.auth.models import Group, Permission

    for name, by_app in STAFF_GROUPS.items():
        group, _ = Group.objects.get_or_create(name=name)
        for app_label, codenames in by_app.items():
            group.permissions.add(
                *Permission.objects.filter(
                    content_type__app_label=app_label, codename__in=codenames
                )
            )


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Shippers, keys and staff"

    def ready(self) -> None:
        post_migrate.connect(ensure_staff_groups, dispatch_uid="waybill-staff-groups")
