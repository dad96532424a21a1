"""Builders of the route events of seed 004: a job approved, an order added to a route."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from config.times import DELIVERY, PICKUP, iso_local, order_zone, route_zone
from orders.documents import location_document, order_reference
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
    *, job, routes: list, gate_slots: dict, owner_id: str, time_of_event: datetime
) -> dict:
    from routing.documents import job_zone, route_reference

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
            for g in job.vehicle_groups.all()
        ],
        "availableGates": [
            {"gateName": gate.name, "timeSlots": gate_slots[str(gate.id)]}
            for gate in job.gates.all()
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
        "timeOfEvent": iso_local(time_of_event, job_zone(job)),
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


def _location(order, kind: str) -> dict:
    document = location_document(order, kind)
    return {
        "address": {
            "primary": document["address"]["primary"],
            "secondary": document["address"]["secondary"] or None,
        },
        "position": document["position"] or {"latitude": 0.0, "longitude": 0.0},
        "timeZone": document["timeZone"],
    }


def _frame(start: datetime | None, end: datetime | None, fallback: datetime, zone: str) -> dict:
    return {
        "from": iso_local(start or fallback, zone),
        "to": iso_local(end or start or fallback, zone),
    }


def order_added_to_route_v2(*, order, route, stop, time_of_event: datetime) -> dict:
    from routing.documents import route_reference

    pickup, delivery = order_zone(order, PICKUP), order_zone(order, DELIVERY)
    return {
        "order": order_reference(order),
        "route": route_reference(route),
        "deliveryLocation": _location(order, "delivery"),
        "pickupLocation": _location(order, "pickup"),
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
    from routing.documents import route_reference

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
