"""Every event type Waybill sends, with its versions: per version the payload's shape (a
pydantic model, whence the JSON Schema) and the builder that renders it.

Everything else derives from ``CATALOGUE``: subscription validation, the event-types endpoint
and the API docs. A builder is None while the objects it reads do not exist yet (routes, stops,
POD, plans arrive with their issues); appending such an event fails loudly.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from pydantic import BaseModel

from carriers import events as carrier_events
from orders import events as order_events
from routing import events as routing_events
from webhooks.payloads import SEED_PAYLOADS


@dataclass(frozen=True)
class EventVersion:
    data_model: type[BaseModel]
    builder: Callable[..., dict] | None = None


@dataclass(frozen=True)
class EventType:
    name: str
    source: str  # where the contract comes from: seed 004, seed 000 or Waybill's own
    versions: dict[str, EventVersion]

    @property
    def latest_version(self) -> str:
        return max(self.versions, key=lambda v: tuple(int(p) for p in v.split(".")))

    @property
    def description(self) -> str:
        model = self.versions[self.latest_version].data_model
        return " ".join((model.__doc__ or "").split())

    def build(self, version: str, **builder_args: Any) -> dict:
        builder = self.versions[version].builder
        if builder is None:
            raise NotImplementedError(f"{self.name} v{version} has no payload builder yet.")
        return builder(**builder_args)

    def schema(self, version: str) -> dict:
        return envelope_schema(self.name, version, self.versions[version].data_model)


@cache
def envelope_schema(name: str, version: str, data_model: type[BaseModel]) -> dict:
    data = data_model.model_json_schema(by_alias=True)
    definitions = data.pop("$defs", {})
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": f"{name} v{version}",
        "type": "object",
        "required": ["id", "type", "version", "liveMode", "dateTime", "data"],
        "additionalProperties": False,
        "properties": {
            "id": {"type": "string", "format": "uuid"},
            "type": {"const": name},
            "version": {"const": version},
            "liveMode": {"type": "boolean"},
            "dateTime": {"type": "string", "format": "date-time"},
            "data": data,
        },
    }
    if definitions:
        schema["$defs"] = definitions
    return schema


def _seed_004(name: str, builders: dict[str, Callable[..., dict]] | None = None) -> EventType:
    """A seed 004 type: its shapes per version, and the builders that exist so far."""
    versions = {
        version: EventVersion(model, (builders or {}).get(version))
        for (type_name, version), model in SEED_PAYLOADS.items()
        if type_name == name
    }
    return EventType(name, "seed 004", versions)


_SEED_004_TYPES = sorted({name for name, _ in SEED_PAYLOADS})
_SEED_004_BUILDERS: dict[str, dict[str, Callable[..., dict]]] = {
    "RouteOptimizationOrderUnscheduled": {
        "1.0": carrier_events.route_optimization_order_unscheduled_v1
    },
    "RouteOptimizationJobApproved": {"1.0": routing_events.route_optimization_job_approved_v1},
    "OrderAddedToRoute": {"2.0": routing_events.order_added_to_route_v2},
}

CATALOGUE: dict[str, EventType] = {
    t.name: t
    for t in [
        *(_seed_004(name, _SEED_004_BUILDERS.get(name)) for name in _SEED_004_TYPES),
        EventType(
            "OrderCreated",
            "Waybill",
            {"1.0": EventVersion(order_events.OrderCreatedV1, order_events.order_created_v1)},
        ),
        EventType(
            "OrderUpdated",
            "Waybill",
            {"1.0": EventVersion(order_events.OrderUpdatedV1, order_events.order_updated_v1)},
        ),
        EventType(
            "OrderCancelled",
            "Waybill",
            {"1.0": EventVersion(order_events.OrderCancelledV1, order_events.order_cancelled_v1)},
        ),
        EventType(
            "OrderGoneFromPos",
            "Waybill",
            {
                "1.0": EventVersion(
                    order_events.OrderGoneFromPosV1, order_events.order_gone_from_pos_v1
                )
            },
        ),
        EventType(
            "OrderRemovedFromRoute",
            "Waybill",
            {
                "1.0": EventVersion(
                    routing_events.OrderRemovedFromRouteV1,
                    routing_events.order_removed_from_route_v1,
                )
            },
        ),
        EventType(
            "OrderPlanned",
            "seed 000",
            {"1.0": EventVersion(carrier_events.OrderPlannedV1, carrier_events.order_planned_v1)},
        ),
        EventType(
            "OrderPlanningFailed",
            "Waybill",
            {
                "1.0": EventVersion(
                    carrier_events.OrderPlanningFailedV1, carrier_events.order_planning_failed_v1
                )
            },
        ),
        EventType(
            "CostAdditionApproved",
            "seed 000",
            {"1.0": EventVersion(carrier_events.CostAdditionApprovedV1)},
        ),
        EventType(
            "InvoiceApproved", "seed 000", {"1.0": EventVersion(carrier_events.InvoiceApprovedV1)}
        ),
    ]
}


def event_type_get(name: str) -> EventType:
    return CATALOGUE[name]


def event_types_document() -> list[dict]:
    """The catalogue as ``GET /api/v1/webhooks/event-types`` publishes it."""
    return [
        {
            "type": t.name,
            "description": t.description,
            "source": t.source,
            "latestVersion": t.latest_version,
            "versions": [
                {
                    "version": v,
                    "available": t.versions[v].builder is not None,
                    "schema": t.schema(v),
                }
                for v in sorted(t.versions)
            ],
        }
        for t in sorted(CATALOGUE.values(), key=lambda t: t.name)
    ]
