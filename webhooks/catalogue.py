"""Every event type Waybill sends, with its versions: per version the payload's shape (a
pydantic model, whence the JSON Schema) and the builder that renders it.

The names are declared here (``EventName``, the only spelling code uses); the seed 004 shapes
come from ``webhooks.payloads``; each app declares its own types and attaches its builders in
its ``events.py`` (``declare``, ``builders_attach``), which ``WebhooksConfig.ready`` imports.
So this module imports no app, and every app may import it.

Everything else derives from ``CATALOGUE``: subscription validation, the event-types endpoint
and the API docs. A builder is None while the objects it reads do not exist yet (SMS
notifications arrive with their issue); appending such an event fails loudly.

Builders are pure: they render the objects they are given, with the relations the caller
loaded, and run no query (the test suite fails any builder that does).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache, cached_property
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from pydantic import BaseModel

from webhooks.payloads import SEED_PAYLOADS


class EventName(StrEnum):
    """Every event type's name: what code passes, subscriptions name and envelopes carry."""

    # Seed 004: a last-mile platform's events.
    COLLECTION_POINT_COLLO_COLLECTED = "CollectionPointColloCollected"
    COLLECTION_POINT_COLLO_NOT_COLLECTED = "CollectionPointColloNotCollected"
    COLLECTION_POINT_COLLO_REJECTED = "CollectionPointColloRejected"
    COLLO_DELIVERY_ARRIVED = "ColloDeliveryArrived"
    COLLO_DELIVERY_COMPLETED = "ColloDeliveryCompleted"
    COLLO_DELIVERY_FAILED = "ColloDeliveryFailed"
    COLLO_LOADED_ON_LINEHAUL = "ColloLoadedOnLinehaul"
    COLLO_PICKUP_COMPLETED = "ColloPickupCompleted"
    NOTIFICATION_ORDER_SMS_SENT = "NotificationOrderSmsSent"
    ORDER_ADDED_TO_ROUTE = "OrderAddedToRoute"
    ORDER_DELIVERY_ARRIVED = "OrderDeliveryArrived"
    ORDER_DELIVERY_COMPLETED = "OrderDeliveryCompleted"
    ORDER_DELIVERY_FAILED = "OrderDeliveryFailed"
    ORDER_GEO_LOCATION_FAILED = "OrderGeoLocationFailed"
    ORDER_PICKUP_ARRIVED = "OrderPickupArrived"
    ORDER_PICKUP_COMPLETED = "OrderPickupCompleted"
    ORDER_PICKUP_FAILED = "OrderPickupFailed"
    ORDER_RETURN_COMPLETED = "OrderReturnCompleted"
    ROUTE_COMPLETED = "RouteCompleted"
    ROUTE_OPTIMIZATION_JOB_APPROVED = "RouteOptimizationJobApproved"
    ROUTE_OPTIMIZATION_ORDER_UNSCHEDULED = "RouteOptimizationOrderUnscheduled"
    # Seed 000: the Go API's planning and finance facts.
    ORDER_PLANNED = "OrderPlanned"
    COST_ADDITION_APPROVED = "CostAdditionApproved"
    INVOICE_APPROVED = "InvoiceApproved"
    # Waybill's own.
    ORDER_CREATED = "OrderCreated"
    ORDER_UPDATED = "OrderUpdated"
    ORDER_CANCELLED = "OrderCancelled"
    ORDER_GONE_FROM_POS = "OrderGoneFromPos"
    ORDER_PLANNING_FAILED = "OrderPlanningFailed"
    ORDER_REMOVED_FROM_ROUTE = "OrderRemovedFromRoute"


@dataclass(frozen=True)
class EventVersion:
    data_model: type[BaseModel]
    builder: Callable[..., dict] | None = None


@dataclass
class EventType:
    name: str
    source: str  # where the contract comes from: seed 004, seed 000 or Waybill's own
    versions: dict[str, EventVersion] = field(default_factory=dict)

    @cached_property  # its versions are declared with it; builders only fill them in
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

    def built_versions(self) -> list[str]:
        return [v for v, spec in self.versions.items() if spec.builder is not None]

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


CATALOGUE: dict[str, EventType] = {}


def declare(name: EventName, source: str, versions: dict[str, EventVersion]) -> None:
    """An app's own event type (seed 000 or Waybill's), once."""
    name = EventName(name)  # a name the catalogue does not know is a ValueError here
    if name in CATALOGUE:
        raise ImproperlyConfigured(f"Event type {name} is declared twice.")
    CATALOGUE[str(name)] = EventType(str(name), source, dict(versions))


def builders_attach(name: EventName, builders: dict[str, Callable[..., dict]]) -> None:
    """The builders an app renders a seed 004 type's versions with."""
    event_type = CATALOGUE[name]
    for version, builder in builders.items():
        model = event_type.versions[version].data_model
        event_type.versions[version] = EventVersion(model, builder)


def _declare_seed_004() -> None:
    for name in sorted({name for name, _ in SEED_PAYLOADS}):
        versions = {v: EventVersion(model) for (n, v), model in SEED_PAYLOADS.items() if n == name}
        declare(EventName(name), "seed 004", versions)


def catalogue_check() -> None:
    """Every name declared, nothing declared without a name: run once the apps are ready."""
    missing = sorted(set(EventName) - set(CATALOGUE))
    if missing:
        raise ImproperlyConfigured(f"Event types named but never declared: {missing}.")


_declare_seed_004()


def event_type_get(name: str) -> EventType:
    """The declared type called ``name``; a ValueError for a name that is none."""
    try:
        return CATALOGUE[name]
    except KeyError:
        raise ValueError(f"{name!r} is not a declared event type.") from None


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
