"""The seed 004 events an applied carrier fact sends to the shipper's subscribers, and their
builders (attached to the catalogue here).

``seed_events_for`` loads everything a fact's event reads (the order as it is after the fact,
its collo, route and stop, the carrier, the last ETA reported, the POD) into an ``Applied``
and hands it to the builder, which only renders it (builders run no query). Values come from
Waybill's state, in the seed's shape; what Waybill does not model (a collection point's id,
a linehaul's id) comes from what the carrier reported (``TrackingEvent.raw``).

Times are in the zone of the fact's place (``config.times``): pickup facts (``PICKUP_FACTS``)
the pickup location's, delivery facts the delivery location's, route facts the depot's; a
delivery ETA or time frame is the delivery location's wherever it appears. The envelope's
``dateTime`` is in the same zone as the event's ``timeOfEvent``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from django.db.models import Prefetch

from config.times import DELIVERY, PICKUP, iso_local, order_zone, route_zone
from orders.documents import order_reference
from orders.events import order_event_target, seed_location
from orders.models import Order
from routing.documents import route_reference
from routing.models import Route, Stop
from tracking.facts import COLLO_FACTS, ETA_UPDATED, ORDER_FACTS, ROUTE_FACTS
from tracking.models import ProofOfDelivery, TrackingEvent
from webhooks.catalogue import EventName, builders_attach
from webhooks.services import PendingEvent, event_build

E = EventName

# Facts that happen at the pickup location (its zone); every other order or collo fact
# happens at the delivery location. A linehaul is loaded where the carrier took the goods
# over; a return is completed back at the pickup location (the sender).
PICKUP_FACTS = frozenset(
    {
        E.ORDER_PICKUP_ARRIVED,
        E.ORDER_PICKUP_COMPLETED,
        E.ORDER_PICKUP_FAILED,
        E.ORDER_RETURN_COMPLETED,
        E.COLLO_PICKUP_COMPLETED,
        E.COLLO_LOADED_ON_LINEHAUL,
    }
)
# Types whose payload carries a delivery ETA or a window that may fall back on one: the last
# ETA reported is loaded for them.
_NEEDS_ETA = frozenset(
    {
        E.ORDER_PICKUP_ARRIVED,
        E.ORDER_PICKUP_COMPLETED,
        E.ORDER_PICKUP_FAILED,
        E.COLLO_PICKUP_COMPLETED,
        E.COLLO_DELIVERY_ARRIVED,
    }
)
# ColloLoadedOnLinehaul's ``Collo.Status``: the seed shows 1 and names no other value.
LINEHAUL_LOADED = 1


@dataclass
class Applied:
    """What one applied fact's event is built from, all loaded: ``order`` as it is after the
    fact (with its shipper), ``collo`` for collo facts, ``route`` and ``stop`` when the order
    is on an own-fleet route (the route with its vehicle group and depot), ``carrier`` the
    reporter, ``eta_from``/``eta_to`` the last ETA window reported for the order, ``pod`` its
    proof of delivery (with its images) for a collection point's collection."""

    tracking_event: Any
    order: Any = None
    collo: Any = None
    route: Any = None
    stop: Any = None
    carrier: Any = None
    eta_from: datetime | None = None
    eta_to: datetime | None = None
    pod: Any = None
    pod_images: tuple = ()

    @property
    def zone(self) -> str:
        """The zone of the fact's own times."""
        kind = PICKUP if self.tracking_event.type in PICKUP_FACTS else DELIVERY
        return order_zone(self.order, kind)


# --- shapes shared by the builders --------------------------------------------------------


def _reported(tracking_event, key: str) -> Any:
    """A value the carrier sent that Waybill does not model: from the seed envelope's ``data``
    or the canonical item itself."""
    raw = tracking_event.raw if isinstance(tracking_event.raw, dict) else {}
    data = raw.get("data") if isinstance(raw.get("data"), dict) else raw
    return data.get(key)


def _person(person: dict | None) -> dict[str, Any]:
    """A contact or driver in any shape Waybill receives (seed v2, seed v1, canonical
    ``name``/``phone`` text), as its parts."""
    person = person or {}
    phone = person.get("phone")
    if isinstance(phone, dict):
        calling = phone.get("countrycallingCode") or phone.get("countryPrefix") or ""
        national = phone.get("nationalNumber") or phone.get("number") or ""
        country = phone.get("countryCode") or ""
    else:
        calling, national, country = "", str(phone or ""), ""
    name = (
        person.get("preferredName")
        or person.get("firstName")
        or person.get("name")
        or person.get("fullName")
        or ""
    )
    return {
        "name": name,
        "fullName": person.get("fullName") or "",
        "calling": str(calling),
        "national": str(national),
        "country": str(country),
        "has_phone": bool(calling or national),
        "email": person.get("email"),
        "company": person.get("company"),
    }


def _contact_v2(contact: dict | None) -> dict[str, Any]:
    p = _person(contact)
    return {
        "preferredName": p["name"],
        "fullName": p["fullName"],
        "phone": {
            "countrycallingCode": p["calling"],
            "nationalNumber": p["national"],
            "countryCode": p["country"],
        },
        "email": p["email"],
        "company": p["company"],
    }


def _contact_v1(contact: dict | None) -> dict[str, Any] | None:
    if not contact:
        return None
    p = _person(contact)
    return {
        "firstName": p["name"] or None,
        "phone": (
            {"countryPrefix": p["calling"], "number": p["national"]} if p["has_phone"] else None
        ),
        "email": p["email"],
        "company": p["company"],
    }


def _executor(fact: Applied) -> dict[str, str]:
    """Who the driver works for: as reported, else the carrier that reported."""
    te = fact.tracking_event
    reported = te.executor or (te.driver or {}).get("executor") or {}
    if reported.get("id") or reported.get("name"):
        return {"id": str(reported.get("id") or ""), "name": str(reported.get("name") or "")}
    if fact.carrier is not None:
        return {"id": str(fact.carrier.id), "name": fact.carrier.name}
    return {"id": "", "name": ""}


def _driver_v2(fact: Applied) -> dict[str, Any]:
    return {
        **{k: v for k, v in _contact_v2(fact.tracking_event.driver).items() if k != "company"},
        "executor": _executor(fact),
    }


def _driver_v1(fact: Applied) -> dict[str, Any]:
    p = _person(fact.tracking_event.driver)
    return {
        "firstName": p["name"],
        "phone": {"countryPrefix": p["calling"], "number": p["national"]},
        "email": p["email"],
        "company": p["company"] if p["company"] is not None else _executor(fact)["name"],
    }


def _route_ref(fact: Applied) -> dict[str, Any]:
    """The own-fleet route the order is on; an order a carrier service carries is on none
    of Waybill's: an empty reference with the carrier as its executor."""
    if fact.route is not None:
        return route_reference(fact.route)
    executors = [str(fact.carrier.id)] if fact.carrier is not None else []
    return {"id": "", "slug": "", "reference": "", "tags": [], "executors": executors}


def _delivery_eta(fact: Applied) -> datetime:
    """The last ETA a carrier reported, else the route's, else the promised window's start,
    else the fact's own time (the payload needs one)."""
    order = fact.order
    stop_eta = fact.stop.eta if fact.stop is not None else None
    return (
        fact.eta_from
        or stop_eta
        or order.delivery_from
        or order.delivery_to
        or fact.tracking_event.time_of_event
    )


def _delivery_frame(fact: Applied) -> dict[str, str]:
    order, zone = fact.order, order_zone(fact.order, DELIVERY)
    start = order.delivery_from or fact.eta_from or _delivery_eta(fact)
    end = order.delivery_to or fact.eta_to or start
    return {"from": iso_local(start, zone), "to": iso_local(end, zone)}


def _deviation(fact: Applied) -> dict[str, Any]:
    deviation = fact.tracking_event.deviation or {}
    images = list(fact.tracking_event.images or deviation.get("imageIds") or [])
    return {
        "description": str(deviation.get("text") or deviation.get("code") or ""),
        "imageIds": [str(i) for i in images],
    }


def _time_of_event(fact: Applied) -> str:
    return iso_local(fact.tracking_event.time_of_event, fact.zone)


# --- Order* -------------------------------------------------------------------------------


def _order_event(fact: Applied, *, pickup: bool, deviation: bool) -> dict[str, Any]:
    order = fact.order
    data: dict[str, Any] = {
        "order": order_reference(order),
        "route": _route_ref(fact),
        "deliveryLocation": seed_location(order, DELIVERY),
    }
    if pickup:
        data["pickupLocation"] = seed_location(order, PICKUP)
    data["deliveryContact"] = _contact_v2(order.delivery_contact)
    data["pickupContact"] = _contact_v2(order.pickup_contact)
    data["driver"] = _driver_v2(fact)
    if deviation:
        data["deviation"] = _deviation(fact)
    if pickup:
        data["deliveryEta"] = iso_local(_delivery_eta(fact), order_zone(order, DELIVERY))
        data["deliveryTimeFrame"] = _delivery_frame(fact)
    data["correlationId"] = ""
    data["timeOfEvent"] = _time_of_event(fact)
    return data


def order_pickup_arrived_v2(*, fact: Applied) -> dict:
    return _order_event(fact, pickup=True, deviation=False)


def order_pickup_completed_v2(*, fact: Applied) -> dict:
    return _order_event(fact, pickup=True, deviation=False)


def order_pickup_failed_v1(*, fact: Applied) -> dict:
    return _order_event(fact, pickup=True, deviation=True)


def order_delivery_arrived_v2(*, fact: Applied) -> dict:
    return _order_event(fact, pickup=False, deviation=False)


def order_delivery_completed_v1(*, fact: Applied) -> dict:
    return _order_event(fact, pickup=False, deviation=False)


def order_delivery_failed_v1(*, fact: Applied) -> dict:
    return _order_event(fact, pickup=False, deviation=True)


def order_return_completed_v1(*, fact: Applied) -> dict:
    """The goods are back at the pickup location: its name and position (the reported
    position when the carrier sent one)."""
    order, te = fact.order, fact.tracking_event
    pickup = seed_location(order, PICKUP)
    position = (
        {"latitude": te.latitude, "longitude": te.longitude}
        if te.latitude is not None and te.longitude is not None
        else pickup["position"]
    )
    sender = order.pickup_contact or {}
    return {
        "orderId": order.creator_order_id,  # the seed's: the shipper's own order id
        "orderTags": list(order.tags),
        "routeReference": fact.route.reference if fact.route is not None else "",
        "pickupContact": _contact_v2(order.pickup_contact),
        "deliveryContact": _contact_v2(order.delivery_contact),
        "deliveryLocation": {
            "name": sender.get("company") or pickup["address"]["primary"],
            "position": position,
        },
        "timeOfEvent": _time_of_event(fact),
    }


def order_geo_location_failed_v1(
    *, order, time_of_event: datetime, reason: str = "", kind: str = DELIVERY
) -> dict:
    """Builder args: ``order``, ``time_of_event`` (aware), ``reason`` (the geocoder's text:
    for the dispatchers and the log, the seed's payload has no key for it) and ``kind``, the
    location that failed (``"delivery"`` by default, or ``"pickup"``); its times are in that
    location's zone, so pass ``time_zone=order_zone(order, kind)`` to ``event_build``."""
    return {
        "order": order_reference(order),
        "location": seed_location(order, kind),
        "correlationId": "",
        "timeOfEvent": iso_local(time_of_event, order_zone(order, kind)),
    }


# --- Collo* -------------------------------------------------------------------------------


def _collo_head(fact: Applied) -> dict[str, Any]:
    order, collo = fact.order, fact.collo
    return {
        "colloId": str(collo.id),
        "barcode": collo.barcode,
        "colloTags": list(collo.tags),
        "internalOrderId": str(order.id),
        "ownerId": str(order.shipper_id),
        "ownerOrderId": order.creator_order_id,
        "timeOfEvent": _time_of_event(fact),
        "orderTags": list(order.tags),
    }


def collo_pickup_completed_v1(*, fact: Applied) -> dict:
    order = fact.order
    return {
        **_collo_head(fact),
        "route": _route_ref(fact),
        "driver": _driver_v1(fact),
        "pickupLocation": seed_location(order, PICKUP),
        "deliveryLocation": seed_location(order, DELIVERY),
        "deliveryTimeFrame": _delivery_frame(fact),
        "deliveryEta": iso_local(_delivery_eta(fact), order_zone(order, DELIVERY)),
        "pickupContact": _contact_v1(order.pickup_contact),
        "deliveryContact": _contact_v1(order.delivery_contact) or _contact_v1({"name": ""}),
    }


def collo_delivery_arrived_v1(*, fact: Applied) -> dict:
    order = fact.order
    return {
        **_collo_head(fact),
        "route": _route_ref(fact),
        "driver": _driver_v1(fact),
        "deliveryTimeFrame": _delivery_frame(fact),
        "deliveryLocation": seed_location(order, DELIVERY),
        "pickupContact": _contact_v1(order.pickup_contact),
        "deliveryContact": _contact_v1(order.delivery_contact) or _contact_v1({"name": ""}),
    }


def collo_delivery_completed_v1(*, fact: Applied) -> dict:
    order, route = fact.order, _route_ref(fact)
    return {
        **_collo_head(fact),
        "routeReference": route["reference"],
        "routeId": route["id"],
        "routeSlug": route["slug"],
        "routeTags": route["tags"],
        "fulfillerId": _executor(fact)["id"],
        "driver": _driver_v1(fact),
        "deliveryLocation": seed_location(order, DELIVERY),
        "pickupContact": _contact_v1(order.pickup_contact),
        "deliveryContact": _contact_v1(order.delivery_contact) or _contact_v1({"name": ""}),
    }


def collo_delivery_failed_v1(*, fact: Applied) -> dict:
    order = fact.order
    deviation = fact.tracking_event.deviation or {}
    return {
        **_collo_head(fact),
        "route": _route_ref(fact),
        "driver": _driver_v1(fact),
        "deliveryLocation": seed_location(order, DELIVERY),
        "deliveryContact": _contact_v1(order.delivery_contact) or _contact_v1({"name": ""}),
        "reasonId": str(deviation.get("code") or ""),
        "reason": str(deviation.get("text") or ""),
    }


def collo_loaded_on_linehaul_v1(*, fact: Applied) -> dict:
    """Loaded where the carrier took the goods over: the pickup location, at the position
    reported when there is one. The linehaul is the route when Waybill knows it, else the
    carrier's own id for it as reported."""
    order, collo, te = fact.order, fact.collo, fact.tracking_event
    pickup = seed_location(order, PICKUP)
    position = (
        {"latitude": te.latitude, "longitude": te.longitude}
        if te.latitude is not None and te.longitude is not None
        else pickup["position"]
    )
    linehaul = str(fact.route.id) if fact.route is not None else _reported(te, "LinehaulId")
    return {
        "LinehaulId": str(linehaul or te.id),
        "OwnerId": str(order.shipper_id),
        "Collo": {
            "Barcode": collo.barcode,
            "OrderId": order.creator_order_id,
            "OrderOwnerId": str(order.shipper_id),
            "Status": LINEHAUL_LOADED,
            "Location": {
                "Address": {
                    "Primary": pickup["address"]["primary"],
                    "Secondary": pickup["address"]["secondary"],
                },
                "Position": {
                    "Latitude": position["latitude"],
                    "Longitude": position["longitude"],
                },
                "TimeZone": pickup["timeZone"],
            },
            "OrderTags": list(order.tags),
            "ActionBy": _executor(fact)["id"],
            "Deviation": None,
        },
        "TimeOfEvent": _time_of_event(fact),
    }


# --- CollectionPoint* ---------------------------------------------------------------------


def _collection_point(fact: Applied) -> dict[str, Any]:
    """A collection point is the order's delivery location (Waybill has no registry of
    them): its id as the carrier reported it, else the executor's."""
    order, collo, te = fact.order, fact.collo, fact.tracking_event
    delivery = seed_location(order, DELIVERY)
    address = delivery["address"]
    primary = ", ".join(p for p in (address["primary"], address["secondary"]) if p)
    return {
        "collectionPointId": str(_reported(te, "collectionPointId") or _executor(fact)["id"]),
        "collo": {"id": str(collo.id), "barcode": collo.barcode, "tags": list(collo.tags)},
        "order": order_reference(order),
        "location": {
            "address": {"primary": primary},
            "position": delivery["position"],
            "timeZone": delivery["timeZone"],
        },
    }


def _action_by(fact: Applied) -> str:
    driver = fact.tracking_event.driver or {}
    return str(driver.get("id") or _executor(fact)["id"])


def _signature(fact: Applied) -> dict[str, str]:
    """The POD's signature when the carrier uploaded one, else what the event reported."""
    te, zone = fact.tracking_event, order_zone(fact.order, DELIVERY)
    pod = fact.pod
    reported = _reported(te, "signature") or {}
    image = next((str(i.id) for i in fact.pod_images if i.kind == "signature"), None)
    image = image or reported.get("imageId") or next(iter(te.images or []), "")
    name = (pod.signed_by if pod is not None else "") or reported.get("name") or ""
    signed_at = pod.signed_at if pod is not None and pod.signed_at else te.time_of_event
    return {"imageId": str(image), "name": str(name), "date": iso_local(signed_at, zone)}


def collection_point_collo_collected_v1(*, fact: Applied) -> dict:
    point = _collection_point(fact)
    method = _reported(fact.tracking_event, "colloValidationMethod")
    return {
        "collectionPointId": point["collectionPointId"],
        "collo": point["collo"],
        "order": point["order"],
        "location": point["location"],
        "signature": _signature(fact),
        "actionById": _action_by(fact),
        "colloValidationMethod": str(method or "scanned"),
        "timeOfEvent": _time_of_event(fact),
        "correlationId": "",
    }


def _collection_point_deviation(fact: Applied) -> dict:
    point = _collection_point(fact)
    return {
        "collo": point["collo"],
        "collectionPointId": point["collectionPointId"],
        "order": point["order"],
        "location": point["location"],
        "deviation": _deviation(fact),
        "actionById": _action_by(fact),
        "timeOfEvent": _time_of_event(fact),
        "correlationId": "",
    }


def collection_point_collo_not_collected_v1(*, fact: Applied) -> dict:
    return _collection_point_deviation(fact)


def collection_point_collo_rejected_v1(*, fact: Applied) -> dict:
    return _collection_point_deviation(fact)


# --- RouteCompleted -----------------------------------------------------------------------


def route_completed_v1(*, route, orders: list, time_of_event: datetime) -> dict:
    """``orders`` the receiving shipper's on the route (other shippers' are not named).
    An actual figure the platform did not report is worked out from what is known: the end
    is the completion, the start the planned one, the distance the estimate's."""
    zone = route_zone(route)
    actual_start = route.actual_start_time or route.start_time
    actual_end = route.actual_end_time or time_of_event
    duration = route.actual_duration
    if duration is None:
        duration = max((actual_end - actual_start).total_seconds(), 0.0)
    distance = route.actual_distance_km
    return {
        "route": route_reference(route),
        "orders": [order_reference(o) for o in orders],
        "estimate": {
            "duration": float(route.duration),
            "distance": float(route.distance_km),
            "startTime": iso_local(route.start_time, zone),
            "endTime": iso_local(route.end_time, zone),
        },
        "actual": {
            "duration": float(duration),
            "distance": float(route.distance_km if distance is None else distance),
            "startTime": iso_local(actual_start, zone),
            "endTime": iso_local(actual_end, zone),
        },
        "correlationId": "",
        "timeOfEvent": iso_local(time_of_event, zone),
    }


BUILDERS = {
    E.ORDER_PICKUP_ARRIVED: {"2.0": order_pickup_arrived_v2},
    E.ORDER_PICKUP_COMPLETED: {"2.0": order_pickup_completed_v2},
    E.ORDER_PICKUP_FAILED: {"1.0": order_pickup_failed_v1},
    E.ORDER_DELIVERY_ARRIVED: {"2.0": order_delivery_arrived_v2},
    E.ORDER_DELIVERY_COMPLETED: {"1.0": order_delivery_completed_v1},
    E.ORDER_DELIVERY_FAILED: {"1.0": order_delivery_failed_v1},
    E.ORDER_RETURN_COMPLETED: {"1.0": order_return_completed_v1},
    E.ORDER_GEO_LOCATION_FAILED: {"1.0": order_geo_location_failed_v1},
    E.COLLO_PICKUP_COMPLETED: {"1.0": collo_pickup_completed_v1},
    E.COLLO_LOADED_ON_LINEHAUL: {"1.0": collo_loaded_on_linehaul_v1},
    E.COLLO_DELIVERY_ARRIVED: {"1.0": collo_delivery_arrived_v1},
    E.COLLO_DELIVERY_COMPLETED: {"1.0": collo_delivery_completed_v1},
    E.COLLO_DELIVERY_FAILED: {"1.0": collo_delivery_failed_v1},
    E.COLLECTION_POINT_COLLO_COLLECTED: {"1.0": collection_point_collo_collected_v1},
    E.COLLECTION_POINT_COLLO_NOT_COLLECTED: {"1.0": collection_point_collo_not_collected_v1},
    E.COLLECTION_POINT_COLLO_REJECTED: {"1.0": collection_point_collo_rejected_v1},
    E.ROUTE_COMPLETED: {"1.0": route_completed_v1},
}
for _name, _builders in BUILDERS.items():
    builders_attach(_name, _builders)


# --- which events an applied fact sends ---------------------------------------------------


def seed_events_for(*, tracking_event, known=None) -> list[PendingEvent]:
    """The outgoing events of one applied ``TrackingEvent``, built from Waybill's state (the
    order, collo, route as they are after the fact), in the seed's shape; call it after the
    statuses moved and append them in the same transaction. ``known``, a
    ``tracking.selectors.TimelineState`` holding the event's order, saves reading its stops
    and last ETA again (the event's ``order`` is then taken as loaded, with its shipper).

    - An order fact: its event to the order's shipper.
    - A collo fact: its event for the collo, or for each of the order's collis when the fact
      named the order only.
    - ``RouteCompleted``: one per shipper (and mode) with orders on the route, naming only
      that shipper's orders.
    - ``EtaUpdated``: none. Seed 004 has no event for a new ETA window (its SMS notification
      with an ETA trigger is issue 15's); the window shows in the tracking API and page, and
      in the next event carrying a ``deliveryEta``.
    """
    kind = tracking_event.type
    if kind == ETA_UPDATED:
        return []
    if kind in ROUTE_FACTS:
        return _route_events(tracking_event)
    if kind not in ORDER_FACTS | COLLO_FACTS or tracking_event.order_id is None:
        return []
    facts = _applied_load(tracking_event, with_eta=kind in _NEEDS_ETA, known=known)
    events = []
    for fact in facts:
        target = order_event_target(fact.order)
        if fact.collo is not None:
            target.update(
                entity_type="COLLO", entity_id=fact.collo.id, entity_ref=fact.collo.barcode
            )
        events.append(
            event_build(
                type=kind,  # a name of the catalogue
                carrier=fact.carrier,
                time_zone=fact.zone,
                fact=fact,
                **target,
            )
        )
    return events


def _route_events(tracking_event) -> list[PendingEvent]:
    route = _route_load(tracking_event.route_id)
    if route is None:
        return []
    carrier = tracking_event.carrier
    by_shipper: dict[tuple, list] = {}
    seen = set()
    for stop in route.stops.all():
        order = stop.order
        if order.id not in seen:
            seen.add(order.id)
            by_shipper.setdefault((order.shipper_id, order.live_mode), []).append(order)
    return [
        event_build(
            type=EventName.ROUTE_COMPLETED,
            live_mode=live_mode,
            shipper=orders[0].shipper,
            carrier=carrier,
            entity_type="ROUTE",
            entity_id=route.id,
            entity_ref=route.slug,
            root_entity_type="ROUTE",
            root_entity_id=route.id,
            root_entity_ref=route.slug,
            time_zone=route_zone(route),
            route=route,
            orders=orders,
            time_of_event=tracking_event.time_of_event,
        )
        for (_shipper_id, live_mode), orders in by_shipper.items()
    ]


# --- loading what the builders read (they run no query) ------------------------------------


def _route_load(route_id):
    if route_id is None:
        return None
    stops = Stop.objects.select_related("order__shipper").order_by("sequence")
    return (
        Route.objects.select_related("vehicle_group__depot")
        .prefetch_related(Prefetch("stops", queryset=stops))
        .filter(id=route_id)
        .first()
    )


def _applied_load(tracking_event, *, with_eta: bool, known=None) -> list[Applied]:
    """One ``Applied`` per event to build: the collo's, or each of the order's collis for a
    collo fact that named only the order, or the order's."""
    if known is not None:
        order = tracking_event.order
        stop = known.latest_stop(order.id)
    else:
        order = Order.objects.select_related("shipper").get(id=tracking_event.order_id)
        # The stop of the order's latest route; the fact's own route when it named another.
        stop = (
            Stop.objects.select_related("route__vehicle_group__depot")
            .filter(order=order)
            .order_by("-route__created_at")
            .first()
        )
    route = stop.route if stop is not None else None
    if tracking_event.route_id is not None and tracking_event.route_id != getattr(
        route, "id", None
    ):
        route = (
            Route.objects.select_related("vehicle_group__depot")
            .filter(id=tracking_event.route_id)
            .first()
        )
        stop = None
    fact = Applied(
        tracking_event=tracking_event,
        order=order,
        route=route,
        stop=stop,
        carrier=tracking_event.carrier,  # loaded here, not in the builder
    )
    if with_eta and known is not None:
        fact.eta_from, fact.eta_to = known.last_eta(order.id)
    elif with_eta:
        fact.eta_from, fact.eta_to = (
            TrackingEvent.objects.filter(order=order, eta_from__isnull=False)
            .order_by("-time_of_event", "-received_at")
            .values_list("eta_from", "eta_to")
            .first()
        ) or (None, None)
    if tracking_event.type == EventName.COLLECTION_POINT_COLLO_COLLECTED:
        fact.pod = ProofOfDelivery.objects.filter(order=order).first()
        fact.pod_images = tuple(fact.pod.images.all()) if fact.pod is not None else ()
    if tracking_event.type not in COLLO_FACTS:
        return [fact]
    collis = [tracking_event.collo] if tracking_event.collo_id else list(order.collis.all())
    return [replace(fact, collo=collo) for collo in collis]
