"""Plans, quotes and the carrier's manifest as the API, the events and the admin show them.

The reads (querysets, prefetching) are ``carriers.selectors``; here they are only rendered.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from carriers.models import Plan
from carriers.selection import Selection
from carriers.selectors import plan_current, plan_shared_with, plans_earlier
from config.times import carrier_zone, iso_local, order_zone
from orders.documents import (
    collo_document,
    location_document,
    order_reference,
    time_frame_document,
)
from orders.models import Order, OrderStatus


def _window(start: datetime | None, end: datetime | None, time_zone: str) -> dict | None:
    if start is None:
        return None
    return {"from": iso_local(start, time_zone), "to": iso_local(end, time_zone)}


def plan_summary(plan: Plan) -> dict[str, Any]:
    """What was decided, as the API, the events and the admin show it: the decision in the
    order's zone, the promise in the carrier's (its service windows are its local clock)."""
    zone = carrier_zone(plan.carrier)
    return {
        "id": str(plan.id),
        "status": plan.status,
        "policy": plan.policy,
        "decidedAt": iso_local(plan.decided_at, order_zone(plan.order)),
        "decidedBy": plan.decided_by,
        "overridden": plan.overridden,
        "carrier": (
            {"id": str(plan.carrier.id), "name": plan.carrier.name, "slug": plan.carrier.slug}
            if plan.carrier
            else None
        ),
        "service": (
            {"code": plan.service.code, "name": plan.service.name} if plan.service else None
        ),
        "price": (
            {"amount": str(plan.price), "currency": plan.currency}
            if plan.price is not None
            else None
        ),
        "priceBreakdown": plan.price_breakdown or None,
        "pickupDay": plan.pickup_day.isoformat() if plan.pickup_day else None,
        "promisedPickup": _window(plan.promised_pickup_from, plan.promised_pickup_to, zone),
        "promisedDelivery": _window(plan.promised_delivery_from, plan.promised_delivery_to, zone),
        "reason": plan.reason,
        "unplannedReasons": plan.unplanned_reasons,
    }


def plan_document(order: Order, *, cost=None) -> dict[str, Any]:
    """``GET /orders/{id}/plan``: how the order was planned, or that it is not yet; ``cost``
    the order's ``finance.selectors.CurrentCost``."""
    from finance.documents import cost_document
    from routing.documents import order_route_and_stop
    from routing.selectors import route_shared_with

    plan = plan_current(order)
    document: dict[str, Any] = {"order": order_reference(order)}
    route, stop = order_route_and_stop(order)
    if plan is None:
        return {
            **document,
            "status": "pending" if order.status != OrderStatus.CANCELLED else "cancelled",
            "plan": None,
            "route": route,
            "stop": stop,
            "sharedWith": route_shared_with(order) or {"orders": [], "otherOrders": 0},
            "optionsConsidered": 0,
            "options": [],
            "rejections": [],
            "history": [],
            "cost": cost_document(cost),
        }
    plan.order = order
    earlier = plans_earlier(order)
    return {
        **document,
        "status": plan.status,
        "plan": plan_summary(plan),
        "route": route,
        "stop": stop,
        "sharedWith": route_shared_with(order) or plan_shared_with(plan),
        "optionsConsidered": len(plan.options) + len(plan.rejections),
        "options": plan.options,
        "rejections": plan.rejections,
        "history": [plan_summary(p) for p in earlier[:20]],
        "cost": cost_document(cost),
    }


def quote_document(order: Order, selection: Selection) -> dict[str, Any]:
    chosen = selection.chosen
    return {
        "order": order_reference(order),
        "policy": selection.policy,
        "wouldChoose": (chosen.offer.reference() if chosen else None),
        "explanation": selection.explanation(),
        "options": [o.document() for o in selection.options],
        "rejections": [r.document() for r in selection.rejections],
        "unplannedReasons": [] if chosen else selection.unplanned_reasons,
    }


def _stop(order: Order, kind: str) -> dict:
    return {
        "location": location_document(order, kind),
        "contact": getattr(order, f"{kind}_contact"),
        "timeFrame": time_frame_document(order, kind),
    }


def manifest_entry(plan: Plan) -> dict:
    """One order of ``GET /carrier/orders``: what the carrier's driver needs."""
    order = plan.order
    summary = plan_summary(plan)
    collis = list(order.collis.all())
    return {
        "order": {
            "id": str(order.id),
            "creatorOrderId": order.creator_order_id,
            "relationalId": order.relational_id,
            "tags": list(order.tags),
            "status": order.status,
            "notes": order.notes,
        },
        "shipper": {"id": str(order.shipper_id), "name": order.shipper.name},
        "service": summary["service"],
        "pickupDay": summary["pickupDay"],
        "promisedPickup": summary["promisedPickup"],
        "promisedDelivery": summary["promisedDelivery"],
        "price": summary["price"],
        "pickup": _stop(order, "pickup"),
        "delivery": _stop(order, "delivery"),
        "collis": [collo_document(c) for c in collis],
        "totalWeight": str(sum((c.weight for c in collis), 0)),
    }
