"""Events are declared, not spelled: one name list, builders registered by their apps, builders
that run no query, and a catalogue that imports no app."""

import ast
from pathlib import Path

import pytest
from django.db import transaction

from orders.models import Order
from tests.conftest import BuilderQueried
from tests.factories import order_payload
from webhooks.catalogue import CATALOGUE, EventName, EventVersion, builders_attach
from webhooks.services import event_append

ROOT = Path(__file__).resolve().parent.parent.parent
APPS = ("accounts", "orders", "carriers", "routing", "tracking", "webhooks", "config")
EMITTERS = {"event_build", "event_append"}


def _app_modules():
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path


def test_every_name_is_declared_and_every_declared_type_has_a_name():
    assert set(CATALOGUE) == {str(name) for name in EventName}


def test_code_names_event_types_by_the_catalogues_constants():
    spelled = []
    for path in _app_modules():
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call):
                continue
            called = getattr(node.func, "id", getattr(node.func, "attr", ""))
            if called not in EMITTERS:
                continue
            for keyword in node.keywords:
                if keyword.arg == "type" and isinstance(keyword.value, ast.Constant):
                    spelled.append(f"{path.relative_to(ROOT)}:{node.lineno} {keyword.value.value}")
    assert not spelled, "event types spelled as strings:\n" + "\n".join(spelled)


def test_the_catalogue_imports_no_app():
    tree = ast.parse((ROOT / "webhooks" / "catalogue.py").read_text())
    imported = [
        node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module
    ] + [
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    ]
    apps = [
        m for m in imported if m.split(".")[0] in APPS and not m.startswith("webhooks.payloads")
    ]
    assert not apps, apps


@pytest.mark.django_db
def test_a_builder_that_queries_fails_the_test_that_emits_its_event(monkeypatch, client_a):
    response = client_a.post("/api/v1/orders", order_payload(), format="json")
    order = Order.objects.get(id=response.json()["id"])
    created = CATALOGUE[EventName.ORDER_CREATED]
    original = created.versions["1.0"]

    def querying_builder(*, order, time_of_event, document=None):
        Order.objects.filter(id=order.id).exists()
        return {}

    monkeypatch.setitem(
        created.versions, "1.0", EventVersion(original.data_model, querying_builder)
    )
    with pytest.raises(BuilderQueried), transaction.atomic():
        event_append(
            type=EventName.ORDER_CREATED,
            time_of_event=order.created_at,
            order=order,
            live_mode=order.live_mode,
            shipper=order.shipper,
            entity_type="ORDER",
            entity_id=order.id,
            root_entity_type="ORDER",
            root_entity_id=order.id,
        )


def test_attaching_a_builder_to_a_name_the_catalogue_does_not_know_fails():
    with pytest.raises(KeyError):
        builders_attach("OrderTeleported", {"1.0": lambda **_: {}})
