"""The route events: seed 004's job approved, order added to a route and order left
unscheduled, and Waybill's OrderRemovedFromRoute."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from config.times import DELIVERY, PICKUP, iso_local, order_zone, route_zone
from orders.documents import order_reference
from orders.events import seed_location
from routing.documents import route_reference
from webhooks.catalogue import EventName, EventVersion, builders_attach, declare
from webhooks.payloads.common import OrderRef, PayloadModel, RouteRef


def _limits(group) -> dict[str, Any]:
    return {
        "volume": float(group.max_volume_m3 or 0),
        "weight": float(group.max_weight_kg or 0),
        "colli": group.max_colli or 0,
        "stops": group.max_stops or 0,
        "duration": group.max_duration_s or 0,
        "distance": group.max_distance_m or 0,
    }


def route_optimization_job_approved_v1(
    *,
    job,
    vehicle_groups: list,
    gates: list,
    zone: str,
    routes: list,
    gate_slots: dict,
    owner_id: str,
    time_of_event: datetime,
) -> dict:
    """``vehicle_groups`` and ``gates`` the job's, ``zone`` its depot's (``job_zone``)."""
    return {
        "id": str(job.id),
        "ownerId": owner_id,
        "name": job.name,
        "settingsId": str(job.settings.get("settingsId", job.id)),
        "schedulerId": str(job.settings.get("schedulerId", job.id)),
        "availableVehicleGroups": [
            {
                "id": str(g.id),
                "name": g.name,
                "vehicleType": g.get_vehicle_type_display(),
                "tags": list(g.handled_tags),
                "limits": _limits(g),
            }
            for g in vehicle_groups
        ],
        "availableGates": [
            {"gateName": gate.name, "timeSlots": gate_slots[str(gate.id)]} for gate in gates
        ],
        "meta": job.meta,
        "routes": [
            {
                "route": route_reference(r),
                # As the seed shows it: the group's name here, its id as the vehicle type.
                "vehicleGroupId": r.vehicle_group.name,
                "vehicleTypeId": str(r.vehicle_group_id),
                "gate": r.gate.name,
                "stopsCount": r.stops_count,
                "startTime": iso_local(r.start_time, route_zone(r)),
                "firstStopTaskTime": r.first_stop_task_time,
                "duration": r.duration,
                "distance": r.distance_km,
                "drivingDuration": r.driving_duration,
                "waitingTime": r.waiting_time,
                "taskTime": r.task_time,
                "breakTime": r.break_time,
                "weight": r.weight,
                "volume": r.volume,
            }
            for r in routes
        ],
        "correlationId": "",
        "timeOfEvent": iso_local(time_of_event, zone),
    }


def _contact(contact: dict | None) -> dict:
    contact = contact or {}
    phone = contact.get("phone") or {}
    return {
        "preferredName": contact.get("preferredName", ""),
        "fullName": contact.get("fullName", ""),
        "phone": {
            "countrycallingCode": phone.get("countrycallingCode", ""),
            "nationalNumber": phone.get("nationalNumber", ""),
            "countryCode": phone.get("countryCode", ""),
        },
        "email": contact.get("email"),
        "company": contact.get("company"),
    }


def _frame(start: datetime | None, end: datetime | None, fallback: datetime, zone: str) -> dict:
    return {
        "from": iso_local(start or fallback, zone),
        "to": iso_local(end or start or fallback, zone),
    }


def order_added_to_route_v2(*, order, route, stop, time_of_event: datetime) -> dict:
    pickup, delivery = order_zone(order, PICKUP), order_zone(order, DELIVERY)
    return {
        "order": order_reference(order),
        "route": route_reference(route),
        "deliveryLocation": seed_location(order, "delivery"),
        "pickupLocation": seed_location(order, "pickup"),
        "deliveryContact": _contact(order.delivery_contact),
        "pickupContact": _contact(order.pickup_contact),
        # Goods are loaded at the depot when the route leaves its gate.
        "pickupEta": iso_local(route.start_time, pickup),
        "pickupTimeFrame": _frame(order.pickup_from, order.pickup_to, route.start_time, pickup),
        "deliveryEta": iso_local(stop.eta, delivery),
        "deliveryTimeFrame": _frame(order.delivery_from, order.delivery_to, stop.eta, delivery),
        "correlationId": "",
        "timeOfEvent": iso_local(time_of_event, order_zone(order)),
    }


class RouteFigures(PayloadModel):
    stopsCount: int  # noqa: N815
    startTime: str  # noqa: N815
    endTime: str  # noqa: N815
    duration: int
    distance: float


class OrderRemovedFromRouteV1(PayloadModel):
    """An order left the own-fleet route it was on (it was cancelled, or the route was):
    its stop is gone, and the route's figures and ETAs were worked out again without it."""

    order: OrderRef
    route: RouteRef
    stopSequence: int  # noqa: N815  the number the removed stop had on the route
    reason: str
    routeAfter: RouteFigures  # noqa: N815
    correlationId: str  # noqa: N815
    timeOfEvent: str  # noqa: N815


def order_removed_from_route_v1(
    *, order, route, sequence: int, reason: str, time_of_event: datetime
) -> dict:
    return {
        "order": order_reference(order),
        "route": route_reference(route),
        "stopSequence": sequence,
        "reason": reason,
        "routeAfter": {
            "stopsCount": route.stops_count,
            "startTime": iso_local(route.start_time, route_zone(route)),
            "endTime": iso_local(route.end_time, route_zone(route)),
            "duration": route.duration,
            "distance": route.distance_km,
        },
        "correlationId": "",
        "timeOfEvent": iso_local(time_of_event, order_zone(order)),
    }


def route_optimization_order_unscheduled_v1(
    *, order, reasons: list[str], time_of_event: datetime
) -> dict:
    return {
        "order": order_reference(order),
        "reasons": list(reasons),
        "correlationId": "",
        "timeOfEvent": iso_local(time_of_event, order_zone(order)),
    }


builders_attach(
    EventName.ROUTE_OPTIMIZATION_JOB_APPROVED, {"1.0": route_optimization_job_approved_v1}
)
builders_attach(
    EventName.ROUTE_OPTIMIZATION_ORDER_UNSCHEDULED, {"1.0": route_optimization_order_unscheduled_v1}
)
builders_attach(EventName.ORDER_ADDED_TO_ROUTE, {"2.0": order_added_to_route_v2})
declare(
    EventName.ORDER_REMOVED_FROM_ROUTE,
    "Waybill",
    {"1.0": EventVersion(OrderRemovedFromRouteV1, order_removed_from_route_v1)},
)
