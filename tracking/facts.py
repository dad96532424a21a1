"""What a carrier reports, in one shape whatever format it arrived in: a ``CarrierFact``.

The intake (``tracking.intake``) turns a seed 004 envelope or a compact canonical event into
facts; ``tracking.services.carrier_facts_apply`` applies them (timeline, status roll-up,
routes, the outgoing seed 004 events). A fact's ``type`` is the seed 004 event name it reports
(``FACT_TYPES``), or ``ETA_UPDATED``, Waybill's own for a new ETA window.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from webhooks.catalogue import EventName

# ETA updates have no seed 004 type of their own: they only move the order's ETA window.
ETA_UPDATED = "EtaUpdated"

# What a carrier or last-mile platform may report, by the seed 004 name.
ORDER_FACTS = frozenset(
    {
        EventName.ORDER_PICKUP_ARRIVED,
        EventName.ORDER_PICKUP_COMPLETED,
        EventName.ORDER_PICKUP_FAILED,
        EventName.ORDER_DELIVERY_ARRIVED,
        EventName.ORDER_DELIVERY_COMPLETED,
        EventName.ORDER_DELIVERY_FAILED,
        EventName.ORDER_RETURN_COMPLETED,
    }
)
COLLO_FACTS = frozenset(
    {
        EventName.COLLO_PICKUP_COMPLETED,
        EventName.COLLO_LOADED_ON_LINEHAUL,
        EventName.COLLO_DELIVERY_ARRIVED,
        EventName.COLLO_DELIVERY_COMPLETED,
        EventName.COLLO_DELIVERY_FAILED,
        EventName.COLLECTION_POINT_COLLO_COLLECTED,
        EventName.COLLECTION_POINT_COLLO_NOT_COLLECTED,
        EventName.COLLECTION_POINT_COLLO_REJECTED,
    }
)
ROUTE_FACTS = frozenset({EventName.ROUTE_COMPLETED})
FACT_TYPES = frozenset({*ORDER_FACTS, *COLLO_FACTS, *ROUTE_FACTS, ETA_UPDATED})


class FactSource:
    SEED_004 = "seed-004"  # a last-mile platform's envelope
    CANONICAL = "canonical"  # Waybill's compact form


@dataclass
class CarrierFact:
    """One reported fact, its order (and collo, route) already resolved for the carrier."""

    type: str  # in FACT_TYPES
    external_id: str  # the sender's event id: the idempotency key, per carrier
    time_of_event: datetime  # aware
    order: Any = None  # orders.Order; None only for route facts
    collo: Any = None  # orders.Collo for collo facts
    route: Any = None  # routing.Route when known
    position: tuple[float, float] | None = None  # (latitude, longitude)
    driver: dict[str, Any] = field(default_factory=dict)
    executor: dict[str, Any] = field(default_factory=dict)
    deviation: dict[str, Any] = field(default_factory=dict)  # {"code", "text"}
    images: list[str] = field(default_factory=list)  # URLs the sender gave
    eta_from: datetime | None = None
    eta_to: datetime | None = None
    figures: dict[str, Any] = field(default_factory=dict)  # a RouteCompleted's actuals
    source: str = FactSource.CANONICAL
    raw: dict[str, Any] = field(default_factory=dict)  # the item as received
