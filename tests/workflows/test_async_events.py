"""Seed 003's Event API: /event/async stores an ORCHESTRATION event, a worker runs its
workflow and audits it; /event and /event/{id} read them; seed 001's /epos/events."""

import datetime

import pytest
from django.utils import timezone

from carriers.services import orders_plan
from orders.models import Order
from tests.carriers.conftest import plannable_payload
from tests.factories import ServiceFactory
from webhooks.models import Event
from workflows.models import OrchestrationRun, RunStatus
from workflows.orchestration import orchestration_event_process, orchestration_sweep

pytestmark = pytest.mark.django_db


def _post(client, body):
    return client.post("/api/v1/event/async", body, format="json")


def _run_all() -> list[str]:
    runs = OrchestrationRun.objects.filter(status=RunStatus.PENDING)
    return [orchestration_event_process(run_id=str(run.id)) for run in runs]


def _audits(client, event_id: str) -> list[dict]:
    listed = client.get("/api/v1/event?category=ORCHESTRATION_AUDIT").json()["results"]
    return [e for e in listed if e["attributes"].get("trigger") == event_id]


@pytest.fixture
def planned_order(client_a, carrier):
    ServiceFactory(carrier=carrier)
    created = client_a.post("/api/v1/orders", plannable_payload(), format="json").json()
    orders_plan(order_ids=[created["id"]])
    return Order.objects.get(id=created["id"])


def test_a_wms_ship_confirmation_runs_its_workflow_and_is_audited(client_a, planned_order):
    accepted = _post(
        client_a,
        {
            "name": "WmsShipConfirmed",
            "entityType": "ORDER",
            "rootEntityType": "ORDER",
            "rootEntityRef": planned_order.creator_order_id,
            "attributes": {"warehouse": "DK-1", "colli": 2},
        },
    )

    assert accepted.status_code == 202, accepted.json()
    event_id = accepted.json()["id"]
    assert accepted.json() == {
        "id": event_id,
        "name": "WmsShipConfirmed",
        "type": "ORCHESTRATION",
        "status": "PENDING",
    }
    stored = client_a.get(f"/api/v1/event/{event_id}").json()
    assert (stored["name"], stored["category"]) == ("WmsShipConfirmed", "ORCHESTRATION")
    assert stored["attributes"] == {"warehouse": "DK-1", "colli": 2}
    assert _run_all() == ["done"]
    [audit] = _audits(client_a, event_id)
    assert audit["attributes"]["workflow"] == "WmsShipConfirmed"
    assert audit["attributes"]["outcome"] == "done"
    assert audit["rootEntityRef"] == planned_order.creator_order_id
    planned_order.refresh_from_db()
    assert planned_order.status == "picked_up"  # fed into tracking as the carrier's pickup
    assert _run_all() == []  # done once, never twice


def test_a_cancel_request_cancels_the_order(client_a, planned_order):
    event_id = _post(
        client_a,
        {
            "name": "OrderCancelRequested",
            "rootEntityType": "ORDER",
            "rootEntityId": str(planned_order.id),
            "attributes": {"reason": "Customer changed their mind"},
        },
    ).json()["id"]

    _run_all()

    planned_order.refresh_from_db()
    assert planned_order.status == "cancelled"
    assert planned_order.cancel_reason == "Customer changed their mind"
    assert _audits(client_a, event_id)[0]["attributes"]["outcome"] == "done"


def test_a_carrier_consignment_update_feeds_tracking(client_a, planned_order):
    at = (timezone.now() - datetime.timedelta(minutes=5)).isoformat()
    _post(
        client_a,
        {
            "name": "CarrierConsignmentUpdated",
            "rootEntityType": "ORDER",
            "rootEntityRef": planned_order.creator_order_id,
            "attributes": {"type": "OrderDeliveryCompleted", "timeOfEvent": at},
        },
    )

    assert _run_all() == ["done"]
    planned_order.refresh_from_db()
    assert planned_order.status == "delivered"


def test_an_unknown_name_is_accepted_and_audited_as_unmatched(client_a):
    event_id = _post(client_a, {"name": "InventoryDelta", "attributes": {"sku": "A"}}).json()["id"]

    assert _run_all() == ["done"]
    [audit] = _audits(client_a, event_id)
    assert audit["attributes"]["workflow"] is None
    assert audit["attributes"]["message"] == "No workflow matched."


def test_a_workflow_that_cannot_run_is_audited_as_failed_and_keeps_its_event(client_a):
    event_id = _post(
        client_a, {"name": "OrderCancelRequested", "rootEntityType": "ORDER", "rootEntityRef": "X"}
    ).json()["id"]

    assert _run_all() == ["failed"]
    [audit] = _audits(client_a, event_id)
    assert audit["attributes"]["outcome"] == "failed"
    assert "No order" in audit["attributes"]["message"]
    assert Event.objects.filter(id=event_id, category="ORCHESTRATION").exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "name"),
        ({"name": 5}, "name"),
        ({"name": "has space"}, "name"),
        ({"name": "X", "attributes": []}, "attributes"),
        ({"name": "X", "attributes": {"a": "b" * 70_000}}, "attributes"),
        ({"name": "X", "entityId": "e" * 65}, "entityId"),
        ({"name": "X", "retailerId": "1"}, "retailerId"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(client_a, body, field):
    response = _post(client_a, body)

    assert response.status_code == 400, response.json()
    assert field in {e["field"] for e in response.json()["errors"]}
    assert not OrchestrationRun.objects.exists()


def test_another_shipper_sees_neither_the_event_nor_its_audit(client_a, client_b):
    event_id = _post(client_a, {"name": "InventoryDelta"}).json()["id"]
    _run_all()

    assert client_b.get(f"/api/v1/event/{event_id}").status_code == 404
    assert client_b.get("/api/v1/event").json()["results"] == []


def test_the_sweeper_queues_a_run_the_broker_never_took(client_a):
    _post(client_a, {"name": "InventoryDelta"})
    run = OrchestrationRun.objects.get()
    OrchestrationRun.objects.filter(id=run.id).update(queued_at=None)  # as a refused publish

    assert orchestration_sweep() == 1
    run.refresh_from_db()
    assert run.queued_at is not None
    assert orchestration_sweep() == 0  # within its lease now


def test_seed_001_s_path_takes_pos_events(client_a):
    response = client_a.post(
        "/api/v1/epos/events", {"eventType": "OrderUpdated", "entityId": "P-1"}, format="json"
    )

    assert response.status_code in (202, 409), response.json()
    assert response.status_code != 404
