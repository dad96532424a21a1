"""Reason codes are a contract: integrators branch on ``reasons``, so every ``reasons`` in
every published schema is an enum, and each event type carries one vocabulary only."""

import pytest
from pydantic import ValidationError

from carriers.events import OrderPlanningFailedV1
from carriers.selection import PLANNING_FAILURE_REASONS, REJECTION_CODES
from routing.reasons import UNSCHEDULED_REASONS
from webhooks.catalogue import CATALOGUE
from webhooks.payloads import RouteOptimizationOrderUnscheduledV1

ORDER = {
    "id": "531721db-6b15-4e81-a8d5-9e0843c75dd1",
    "creatorOrderId": "AB20201112",
    "creatorId": "71865f82-712a-4452-8b09-d6069092e774",
    "relationalId": None,
    "tags": [],
}


def _resolve(node: dict, schema: dict) -> dict:
    ref = node.get("$ref")
    if ref:
        return schema["$defs"][ref.rsplit("/", 1)[-1]]
    return node


def _reasons_fields(node, schema: dict, path: str):
    """Every (path, subschema) named ``reasons`` under ``node``."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "properties" and isinstance(value, dict) and "reasons" in value:
                yield f"{path}.reasons", value["reasons"]
            yield from _reasons_fields(value, schema, f"{path}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _reasons_fields(value, schema, f"{path}[{i}]")


def _variants(node: dict, schema: dict) -> list[dict]:
    node = _resolve(node, schema)
    if "anyOf" in node:
        return [
            _resolve(v, schema) for v in node["anyOf"] if _resolve(v, schema).get("type") != "null"
        ]
    return [node]


def _is_enum(node: dict, schema: dict) -> bool:
    for variant in _variants(node, schema):
        if variant.get("type") == "array":
            items = _variants(variant.get("items", {}), schema)
            if not all(item.get("enum") for item in items):
                return False
        elif not variant.get("enum"):
            return False
    return True


def test_every_reasons_field_in_every_event_schema_is_an_enum():
    found, loose = [], []
    for name, event_type in CATALOGUE.items():
        for version in event_type.versions:
            schema = event_type.schema(version)
            for path, node in _reasons_fields(schema, schema, f"{name} v{version}"):
                found.append(path)
                if not _is_enum(node, schema):
                    loose.append(path)

    assert loose == []
    # The walk did find them: the route optimisation, planning failure and ruled-out services.
    assert "RouteOptimizationOrderUnscheduled v1.0.properties.data.reasons" in found
    assert "OrderPlanningFailed v1.0.properties.data.reasons" in found
    assert any(p.startswith("OrderPlanningFailed v1.0.$defs.RuledOut") for p in found)


def _enum(name: str) -> list[str]:
    schema = CATALOGUE[name].schema(CATALOGUE[name].latest_version)
    return schema["properties"]["data"]["properties"]["reasons"]["items"]["enum"]


def test_route_optimisation_unscheduled_publishes_route_optimisation_codes_only():
    codes = _enum("RouteOptimizationOrderUnscheduled")

    assert codes == list(UNSCHEDULED_REASONS)
    # The seed's own two are in it; no carrier selection code is.
    assert {"max-order-count-exceeded", "no-routes-can-handle-tag"} <= set(codes)
    assert not set(codes) & set(PLANNING_FAILURE_REASONS)


@pytest.mark.parametrize("code", REJECTION_CODES)
def test_route_optimisation_unscheduled_refuses_a_carrier_selection_code(code):
    payload = {"order": ORDER, "reasons": [code], "correlationId": "", "timeOfEvent": "x"}

    with pytest.raises(ValidationError):
        RouteOptimizationOrderUnscheduledV1.model_validate(payload)


def test_order_planning_failed_publishes_carrier_selection_codes():
    assert _enum("OrderPlanningFailed") == list(PLANNING_FAILURE_REASONS)
    assert CATALOGUE["OrderPlanningFailed"].source == "Waybill"
    assert "carrier selection" in CATALOGUE["OrderPlanningFailed"].description


def test_order_planning_failed_refuses_a_route_optimisation_code():
    payload = {
        "order": ORDER,
        "policy": "cheapest",
        "reasons": ["max-order-count-exceeded"],
        "ruledOut": [],
        "correlationId": "",
        "timeOfEvent": "x",
    }

    with pytest.raises(ValidationError):
        OrderPlanningFailedV1.model_validate(payload)
