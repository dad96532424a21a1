"""Payload shapes of the seed 000 plan return and of Waybill's OrderPlanningFailed, and the
builders of the planning events. The seed 000 finance returns (cost additions, invoices) are
``finance.events``.
"""

from datetime import datetime
from typing import Any

from pydantic import Field

from carriers.documents import plan_summary
from carriers.selection import PlanningFailureReason
from config.times import iso_local, order_zone
from orders.documents import order_reference
from routing.documents import route_reference
from webhooks.catalogue import EventName, EventVersion, declare
from webhooks.payloads.common import OrderRef, PayloadModel, RouteRef


class CarrierRef(PayloadModel):
    id: str
    name: str
    slug: str


class ServiceRef(PayloadModel):
    code: str
    name: str


class Money(PayloadModel):
    amount: str
    currency: str


class Window(PayloadModel):
    from_: str | None = Field(alias="from")
    to: str | None


class SharedWith(PayloadModel):
    orders: list[str]  # the shipper's own orders on the same route, by creatorOrderId
    otherOrders: int  # noqa: N815  others' orders on it, as a count only


class Plan(PayloadModel):
    id: str
    policy: str  # the shipper's planning policy, or "own-fleet" on a route
    decidedAt: str  # noqa: N815
    decidedBy: str  # noqa: N815
    # Null when the order goes on an own-fleet route (then ``route`` names it): one
    # allocation per order, a carrier or a route.
    carrier: CarrierRef | None
    service: ServiceRef | None
    price: Money | None
    promisedPickup: Window  # noqa: N815
    promisedDelivery: Window  # noqa: N815
    route: RouteRef | None
    sharedWith: SharedWith  # noqa: N815
    optionsConsidered: int  # noqa: N815
    reason: str


class OrderPlannedV1(PayloadModel):
    """An order was finalised onto a plan, with a carrier or on an own-fleet route: how,
    when, by whom, with what else."""

    order: OrderRef
    plan: Plan
    correlationId: str  # noqa: N815
    timeOfEvent: str  # noqa: N815


class RuledOut(PayloadModel):
    """A service carrier selection ruled out, and why."""

    carrier: CarrierRef
    service: ServiceRef
    reasons: list[PlanningFailureReason]
    explanation: str  # the reasons in words, for people


class OrderPlanningFailedV1(PayloadModel):
    """Sent when carrier selection finds no service that can take an order: ``reasons`` are
    every reason found, in carrier selection's codes (the enum of this schema), and
    ``ruledOut`` each service with its own. The order waits unplanned for a change, for
    capacity or for a dispatcher's override."""

    order: OrderRef
    policy: str
    reasons: list[PlanningFailureReason]
    ruledOut: list[RuledOut]  # noqa: N815
    correlationId: str  # noqa: N815
    timeOfEvent: str  # noqa: N815


def order_planned_v1(
    *,
    order,
    plan,
    shared_with: dict[str, Any],
    time_of_event: datetime,
    route=None,
    stop=None,
) -> dict:
    """``route`` and ``stop`` (loaded, with the route's gate and depot) when the order went on
    an own-fleet route: the promise is then the route's departure and the stop's window."""
    summary = plan_summary(plan)
    route_block = None
    if route is not None:
        route_block = route_reference(route)
        summary["promisedPickup"] = _moment(route.start_time, route.gate.depot.time_zone)
        summary["promisedDelivery"] = {
            "from": iso_local(stop.window_from or stop.eta, order.delivery_time_zone),
            "to": iso_local(stop.window_to or stop.eta, order.delivery_time_zone),
        }
    return {
        "order": order_reference(order),
        "plan": {
            "id": summary["id"],
            "policy": summary["policy"],
            "decidedAt": summary["decidedAt"],
            "decidedBy": summary["decidedBy"],
            "carrier": summary["carrier"],
            "service": summary["service"],
            "price": summary["price"],
            "promisedPickup": summary["promisedPickup"],
            "promisedDelivery": summary["promisedDelivery"],
            "route": route_block,
            "sharedWith": shared_with,
            "optionsConsidered": len(plan.options) + len(plan.rejections),
            "reason": plan.reason,
        },
        "correlationId": "",
        "timeOfEvent": iso_local(time_of_event, order_zone(order)),
    }


def order_planning_failed_v1(
    *, order, policy: str, reasons: list[str], rejections: list[dict], time_of_event: datetime
) -> dict:
    """``rejections`` as a plan stores them (``Rejection.document``)."""
    return {
        "order": order_reference(order),
        "policy": policy,
        "reasons": list(reasons),
        "ruledOut": [
            {
                "carrier": {
                    "id": r["carrier"]["id"],
                    "name": r["carrier"]["name"],
                    "slug": r["carrier"]["slug"],
                },
                "service": {"code": r["service"]["code"], "name": r["service"]["name"]},
                "reasons": list(dict.fromkeys(reason["code"] for reason in r["reasons"])),
                "explanation": " ".join(reason["message"] for reason in r["reasons"]),
            }
            for r in rejections
        ],
        "correlationId": "",
        "timeOfEvent": iso_local(time_of_event, order_zone(order)),
    }


def _moment(moment: datetime, time_zone: str) -> dict[str, str]:
    return {"from": iso_local(moment, time_zone), "to": iso_local(moment, time_zone)}


declare(
    EventName.ORDER_PLANNED, "seed 000", {"1.0": EventVersion(OrderPlannedV1, order_planned_v1)}
)
declare(
    EventName.ORDER_PLANNING_FAILED,
    "Waybill",
    {"1.0": EventVersion(OrderPlanningFailedV1, order_planning_failed_v1)},
)
