"""Every event type Waybill emits, with its versions and one payload builder per version.

Everything else (the OpenAPI enum, subscription validation, docs) derives from ``CATALOGUE``.
Builders are pure: they take already-loaded objects and return the ``data`` dict.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from orders import events as order_events


@dataclass(frozen=True)
class EventType:
    name: str
    description: str
    builders: dict[str, Callable[..., dict]] = field(default_factory=dict)

    @property
    def versions(self) -> list[str]:
        return sorted(self.builders, key=lambda v: tuple(int(p) for p in v.split(".")))

    @property
    def latest_version(self) -> str:
        return self.versions[-1]


CATALOGUE: dict[str, EventType] = {
    t.name: t
    for t in [
        EventType(
            "OrderCreated",
            "A shipper's order was accepted.",
            {"1.0": order_events.order_created_v1},
        ),
        EventType(
            "OrderUpdated",
            "An order's details changed; `changes` lists the fields.",
            {"1.0": order_events.order_updated_v1},
        ),
        EventType(
            "OrderCancelled",
            "An order was cancelled, with the reason.",
            {"1.0": order_events.order_cancelled_v1},
        ),
    ]
}


def event_type_get(name: str) -> EventType:
    return CATALOGUE[name]
