"""Every admin action and every extra admin page asks for a permission of its own.

The walk over ``admin.site`` is the lock: an action added without ``permissions=[…]``, or
one the policy below does not name, fails here before anyone can run it unasked.
"""

import datetime
import uuid
from decimal import Decimal

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth import get_permission_codename
from django.contrib.auth.models import Group, Permission, User
from django.contrib.contenttypes.models import ContentType
from django.contrib.sessions.models import Session
from django.test import RequestFactory
from django.urls import reverse

from accounts.models import ApiKey
from carriers.models import Plan
from carriers.services import orders_plan
from finance.models import CostAddition, CostAdditionReason, Invoice
from orders import pos
from orders.models import Order, OrderStatus, PosIntegration
from routing import services as routing_services
from routing.models import Depot, Gate, Route, VehicleGroup
from tests.carriers.conftest import plannable_payload
from tests.factories import CarrierFactory, ServiceFactory, order_payload
from webhooks import services as webhook_services

pytestmark = pytest.mark.django_db

# The policy: the one permission each action needs. Keys are issued and revoked by neither
# staff group; a dispatcher never approves money; finance never changes plans or orders.
ACTION_PERMISSIONS = {
    ("accounts.shipper", "issue_test_key"): "accounts.add_apikey",
    ("accounts.shipper", "issue_live_key"): "accounts.add_apikey",
    ("accounts.apikey", "revoke"): "accounts.change_apikey",
    ("orders.order", "cancel_orders"): "orders.cancel_order",
    ("orders.posfetch", "retry_now"): "orders.change_posfetch",
    ("carriers.unplannedorder", "plan_again"): "carriers.change_unplannedorder",
    ("routing.optimizationjob", "approve"): "routing.approve_optimizationjob",
    ("routing.optimizationjob", "cancel"): "routing.change_optimizationjob",
    ("routing.optimizationjob", "run_again"): "routing.change_optimizationjob",
    ("routing.route", "cancel_routes"): "routing.cancel_route",
    ("webhooks.subscription", "replay_failed_last_week"): "webhooks.replay_delivery",
    ("webhooks.subscription", "rotate_secret"): "webhooks.change_subscription",
    ("webhooks.subscription", "switch_on"): "webhooks.change_subscription",
    ("webhooks.delivery", "replay"): "webhooks.replay_delivery",
    ("finance.costaddition", "approve_as_asked"): "finance.approve_costaddition",
    ("finance.costaddition", "reject_with_reason"): "finance.reject_costaddition",
    ("finance.invoice", "export_csv"): "finance.export_invoice",
}
# Money: finance's alone, never a dispatcher's.
MONEY_PERMISSIONS = {
    "finance.approve_costaddition",
    "finance.reject_costaddition",
    "finance.approve_invoice",
    "finance.dispute_invoice",
    "finance.export_invoice",
}

# Admin pages beyond the standard ones, by URL name, and the permissions that each open it.
EXTRA_VIEW_PERMISSIONS = {
    "carriers_plan_override": ("carriers.override_plan",),
    # The quote tool books nothing: whoever may see services (change implies view) may quote.
    "carriers_service_quote": ("carriers.view_service", "carriers.change_service"),
    # Finance's pages: each decision checks its own permission again when it is posted.
    "finance_costaddition_decide": ("finance.approve_costaddition", "finance.reject_costaddition"),
    "finance_invoice_decide": ("finance.approve_invoice", "finance.dispute_invoice"),
    "finance_invoice_export": ("finance.export_invoice",),
    "finance_invoice_totals": ("finance.view_invoice", "finance.change_invoice"),
    # A template's preview sends nothing: whoever may see templates may preview them.
    "notifications_notificationtemplate_preview": (
        "notifications.view_notificationtemplate",
        "notifications.change_notificationtemplate",
    ),
}
# Extra pages about one object, by its id.
PAGES_OF_AN_OBJECT = {
    "finance_costaddition_decide",
    "finance_invoice_decide",
    "finance_invoice_export",
    "notifications_notificationtemplate_preview",
}
STANDARD_VIEWS = ("changelist", "add", "history", "delete", "change")
ROUTE_FIGURES = (
    "stops_count",
    "first_stop_task_time",
    "duration",
    "distance_km",
    "driving_duration",
    "waiting_time",
    "task_time",
    "break_time",
    "weight",
    "volume",
)


def _superuser_request():
    request = RequestFactory().get("/admin/")
    # Unsaved: an active superuser's checks never reach the database, so this runs at import.
    request.user = User(username="probe", is_active=True, is_staff=True, is_superuser=True)
    return request


def _every_action() -> list[tuple[str, str]]:
    request = _superuser_request()
    found = []
    for model, model_admin in admin.site._registry.items():
        for name in model_admin.get_actions(request):
            # Django's own delete action already asks for the delete permission.
            if name != "delete_selected":
                found.append((model._meta.label_lower, name))
    return sorted(found)


def _extra_views() -> list[str]:
    names = []
    for model_admin in admin.site._registry.values():
        for pattern in model_admin.get_urls():
            name = pattern.name or ""
            if name and not name.endswith(tuple(f"_{view}" for view in STANDARD_VIEWS)):
                names.append(name)
    return sorted(names)


ACTIONS = _every_action()


def _model_admin(label: str):
    return admin.site._registry[apps.get_model(label)]


def _permission(dotted: str) -> Permission:
    app_label, codename = dotted.split(".")
    return Permission.objects.get(content_type__app_label=app_label, codename=codename)


def _view_permission(label: str) -> Permission:
    model = apps.get_model(label)
    content_type = ContentType.objects.get_for_model(model, for_concrete_model=False)
    codename = get_permission_codename("view", model._meta)
    return Permission.objects.get(content_type=content_type, codename=codename)


def _staff(client, permissions, *, groups=()) -> User:
    user = User.objects.create_user("staff", password="pw", is_staff=True)
    user.user_permissions.set(permissions)
    user.groups.set(Group.objects.filter(name__in=groups))
    client.force_login(user)
    return User.objects.get(id=user.id)  # fresh: no permission cache


def _database() -> dict:
    """Every row of every table but sessions, to prove a refused action changed nothing."""
    return {
        model._meta.label: list(model._base_manager.order_by("pk").values_list())
        for model in apps.get_models()
        if not model._meta.proxy and model is not Session
    }


@pytest.fixture
def rows(shipper_a, client_a):
    """One row for every admin that has actions, each in a state its actions would change."""
    webhook_services.subscription_create(
        shipper=shipper_a, live_mode=False, url="http://127.0.0.1:9/hooks", event_types=["*"]
    )
    created = client_a.post("/api/v1/orders", order_payload(), format="json")
    assert created.status_code == 201, created.json()
    unplanned = client_a.post("/api/v1/orders", order_payload(), format="json").json()
    orders_plan(order_ids=[unplanned["id"]])  # no carrier service at all: unplanned
    assert Order.objects.get(id=unplanned["id"]).status == OrderStatus.UNPLANNED
    PosIntegration.objects.create(shipper=shipper_a, live_mode=False, base_url="http://127.0.0.1:9")
    pos.pos_event_accept(
        shipper=shipper_a, live_mode=False, event_type="OrderUpdated", entity_id="X-1"
    )
    depot = Depot.objects.create(name="Glostrup hub", latitude=55.66, longitude=12.40)
    vans = VehicleGroup.objects.create(name="Van", depot=depot, vehicle_type="van", vehicles=1)
    gate = Gate.objects.create(
        name="Gate 1", depot=depot, slots=[{"start": "07:00", "end": "08:00", "departures": 1}]
    )
    job = routing_services.job_create(
        name="Monday",
        day=datetime.date(2030, 6, 3),
        live_mode=False,
        vehicle_groups=[vans],
        gates=[gate],
        actor="test",
    )
    start = datetime.datetime(2030, 6, 3, 7, tzinfo=datetime.UTC)
    Route.objects.create(
        job=job,
        slug="M1-01",
        vehicle_group=vans,
        gate=gate,
        start_time=start,
        end_time=start,
        **dict.fromkeys(ROUTE_FIGURES, 0),
    )
    carrier = CarrierFactory()
    CostAddition.objects.create(
        carrier=carrier,
        live_mode=False,
        reference="CA-1",
        order_id=created.json()["id"],
        amount=Decimal("45.00"),
        currency="DKK",
        reason_code=CostAdditionReason.WAITING_TIME,
        fingerprint="-",
    )
    Invoice.objects.create(
        carrier=carrier,
        live_mode=False,
        number="INV-1",
        issue_date=datetime.date(2030, 7, 1),
        period_from=datetime.date(2030, 6, 1),
        period_to=datetime.date(2030, 6, 30),
        currency="DKK",
        fingerprint="-",
    )
    return {"unplanned_order_id": unplanned["id"]}


def _offered(client, label: str) -> set[str]:
    """The actions in the changelist's drop-down for the logged-in user."""
    app_label, model_name = label.split(".")
    response = client.get(reverse(f"admin:{app_label}_{model_name}_changelist"))
    assert response.status_code == 200
    action_form = response.context["action_form"]
    return {value for value, _ in action_form.fields["action"].choices} if action_form else set()


def _run(client, label: str, action: str) -> None:
    app_label, model_name = label.split(".")
    model_admin = _model_admin(label)
    row = model_admin.get_queryset(_superuser_request()).first()
    assert row is not None, f"the fixture made no {label} row"
    client.post(
        reverse(f"admin:{app_label}_{model_name}_changelist"),
        {"action": action, "_selected_action": [str(row.pk)], "index": 0},
    )


@pytest.mark.parametrize(("label", "action"), ACTIONS)
def test_it_declares_the_permission_of_every_admin_action(label, action):
    model_admin = _model_admin(label)
    func = model_admin.get_actions(_superuser_request())[action][0]

    needed = getattr(func, "allowed_permissions", ())
    assert needed, f"{label} action {action} declares no permissions=[…]"
    for name in needed:
        assert callable(getattr(model_admin, f"has_{name}_permission", None)), name
    assert (label, action) in ACTION_PERMISSIONS, "add the new action to the policy above"


def test_it_names_no_action_that_is_gone():
    assert set(ACTION_PERMISSIONS) == set(ACTIONS)


@pytest.mark.parametrize("without", ["view_only", "every_other_permission"])
@pytest.mark.parametrize(("label", "action"), ACTIONS)
def test_it_neither_offers_nor_runs_an_action_for_a_user_without_its_permission(
    client, rows, label, action, without
):
    needed = _permission(ACTION_PERMISSIONS[(label, action)])
    view = _view_permission(label)
    everything_else = Permission.objects.exclude(id=needed.id)
    granted = [view] if without == "view_only" else list(everything_else)
    user = _staff(client, granted)
    assert not user.has_perm(ACTION_PERMISSIONS[(label, action)])
    before = _database()

    _run(client, label, action)

    assert _database() == before, "the action ran"
    assert action not in _offered(client, label)


@pytest.mark.parametrize(("label", "action"), ACTIONS)
def test_it_offers_an_action_to_a_user_with_its_permission(client, label, action):
    needed = _permission(ACTION_PERMISSIONS[(label, action)])
    _staff(client, [_view_permission(label), needed])

    assert action in _offered(client, label)


def test_it_refuses_a_live_key_to_finance_who_may_only_view_shippers(client, shipper_a):
    _staff(client, [], groups=["finance"])

    response = client.post(
        "/admin/accounts/shipper/",
        {"action": "issue_live_key", "_selected_action": [str(shipper_a.id)]},
        follow=True,
    )

    assert not ApiKey.objects.filter(shipper=shipper_a).exists()
    assert "wb_live_" not in response.content.decode()
    assert "issue_live_key" not in _offered(client, "accounts.shipper")


def test_it_refuses_to_revoke_a_key_for_a_dispatcher_who_may_only_view_keys(client, client_b):
    _staff(client, [], groups=["dispatcher"])

    client.post(
        "/admin/accounts/apikey/",
        {"action": "revoke", "_selected_action": [str(client_b.api_key.id)]},
    )

    assert ApiKey.objects.get(id=client_b.api_key.id).revoked_at is None
    assert client_b.get("/api/v1/orders").status_code == 200
    assert "revoke" not in _offered(client, "accounts.apikey")


def test_it_keeps_the_staff_groups_to_their_trades():
    def granted(group: str) -> set[str]:
        return {
            f"{p.content_type.app_label}.{p.codename}"
            for p in Group.objects.get(name=group).permissions.select_related("content_type")
        }

    dispatcher, finance = granted("dispatcher"), granted("finance")
    keys = {"accounts.add_apikey", "accounts.change_apikey", "accounts.delete_apikey"}
    assert not keys & (dispatcher | finance)
    assert finance >= MONEY_PERMISSIONS, "finance approves, rejects, disputes and exports"
    assert not MONEY_PERMISSIONS & dispatcher, "a dispatcher never approves money"
    assert not {p for p in dispatcher if p.startswith("finance.")}
    changes = {*ACTION_PERMISSIONS.values(), *EXTRA_VIEW_PERMISSIONS["carriers_plan_override"]}
    changes -= MONEY_PERMISSIONS
    assert not changes & finance, "finance never changes plans, orders, jobs or webhooks"
    # The dispatcher still does the dispatcher's work.
    assert changes - keys <= dispatcher


def test_it_guards_every_extra_admin_page():
    assert set(_extra_views()) == set(EXTRA_VIEW_PERMISSIONS)


@pytest.mark.parametrize("name", sorted(EXTRA_VIEW_PERMISSIONS))
def test_it_answers_403_on_an_extra_admin_page_without_its_permission(client, client_a, name):
    ServiceFactory()
    order = client_a.post("/api/v1/orders", plannable_payload(), format="json").json()
    orders_plan(order_ids=[order["id"]])
    needed = [_permission(dotted).id for dotted in EXTRA_VIEW_PERMISSIONS[name]]
    _staff(client, Permission.objects.exclude(id__in=needed))
    args = [order["id"]] if "override" in name else []
    if name in PAGES_OF_AN_OBJECT:
        args = [uuid.uuid4()]  # the permission is asked before anything is looked up
    url = reverse(f"admin:{name}", args=args)
    plan = Plan.objects.get(order_id=order["id"], is_current=True)

    assert client.get(url).status_code == 403
    posted = client.post(url, {"service": str(plan.service_id), "reason": "Because"})

    assert posted.status_code == 403
    assert Plan.objects.get(order_id=order["id"], is_current=True) == plan


def test_it_offers_the_override_only_to_who_may_override(client, rows):
    order_id = rows["unplanned_order_id"]
    _staff(client, [], groups=["finance"])
    finance_page = client.get(f"/admin/orders/order/{order_id}/change/").content.decode()
    client.logout()
    User.objects.filter(username="staff").delete()
    _staff(client, [], groups=["dispatcher"])
    dispatcher_page = client.get(f"/admin/orders/order/{order_id}/change/").content.decode()
    queue = client.get("/admin/carriers/unplannedorder/").content.decode()

    assert "Override the carrier" not in finance_page
    assert "Override the carrier" in dispatcher_page
    assert "Choose a carrier" in queue
