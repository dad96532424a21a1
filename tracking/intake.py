"""What a carrier posts, read into ``CarrierFact``s: a seed 004 envelope exactly as a
last-mile platform sends it, or Waybill's compact canonical event.

Plain Python (no DRF): every problem is an ``InvalidInput`` naming the field by its path in
the item (``data.timeOfEvent``), a reference to no order the carrier carries a ``NotFound``
naming it. A seed envelope is read leniently (platforms add fields), the canonical form
strictly (a misspelt field is an error).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import orjson

from carriers.models import Carrier
from config.errors import Conflict, InvalidInput, NotFound, WaybillError
from tracking import selectors
from tracking.facts import (
    COLLO_FACTS,
    ETA_UPDATED,
    FACT_TYPES,
    ROUTE_FACTS,
    CarrierFact,
    FactSource,
)
from webhooks.catalogue import EventName

# Times are ISO 8601 with a UTC offset (or Z); a platform's 7-digit fractions are fine.
_TIMESTAMP = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})?$", re.ASCII
)
# As the API's other times (config.api.fields.ACCEPTED_DATES): far from Python's edges.
ACCEPTED_DATES = (date(1970, 1, 1), date(2200, 12, 31))
MAX_ID_LENGTH = 200
MAX_REFERENCE_LENGTH = 100
MAX_IMAGES = 50
# One item as stored in the timeline (``raw``); a batch is bounded by the body limit.
MAX_ITEM_BYTES = 64_000
CANONICAL_FIELDS = frozenset(
    {
        "id",
        "type",
        "orderId",
        "barcode",
        "timeOfEvent",
        "position",
        "driver",
        "executor",
        "deviation",
        "images",
        "eta",
        "routeId",
        "actual",
    }
)
SEED_ENVELOPE_FIELDS = frozenset({"id", "type", "version", "liveMode", "dateTime", "data"})
PICKUP_FACTS = frozenset(
    {
        EventName.ORDER_PICKUP_ARRIVED,
        EventName.ORDER_PICKUP_COMPLETED,
        EventName.ORDER_PICKUP_FAILED,
        EventName.COLLO_PICKUP_COMPLETED,
        EventName.COLLO_LOADED_ON_LINEHAUL,
    }
)


@dataclass
class _Reader:
    """Reads values out of one item, collecting every problem before any is raised."""

    item: dict
    errors: list[dict[str, str]] = field(default_factory=list)

    def fail(self, path: str, message: str, code: str = "invalid") -> None:
        self.errors.append({"field": path, "code": code, "message": message})

    def get(self, path: str) -> Any:
        if "." not in path:
            return self.item.get(path)
        value: Any = self.item
        for part in path.split("."):
            if not isinstance(value, dict):
                return None
            value = value.get(part)
        return value

    def text(self, path: str, *, required: bool = False, limit: int = MAX_REFERENCE_LENGTH):
        value = self.get(path)
        if value is None or value == "":
            if required:
                self.fail(path, "This field is required.", "required")
            return ""
        if not isinstance(value, str):
            self.fail(path, f"Must be a string, not {_json_type(value)}.")
            return ""
        if len(value) > limit:
            self.fail(path, f"At most {limit} characters.", "max_length")
            return ""
        return value.strip()

    def time(self, path: str, *, required: bool = False) -> datetime | None:
        value = self.get(path)
        if value is None:
            if required:
                self.fail(path, "This field is required.", "required")
            return None
        problem, parsed = timestamp_parse(value)
        if problem:
            self.fail(path, problem, "invalid_datetime")
        return parsed

    def mapping(self, path: str) -> dict:
        value = self.get(path)
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.fail(path, f"Must be an object, not {_json_type(value)}.")
            return {}
        return plain(value)

    def number(self, path: str, low: float | None = None, high: float | None = None):
        value = self.get(path)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
            self.fail(path, f"Must be a number, not {_json_type(value)}.")
            return None
        if (low is not None and value < low) or (high is not None and value > high):
            self.fail(path, f"Must be between {low} and {high}.", "out_of_range")
            return None
        return float(value)


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float | Decimal):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "a list" if isinstance(value, list) else "an object"


def plain(value: Any) -> Any:
    """JSON types only: the parser reads numbers as Decimal, the timeline stores JSON."""
    if type(value) is str or value is None:  # most of an item, answered first
        return value
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def _json_size(value: Any) -> int:
    """The bytes of ``value`` as compact JSON (orjson's, several times faster)."""
    try:
        return len(orjson.dumps(value))
    except TypeError:  # an integer beyond 64 bits, say
        return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())


def timestamp_parse(value: Any) -> tuple[str, datetime | None]:
    """(problem, time): an aware ISO 8601 time within ``ACCEPTED_DATES``, or why not."""
    if not isinstance(value, str):
        return f"Must be a date and time string, not {_json_type(value)}.", None
    example = "e.g. 2022-01-03T17:52:01+01:00"
    if not _TIMESTAMP.match(value):
        return f"'{value[:40]}' is not an ISO 8601 date and time ({example}).", None
    if not re.search(r"(Z|[+-]\d{2}:\d{2})$", value):
        return f"'{value}' has no UTC offset ({example}).", None
    head, _, fraction = value.partition(".")
    if fraction:  # Python reads at most 6 digits of a second
        digits = re.match(r"\d+", fraction).group(0)
        value = f"{head}.{digits[:6]}{fraction[len(digits) :]}"
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        return f"'{value}' is not a valid date and time: {exc}.", None
    if not ACCEPTED_DATES[0] <= parsed.date() <= ACCEPTED_DATES[1]:
        return (
            f"Must be between {ACCEPTED_DATES[0].isoformat()} and {ACCEPTED_DATES[1].isoformat()}.",
            None,
        )
    return "", parsed


def is_seed_envelope(item: Any) -> bool:
    """A seed 004 envelope carries its fact under ``data``; the canonical form is flat."""
    return isinstance(item, dict) and "data" in item


def intake_item_parse(*, carrier: Carrier, live_mode: bool, item: Any) -> CarrierFact:
    """One posted item as a fact, its order (collo, route) resolved among what ``carrier``
    carries in ``live_mode``. Raises InvalidInput, NotFound or Conflict."""
    [parsed] = intake_items_parse(carrier=carrier, live_mode=live_mode, items=[item])
    if isinstance(parsed, WaybillError):
        raise parsed
    return parsed


def intake_items_parse(
    *, carrier: Carrier, live_mode: bool, items: list
) -> list[CarrierFact | WaybillError]:
    """Each posted item as a fact (``intake_item_parse``), or the error that refuses it; the
    orders named by Waybill id are looked up together."""
    read = intake_items_read(items)
    known = selectors.carried_orders_by_id(
        carrier=carrier, live_mode=live_mode, order_ids=waybill_order_ids(read)
    )
    return intake_items_resolve(read, carrier=carrier, live_mode=live_mode, known=known)


# An item read but not resolved yet: its fact and what reads the rest of it, or its error.
ReadItem = tuple[CarrierFact, "_Reader"] | WaybillError


def intake_items_read(items: list) -> list[ReadItem]:
    """The first step of ``intake_items_parse``, with no query: each item checked and read
    into a fact whose order, collo and route are still to be found."""
    read: list[ReadItem] = []
    for item in items:
        try:
            read.append(_item_read(item))
        except WaybillError as exc:
            read.append(exc)
    return read


def waybill_order_ids(read: list[ReadItem]) -> set:
    """The Waybill order ids the items name (a reference may also be a creatorOrderId that
    only looks like one)."""
    return {
        selectors.as_uuid(value)
        for entry in read
        if not isinstance(entry, WaybillError)
        for _, value, kind in _named(*entry)
        if kind == "order"
    } - {None}


def reported_event_ids(read: list[ReadItem]) -> set[str]:
    return {e[0].external_id for e in read if not isinstance(e, WaybillError) and e[0].external_id}


def intake_items_resolve(
    read: list[ReadItem], *, carrier: Carrier, live_mode: bool, known: dict
) -> list[CarrierFact | WaybillError]:
    """The last step of ``intake_items_parse``: each fact's order (collo, route) found among
    what ``carrier`` carries, ``known`` holding the carried orders its Waybill ids name."""
    parsed: list[CarrierFact | WaybillError] = []
    for entry in read:
        if isinstance(entry, WaybillError):
            parsed.append(entry)
            continue
        try:
            _resolve(*entry, carrier=carrier, live_mode=live_mode, known=known)
            parsed.append(entry[0])
        except WaybillError as exc:
            parsed.append(exc)
    return parsed


def _item_read(item: Any) -> tuple[CarrierFact, _Reader]:
    if not isinstance(item, dict):
        raise InvalidInput.for_field("body", f"An event is an object, not {_json_type(item)}.")
    raw = plain(item)
    if _json_size(raw) > MAX_ITEM_BYTES:
        raise InvalidInput.for_field("body", f"An event is at most {MAX_ITEM_BYTES} bytes.")
    reader = _Reader(item)
    kind = _type_read(reader)
    fact = _seed_read(reader, kind) if is_seed_envelope(item) else _canonical_read(reader, kind)
    if reader.errors:
        raise InvalidInput(
            "Invalid event: " + ", ".join(dict.fromkeys(e["field"] for e in reader.errors)) + ".",
            errors=reader.errors,
        )
    fact.raw = raw
    return fact, reader


def _type_read(reader: _Reader) -> str:
    kind = reader.text("type", required=True)
    if kind and kind not in FACT_TYPES:
        reader.fail(
            "type",
            f"'{kind[:60]}' is not an event a carrier reports; one of: "
            + ", ".join(sorted(FACT_TYPES))
            + ".",
            "invalid_choice",
        )
        return ""
    return kind


def _seed_read(reader: _Reader, kind: str) -> CarrierFact:
    # The envelope is the seed's, exactly; what a platform adds goes under ``data``.
    for name in sorted(set(reader.item) - SEED_ENVELOPE_FIELDS):
        reader.fail(name[:60], "Unknown field.", "unknown_field")
    reader.text("id", required=True, limit=MAX_ID_LENGTH)
    version = reader.text("version", required=True)
    if version and not re.fullmatch(r"\d{1,3}\.\d{1,3}", version):
        reader.fail("version", f"'{version}' is not a version such as 1.0.")
    if not isinstance(reader.get("liveMode"), bool | None):
        reader.fail("liveMode", "Must be true or false.")
    reader.time("dateTime")
    if not isinstance(reader.item.get("data"), dict):
        reader.fail("data", "Must be an object.")
        return CarrierFact(type=kind, external_id="", time_of_event=None)
    when = reader.time("data.timeOfEvent") or reader.time("data.TimeOfEvent")
    if reader.get("data.timeOfEvent") is None and reader.get("data.TimeOfEvent") is None:
        reader.fail("data.timeOfEvent", "This field is required.", "required")
    pickup = kind in PICKUP_FACTS
    where = "data.pickupLocation" if pickup else "data.deliveryLocation"
    if reader.get(where) is None:
        where = "data.location" if reader.get("data.location") else "data.Collo.Location"
    fact = CarrierFact(
        type=kind,
        external_id=reader.text("id", limit=MAX_ID_LENGTH),
        time_of_event=when,
        position=_position(reader, f"{where}.position")
        or _position(reader, f"{where}.Position", "Latitude", "Longitude"),
        driver=reader.mapping("data.driver"),
        source=FactSource.SEED_004,
    )
    fact.executor = reader.mapping("data.driver.executor")
    if not fact.executor and reader.text("data.fulfillerId"):
        fact.executor = {"id": reader.text("data.fulfillerId")}
    _seed_deviation(reader, fact)
    eta = reader.time("data.deliveryEta")
    fact.eta_from = fact.eta_to = eta
    if kind in ROUTE_FACTS:
        fact.figures = _figures(reader, "data.actual")
        _figures(reader, "data.estimate")  # checked, not kept: the route has its estimate
    return fact


def _seed_deviation(reader: _Reader, fact: CarrierFact) -> None:
    deviation = reader.mapping("data.deviation") or reader.mapping("data.Collo.Deviation")
    code = reader.text("data.reasonId")
    text = reader.text("data.reason", limit=1000) or str(deviation.get("description") or "")
    if code or text:
        fact.deviation = {"code": code, "text": text[:1000]}
    images = deviation.get("imageIds") or []
    if not isinstance(images, list) or not all(isinstance(i, str) for i in images):
        reader.fail("data.deviation.imageIds", "Must be a list of strings.")
        return
    fact.images = images[:MAX_IMAGES]


def _canonical_read(reader: _Reader, kind: str) -> CarrierFact:
    for name in sorted(set(reader.item) - CANONICAL_FIELDS):
        reader.fail(name[:60], "Unknown field.", "unknown_field")
    fact = CarrierFact(
        type=kind,
        external_id=reader.text("id", required=True, limit=MAX_ID_LENGTH),
        time_of_event=reader.time("timeOfEvent", required=True),
        position=_position(reader, "position"),
        driver=reader.mapping("driver"),
        executor=reader.mapping("executor"),
        source=FactSource.CANONICAL,
    )
    deviation = reader.mapping("deviation")
    for name in sorted(set(deviation) - {"code", "text"}):
        reader.fail(f"deviation.{name[:60]}", "Unknown field.", "unknown_field")
    if deviation:
        code, text = reader.text("deviation.code"), reader.text("deviation.text", limit=1000)
        fact.deviation = {"code": code, "text": text} if (code or text) else {}
    images = reader.get("images") or []
    if not isinstance(images, list) or not all(
        isinstance(i, str) and len(i) <= 2000 for i in images
    ):
        reader.fail("images", "Must be a list of image links (strings).")
    elif len(images) > MAX_IMAGES:
        reader.fail("images", f"At most {MAX_IMAGES} images.", "max_length")
    else:
        fact.images = images
    _canonical_eta(reader, fact)
    if kind in ROUTE_FACTS:
        fact.figures = _figures(reader, "actual")
    return fact


def _canonical_eta(reader: _Reader, fact: CarrierFact) -> None:
    eta = reader.mapping("eta")
    for name in sorted(set(eta) - {"from", "to"}):
        reader.fail(f"eta.{name[:60]}", "Unknown field.", "unknown_field")
    if eta:
        fact.eta_from, fact.eta_to = reader.time("eta.from"), reader.time("eta.to")
    if fact.type == ETA_UPDATED and not (fact.eta_from and fact.eta_to) and not reader.errors:
        reader.fail("eta", "An EtaUpdated gives the window: {from, to}.", "required")
    if fact.eta_from and fact.eta_to and fact.eta_to < fact.eta_from:
        reader.fail("eta.to", "The window ends before it starts.")


def _position(reader: _Reader, path: str, lat: str = "latitude", lon: str = "longitude"):
    if reader.get(path) is None:
        return None
    reader.mapping(path)
    latitude = reader.number(f"{path}.{lat}", -90, 90)
    longitude = reader.number(f"{path}.{lon}", -180, 180)
    return (latitude, longitude) if latitude is not None and longitude is not None else None


def _figures(reader: _Reader, path: str) -> dict[str, Any]:
    reader.mapping(path)
    figures = {
        "duration": reader.number(f"{path}.duration", 0, 10_000_000),
        "distance": reader.number(f"{path}.distance", 0, 1_000_000),
        "startTime": reader.time(f"{path}.startTime"),
        "endTime": reader.time(f"{path}.endTime"),
    }
    return {k: v for k, v in figures.items() if v is not None}


# --- which order, collo or route the fact is about ------------------------------------------

# Where each format names the order (Waybill id or creatorOrderId) and the collo, in the
# order they are tried.
_SEED_ORDER_PATHS = (
    "data.order.id",
    "data.internalOrderId",
    "data.orderId",
    "data.order.creatorOrderId",
    "data.ownerOrderId",
    "data.Collo.OrderId",
)
_SEED_BARCODE_PATHS = ("data.barcode", "data.collo.barcode", "data.Collo.Barcode")
_SEED_COLLO_ID_PATHS = ("data.colloId", "data.collo.id")


def _named(fact: CarrierFact, reader: _Reader) -> list[tuple[str, str, str]]:
    """Where the item names its order or collo: (path, value, "order" or "barcode")."""
    if fact.type in ROUTE_FACTS:
        return []
    seed = fact.source == FactSource.SEED_004
    order_paths = _SEED_ORDER_PATHS if seed else ("orderId",)
    barcode_paths = _SEED_BARCODE_PATHS if seed else ("barcode",)
    named = [(p, reader.text(p), "order") for p in order_paths]
    named += [(p, reader.text(p), "barcode") for p in barcode_paths]
    return [(p, value, kind) for p, value, kind in named if value]


def _resolve(
    fact: CarrierFact, reader: _Reader, *, carrier: Carrier, live_mode: bool, known: dict
) -> None:
    seed = fact.source == FactSource.SEED_004
    if fact.type in ROUTE_FACTS:
        _route_resolve(fact, reader, carrier=carrier, live_mode=live_mode)
        return
    named = _named(fact, reader)
    if reader.errors:
        raise InvalidInput(reader.errors[0]["message"], errors=reader.errors)
    if not named:
        first = "data.order.id" if seed else "orderId"
        raise InvalidInput.for_field(first, "Name the order (or the collo's barcode).", "required")
    fact.order = _order_find(named, carrier=carrier, live_mode=live_mode, known=known)
    barcode = next((value for _, value, kind in named if kind == "barcode"), "")
    if fact.type in COLLO_FACTS:
        _collo_resolve(fact, reader, barcode, seed)
    # The route the carrier drives the order on is found when the fact is applied.


def _order_find(
    named: list[tuple[str, str, str]], *, carrier: Carrier, live_mode: bool, known: dict
):
    for path, value, kind in named:
        found = selectors.carrier_orders_by_reference(
            carrier=carrier,
            live_mode=live_mode,
            known=known,
            **({"order_id": value} if kind == "order" else {"barcode": value}),
        )
        if len(found) > 1:
            raise Conflict(
                f"{path} '{value}' names more than one order you carry; send Waybill's order id.",
                code="ambiguous_reference",
                errors=[{"field": path, "code": "ambiguous", "message": "More than one order."}],
            )
        if found:
            return found[0]
    refs = ", ".join(f"{path} '{value}'" for path, value, _ in named)
    raise NotFound(
        f"No order you carry matches {refs}.",
        errors=[
            {"field": path, "code": "not_found", "message": f"'{value}' is no order you carry."}
            for path, value, _ in named
        ],
    )


def _collo_resolve(fact: CarrierFact, reader: _Reader, barcode: str, seed: bool) -> None:
    collo_path = next((p for p in _SEED_COLLO_ID_PATHS if reader.text(p)), "") if seed else ""
    if barcode:
        fact.collo = selectors.collo_of_order(order=fact.order, barcode=barcode)
    if fact.collo is None and collo_path:
        fact.collo = selectors.collo_of_order(order=fact.order, collo_id=reader.text(collo_path))
    if fact.collo is None:
        path = next(iter(_SEED_BARCODE_PATHS if seed else ("barcode",)))
        if not barcode:
            raise InvalidInput.for_field(path, f"A {fact.type} names its collo.", "required")
        raise NotFound(
            f"Order {fact.order.creator_order_id} has no collo '{barcode}'.",
            errors=[{"field": path, "code": "not_found", "message": "No such collo."}],
        )


def _route_resolve(fact: CarrierFact, reader: _Reader, *, carrier: Carrier, live_mode: bool):
    paths = ("data.route.id", "data.route.slug") if fact.source == FactSource.SEED_004 else ()
    named = [(p, reader.text(p)) for p in (*paths, "routeId") if reader.text(p)]
    if reader.errors:
        raise InvalidInput(reader.errors[0]["message"], errors=reader.errors)
    if not named:
        raise InvalidInput.for_field(
            paths[0] if paths else "routeId", "Name the route.", "required"
        )
    routes = selectors.carrier_routes(carrier=carrier, live_mode=live_mode)
    for _path, value in named:
        waybill_id = selectors.as_uuid(value)
        route = (routes.filter(id=waybill_id) if waybill_id else routes.none()).first()
        fact.route = route or routes.filter(slug=value).first()
        if fact.route is not None:
            return
    raise NotFound(
        "No route you drive matches " + ", ".join(f"{p} '{v}'" for p, v in named) + ".",
        errors=[{"field": p, "code": "not_found", "message": "No such route."} for p, _ in named],
    )
