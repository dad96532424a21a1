"""Geocoding orders sent without a position, off the request path.

An order whose pickup or delivery position is missing or (0, 0) is looked up by a
``Geocoder`` in a task queued after the commit that created the order or changed its address
(``geocoding_request``). A position found is stored and the order planned again; an address
that has no match, or a service that keeps failing, flags the order for dispatchers
(``Order.geo_location_failed_at``, the admin's "Geocoding failed" filter) and sends
``OrderGeoLocationFailed`` to the shipper's subscribers.

``settings.GEOCODER_URL`` names a Nominatim-compatible service; empty means no geocoding.
``settings.GEOCODER_BACKEND`` is the class used, any ``Geocoder``.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

import requests
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.module_loading import import_string

from carriers.services import planning_request
from config.outbound import UnsafeTarget, outbound_session
from config.queue import enqueue
from config.sweeping import queue_room, rows_take
from config.times import DELIVERY, PICKUP, order_zone
from orders.events import order_event_target
from orders.models import PLANNABLE, Order, OrderHistory
from webhooks.catalogue import EventName
from webhooks.services import event_build, events_append

logger = logging.getLogger(__name__)

# The order document's keys whose change may leave a place without a position.
LOCATION_KEYS = {"pickupLocation": PICKUP, "deliveryLocation": DELIVERY}
# What one sweep may queue, and the most geocoding messages it lets wait in the queue.
GEOCODING_SWEEP_LIMIT = 1_000
GEOCODING_SWEEP_QUEUE_CEILING = 50
GEOCODING_ACTOR = "geocoder"


class GeocoderUnavailable(Exception):
    """The service gave no usable answer this time (network, 5xx, 429, garbage): try again."""


class GeocodingRefused(Exception):
    """The service refused the query itself (a 4xx): asking again will not help."""


@dataclass(frozen=True)
class GeoQuery:
    primary: str
    secondary: str
    postal_code: str
    country_code: str  # ISO 3166-1 alpha-2, or empty

    def text(self) -> str:
        parts = [self.primary, self.secondary]
        # The secondary line usually holds the postcode already ("2300 København").
        if self.postal_code and self.postal_code not in self.secondary:
            parts.append(self.postal_code)
        return ", ".join(part.strip() for part in parts if part and part.strip())


class Geocoder(Protocol):
    def geocode(self, query: GeoQuery) -> tuple[float, float] | None:
        """(latitude, longitude) of the best match, or None when nothing matches.

        Raises ``GeocoderUnavailable`` (worth retrying) or ``GeocodingRefused`` (not)."""
        ...


class NominatimGeocoder:
    """A Nominatim-compatible ``/search`` (Nominatim, Photon's Nominatim API, LocationIQ, …).

    The free-form query is the address lines and postcode, narrowed to the order's country:
    the structured form needs a city, which Waybill's two address lines do not name apart.
    """

    def __init__(self, url: str, *, user_agent: str, timeout_s: float = 5.0) -> None:
        self.search_url = url.rstrip("/") + "/search"
        self.timeout_s = float(timeout_s)
        self._session = outbound_session()
        self._session.headers.update({"User-Agent": user_agent, "Accept": "application/json"})

    def geocode(self, query: GeoQuery) -> tuple[float, float] | None:
        params = {"format": "jsonv2", "limit": "1", "addressdetails": "0", "q": query.text()}
        if query.country_code:
            params["countrycodes"] = query.country_code.lower()
        try:
            response = self._session.get(
                self.search_url, params=params, timeout=self.timeout_s, allow_redirects=False
            )
        except UnsafeTarget as exc:
            raise GeocoderUnavailable(f"Refusing to call the geocoder: {exc}") from exc
        except requests.RequestException as exc:
            raise GeocoderUnavailable(
                f"The geocoder could not be reached: {type(exc).__name__}."
            ) from exc
        if response.status_code == 429 or response.status_code >= 500:
            raise GeocoderUnavailable(f"The geocoder answered HTTP {response.status_code}.")
        if response.status_code != 200:
            raise GeocodingRefused(f"The geocoder answered HTTP {response.status_code}.")
        return _first_position(response)


def _first_position(response: requests.Response) -> tuple[float, float] | None:
    try:
        body = response.json()
    except ValueError:
        raise GeocoderUnavailable("The geocoder answered something other than JSON.") from None
    if not isinstance(body, list):
        raise GeocoderUnavailable("The geocoder answered something other than a list of places.")
    if not body:
        return None
    try:
        latitude, longitude = float(body[0]["lat"]), float(body[0]["lon"])
    except (TypeError, KeyError, ValueError):
        raise GeocoderUnavailable("The geocoder's first place has no lat/lon numbers.") from None
    if not (
        math.isfinite(latitude)
        and math.isfinite(longitude)
        and -90 <= latitude <= 90
        and -180 <= longitude <= 180
    ):
        raise GeocoderUnavailable("The geocoder's first place lies outside the globe.")
    return latitude, longitude


def geocoder_configured() -> Geocoder | None:
    """The configured geocoder, or None when ``GEOCODER_URL`` is empty: then nothing is geocoded."""
    if not settings.GEOCODER_URL:
        return None
    backend = import_string(settings.GEOCODER_BACKEND)
    return backend(
        settings.GEOCODER_URL,
        user_agent=settings.GEOCODER_USER_AGENT,
        timeout_s=settings.GEOCODER_TIMEOUT_S,
    )


# --- which orders, and queueing -----------------------------------------------------------


def position_missing(order: Order, kind: str) -> bool:
    latitude = getattr(order, f"{kind}_latitude")
    longitude = getattr(order, f"{kind}_longitude")
    # (0, 0) is in the Gulf of Guinea: what a client sends when it has no position.
    return latitude is None or longitude is None or (latitude == 0 and longitude == 0)


def places_to_geocode(order: Order) -> list[str]:
    return [kind for kind in (PICKUP, DELIVERY) if position_missing(order, kind)]


def _query(order: Order, kind: str) -> GeoQuery:
    return GeoQuery(
        primary=getattr(order, f"{kind}_address_primary"),
        secondary=getattr(order, f"{kind}_address_secondary"),
        postal_code=getattr(order, f"{kind}_postal_code"),
        country_code=getattr(order, f"{kind}_country_code"),
    )


def geocoding_request(*, orders: Iterable[Order], changed: Iterable[str] | None = None) -> None:
    """Ask for geocoding of the orders that lack a position: flagged and stamped in the
    caller's transaction, queued after its commit (a refused publish clears the stamp, and the
    sweeper queues the order again).

    ``changed`` is None for new orders, else the document keys an update changed: only a
    changed location asks again. A location now sent with its position clears the flags.
    """
    if not settings.GEOCODER_URL:
        return
    if changed is not None and LOCATION_KEYS.keys().isdisjoint(changed):
        return
    asking, settled = [], []
    for order in orders:
        (asking if places_to_geocode(order) else settled).append(order.id)
    if settled:
        Order.objects.filter(id__in=settled).filter(
            Q(needs_geocoding=True) | Q(geo_location_failed_at__isnull=False)
        ).update(needs_geocoding=False, geocoding_queued_at=None, geo_location_failed_at=None)
    if asking:
        Order.objects.filter(id__in=asking).update(
            needs_geocoding=True, geocoding_queued_at=timezone.now()
        )
        ids = [str(i) for i in asking]
        transaction.on_commit(lambda: _geocoding_queue(ids))


def _geocoding_queue(order_ids: list[str]) -> None:
    from orders.tasks import order_geocode as order_geocode_task

    for order_id in order_ids:
        enqueue(
            order_geocode_task,
            order_id,
            on_failure=lambda order_id=order_id: Order.objects.filter(id=order_id).update(
                geocoding_queued_at=None
            ),
        )


def geocoding_sweep(*, now=None, limit: int = GEOCODING_SWEEP_LIMIT) -> int:
    """Queue geocoding for orders that ask for it and are lost: no task out for them, or their
    task waited past ``GEOCODING_QUEUE_LEASE`` (longer than its retries take). Returns how
    many were queued."""
    from orders.tasks import order_geocode as order_geocode_task

    if not settings.GEOCODER_URL:
        return 0
    room = queue_room(order_geocode_task, ceiling=GEOCODING_SWEEP_QUEUE_CEILING)
    if not room:
        return 0
    now = now or timezone.now()
    asking = Order.objects.filter(needs_geocoding=True)
    lost = [
        asking.filter(geocoding_queued_at__isnull=True).order_by("updated_at"),
        asking.filter(geocoding_queued_at__lt=now - settings.GEOCODING_QUEUE_LEASE).order_by(
            "geocoding_queued_at"
        ),
    ]
    with transaction.atomic():
        ids = rows_take(lost, limit=min(limit, room), stamp={"geocoding_queued_at": now})
        transaction.on_commit(lambda: _geocoding_queue([str(i) for i in ids]))
    if ids:
        logger.info("Geocoding sweeper queued %d orders.", len(ids))
    return len(ids)


# --- the lookup ---------------------------------------------------------------------------


def order_geocode(
    *, order_id: str, last_attempt: bool = True, geocoder: Geocoder | None = None
) -> str:
    """Look up the order's missing positions and store them, or flag the order; returns what
    happened. Before the last attempt, a service that is unavailable raises
    ``GeocoderUnavailable`` (after storing what was found) so the task tries again."""
    geocoder = geocoder or geocoder_configured()
    if geocoder is None:
        return "no geocoder configured"
    order = Order.objects.filter(id=order_id).first()
    if order is None:
        return "the order is gone"
    found: dict[str, tuple[GeoQuery, tuple[float, float]]] = {}
    failures: dict[str, str] = {}  # by the kind of place that failed
    unavailable: GeocoderUnavailable | None = None
    for kind in places_to_geocode(order):
        query = _query(order, kind)
        try:
            position = geocoder.geocode(query)
        except GeocoderUnavailable as exc:
            unavailable = exc
            failures[kind] = f"The {kind} address could not be geocoded: {exc}"
            continue
        except GeocodingRefused as exc:
            failures[kind] = f"The {kind} address could not be geocoded: {exc}"
            continue
        if position is None:
            failures[kind] = f"The {kind} address '{query.text()}' matches no place."
        else:
            found[kind] = (query, position)
    if unavailable is not None and not last_attempt:
        _geocoding_store(order_id=order_id, found=found, failures={})
        raise unavailable
    return _geocoding_store(order_id=order_id, found=found, failures=failures)


@transaction.atomic
def _geocoding_store(
    *,
    order_id: str,
    found: dict[str, tuple[GeoQuery, tuple[float, float]]],
    failures: dict[str, str],
) -> str:
    order = Order.objects.select_for_update().select_related("shipper").get(id=order_id)
    now = timezone.now()
    stored = {}
    for kind, (query, (latitude, longitude)) in found.items():
        # The shipper may have moved the place or sent its position meanwhile.
        if _query(order, kind) == query and position_missing(order, kind):
            setattr(order, f"{kind}_latitude", latitude)
            setattr(order, f"{kind}_longitude", longitude)
            stored[kind] = [latitude, longitude]
    if not stored and not failures:
        return "nothing stored: the order changed meanwhile"
    order.geo_location_failed_at = now if failures else None
    # Done unless a place still lacks its position while the task retries the service.
    order.needs_geocoding = not failures and bool(places_to_geocode(order))
    if not order.needs_geocoding:
        order.geocoding_queued_at = None
    replan = bool(stored) and order.status in PLANNABLE
    if replan:
        order.needs_planning, order.planning_queued_at = True, now
    order.save()
    if stored:
        OrderHistory.objects.create(
            order=order, actor=GEOCODING_ACTOR, action="geocoded", changes=stored
        )
    if replan:
        planning_request(order_ids=[order.id])
    if failures:
        _geocoding_failed(order, failures=failures, now=now)
        return "failed: " + " ".join(failures.values())
    return "geocoded: " + ", ".join(sorted(stored))


def _geocoding_failed(order: Order, *, failures: dict[str, str], now) -> None:
    """One history row, and one OrderGeoLocationFailed per place that found no position."""
    note = " ".join(failures.values())[:500]
    OrderHistory.objects.create(
        order=order, actor=GEOCODING_ACTOR, action="geocoding failed", note=note
    )
    events_append(
        events=[
            event_build(
                type=EventName.ORDER_GEO_LOCATION_FAILED,
                order=order,
                time_of_event=now,
                reason=reason,
                kind=kind,
                time_zone=order_zone(order, kind),
                **order_event_target(order),
            )
            for kind, reason in failures.items()
        ]
    )
