"""Rendering notification templates: a sandboxed Django template engine and the merge tags.

The engine is a fresh ``django.template.Engine`` with no loaders and one library of its own:
the control tags (``if``, ``for``, ``with``, ``firstof``, ``comment``, ``spaceless``,
``verbatim``, ``autoescape``) and text filters. Staff-written templates so cannot include
files, load tag libraries, reverse URLs or dump the context. The context holds plain dicts,
lists and text only (no model instances, whose methods a template could call). HTML bodies
are rendered with autoescape; subjects, text bodies and SMS without.

An unknown merge tag renders as a marker that ``template_render`` turns into a refusal
naming the tag, so a typo never reaches a receiver as an empty gap.

``merge_tags`` is pure: it reads the order, its lines and shipper as loaded (README,
"Notifications", lists every tag).
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.template import (
    Context,
    Engine,
    Library,
    TemplateSyntaxError,
    defaultfilters,
    defaulttags,
)

from config.money import money_round
from config.times import DELIVERY, PICKUP, local, order_zone

_UNKNOWN = "\x00unknown-merge-tag:%s\x00"
_UNKNOWN_FOUND = re.compile(r"\x00unknown-merge-tag:(.*?)\x00")

SAFE_TAGS = ("if", "for", "with", "firstof", "comment", "spaceless", "verbatim", "autoescape")
SAFE_FILTERS = (
    "add",
    "capfirst",
    "center",
    "cut",
    "default",
    "default_if_none",
    "first",
    "floatformat",
    "join",
    "last",
    "length",
    "linebreaks",
    "linebreaksbr",
    "ljust",
    "lower",
    "pluralize",
    "rjust",
    "slice",
    "striptags",
    "title",
    "truncatechars",
    "truncatewords",
    "upper",
    "urlencode",
    "wordwrap",
    "yesno",
)


def _safe_library() -> Library:
    library = Library()
    for name in SAFE_TAGS:
        library.tags[name] = defaulttags.register.tags[name]
    for name in SAFE_FILTERS:
        library.filters[name] = defaultfilters.register.filters[name]
    return library


class SandboxEngine(Engine):
    """An engine whose templates see only ``_safe_library`` (no default builtins)."""

    def get_template_builtins(self, builtins: list) -> list:
        return [_safe_library()]


_ENGINES = {
    autoescape: SandboxEngine(
        loaders=[], libraries={}, autoescape=autoescape, string_if_invalid=_UNKNOWN
    )
    for autoescape in (True, False)
}


class TemplateProblem(Exception):
    """A template that does not compile or names an unknown merge tag; ``field`` is the
    template's field, ``message`` says what is wrong."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def template_check(field: str, source: str, *, html: bool = False) -> None:
    """Refuse a template that does not compile (a tag or filter outside the sandbox too)."""
    try:
        _ENGINES[html].from_string(source)
    except TemplateSyntaxError as exc:
        raise TemplateProblem(field, str(exc)) from None


def template_render(field: str, source: str, tags: dict[str, Any], *, html: bool = False) -> str:
    """``source`` rendered with the merge tags ``tags``; unknown tags are a ``TemplateProblem``."""
    try:
        text = _ENGINES[html].from_string(source).render(Context(tags, autoescape=html))
    except TemplateSyntaxError as exc:
        raise TemplateProblem(field, str(exc)) from None
    unknown = sorted(set(_UNKNOWN_FOUND.findall(text)))
    if unknown:
        raise TemplateProblem(field, f"Unknown merge tag(s): {', '.join(unknown)}.")
    return text


# --- merge tags -----------------------------------------------------------------------------


class _Lenient(dict):
    """Custom fields differ from event to event: one a template names but the event lacks
    is empty rather than a refusal."""

    def __missing__(self, key: str) -> str:
        return ""


def _time(value: datetime | None, zone: str) -> dict[str, str]:
    moment = local(value, zone)
    if moment is None:
        return {"iso": "", "date": "", "time": ""}
    return {"iso": moment.isoformat(), "date": f"{moment:%Y-%m-%d}", "time": f"{moment:%H:%M}"}


def _window(start: datetime | None, end: datetime | None, zone: str) -> dict[str, Any]:
    """A window's merge tags; all empty when there is none (``{% if deliveryWindow.from %}``)."""
    begin, finish = _time(start, zone), _time(end, zone)
    return {
        "from": begin["iso"],
        "to": finish["iso"],
        "date": begin["date"] or finish["date"],
        "fromTime": begin["time"],
        "toTime": finish["time"],
        "timeZone": zone,
    }


def _address(order, kind: str) -> dict[str, str]:
    return {
        "primary": getattr(order, f"{kind}_address_primary"),
        "secondary": getattr(order, f"{kind}_address_secondary"),
        "postalCode": getattr(order, f"{kind}_postal_code"),
        "countryCode": getattr(order, f"{kind}_country_code"),
    }


def receiver_phone(contact: dict | None) -> str:
    """The receiver's phone as one text (``+`` calling code and national number)."""
    phone = (contact or {}).get("phone")
    if isinstance(phone, dict):
        calling = phone.get("countrycallingCode") or phone.get("countryPrefix") or ""
        national = phone.get("nationalNumber") or phone.get("number") or ""
        return f"+{calling}{national}" if calling and national else str(national)
    return str(phone or "")


def _receiver(contact: dict | None) -> dict[str, str]:
    contact = contact or {}
    full = contact.get("fullName") or contact.get("name") or ""
    preferred = contact.get("preferredName") or contact.get("firstName") or full
    return {
        "firstName": preferred.split()[0] if preferred.strip() else "",
        "name": preferred,
        "fullName": full or preferred,
        "email": contact.get("email") or "",
        "phone": receiver_phone(contact),
        "company": contact.get("company") or "",
    }


class UnknownLine(Exception):
    """An event's line names no line of the order (``order_line_id`` is a line's reference)."""


def _quantity(value: Decimal) -> str:
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _line(line, currency: str) -> dict[str, str]:
    """An order line with seed 002's line values (the names an order event overrides)."""
    tax = line.price * line.tax_rate / 100
    inc_tax = line.price + tax

    def money(value: Decimal) -> str:
        return f"{money_round(value, currency)}"

    return {
        "order_line_id": line.reference,
        "reference": line.reference,
        "description": line.description,
        "tax_rate": _quantity(line.tax_rate),
        "quantity": _quantity(line.quantity),
        "product_original_price": money(line.price),
        "product_price": money(line.price),
        "product_price_tax": money(tax),
        "product_price_inc_tax": money(inc_tax),
        "row_total": money(line.price * line.quantity),
        "row_total_inc_tax": money(inc_tax * line.quantity),
        "row_total_discount": money(Decimal(0)),
    }


def lines_merged(order_lines: list, currency: str, overrides: list[dict] | None) -> list[dict]:
    """The order's lines, or (given an event's ``lines``) the lines it names, in its order,
    each with the event's values replacing the line's."""
    lines = [_line(line, currency) for line in order_lines]
    if overrides is None:
        return lines
    by_reference = {line["reference"]: line for line in lines}
    merged = []
    for override in overrides:
        reference = str(override.get("order_line_id", ""))
        if reference not in by_reference:
            raise UnknownLine(f"The order has no line '{reference}'.")
        values = {k: str(v) for k, v in override.items() if v is not None and k != "order_line_id"}
        merged.append({**by_reference[reference], **values})
    return merged


def merge_tags(
    *,
    order,
    order_lines: list,
    tracking_url: str,
    message: str = "",
    custom_fields: dict | None = None,
    lines: list[dict] | None = None,
    eta_window: tuple[datetime, datetime] | None = None,
) -> dict[str, Any]:
    """Every merge tag a template may use (README, "Notifications"), for ``order`` (with its
    shipper loaded) and ``order_lines`` (its lines); times in the zone of their place."""
    delivery_zone = order_zone(order, DELIVERY)
    return {
        "order": {
            "id": str(order.id),
            "reference": order.creator_order_id,
            "creatorOrderId": order.creator_order_id,
            "relationalId": order.relational_id,
            "status": order.status,
            "tags": list(order.tags),
            "notes": order.notes,
            "currency": order.currency,
        },
        "shipper": {"name": order.shipper.name},
        "receiver": _receiver(order.delivery_contact),
        "sender": _receiver(order.pickup_contact),
        "pickupAddress": _address(order, PICKUP),
        "deliveryAddress": _address(order, DELIVERY),
        "pickupWindow": _window(order.pickup_from, order.pickup_to, order_zone(order, PICKUP)),
        "deliveryWindow": _window(order.delivery_from, order.delivery_to, delivery_zone),
        "etaWindow": _window(*(eta_window or (None, None)), delivery_zone),
        "lines": lines_merged(order_lines, order.currency, lines),
        "message": message,
        "customFields": _Lenient(custom_fields or {}),
        "trackingUrl": tracking_url,
    }
