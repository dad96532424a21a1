"""What a workflow's trigger and conditions may say, checked when staff save them and tested
when a run starts. A small declarative set: a subject (the shipper, the order's tags, status,
mode or delivery country, or one of the event's attributes), an operator and a value."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError

from orders.models import OrderStatus
from webhooks.catalogue import CATALOGUE
from workflows.models import ORDER_EVENT_TYPE_SPELLINGS, OrderEventType, TriggerKind

EQUALS, NOT_EQUALS, IN, NOT_IN, CONTAINS, NOT_CONTAINS, EXISTS = OPERATORS = (
    "equals",
    "not_equals",
    "in",
    "not_in",
    "contains",
    "not_contains",
    "exists",
)
_COMPARE = (EQUALS, NOT_EQUALS, IN, NOT_IN)

# Subject -> the operators it takes. ``in``/``not_in`` take a comma-separated list.
SUBJECTS: dict[str, tuple[str, ...]] = {
    "shipper": _COMPARE,  # by slug
    "order.tags": (CONTAINS, NOT_CONTAINS),
    "order.status": _COMPARE,
    "order.live_mode": (EQUALS,),
    "order.delivery_country": _COMPARE,  # ISO 3166 alpha-2
    "event.attribute": (*_COMPARE, CONTAINS, NOT_CONTAINS, EXISTS),
}
_ASYNC_NAME = re.compile(r"^[A-Za-z0-9_.:-]{1,100}$")


def trigger_check(kind: str, name: str) -> None:
    """Refuse a trigger no event can ever match, naming the field."""
    if kind == TriggerKind.ORDER_EVENT:
        known = set(OrderEventType.values)
        if ORDER_EVENT_TYPE_SPELLINGS.get(name, name) not in known:
            raise ValidationError(
                {"trigger_name": f"'{name}' is no order event type; one of {sorted(known)}."}
            )
    elif kind == TriggerKind.OUTGOING_EVENT:
        if name not in CATALOGUE:
            raise ValidationError(
                {
                    "trigger_name": f"'{name}' is no event type of the catalogue, "
                    "e.g. OrderCancelled."
                }
            )
    elif kind == TriggerKind.ASYNC_EVENT:
        if not _ASYNC_NAME.match(name or ""):
            raise ValidationError(
                {"trigger_name": "An async event name: letters, digits, '_', '.', ':' or '-'."}
            )
    else:
        raise ValidationError({"trigger_kind": f"'{kind}' is no trigger kind."})


def _values(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def condition_check(condition) -> None:
    """Refuse a condition that cannot be tested, naming the field at fault."""
    subject, operator, value = condition.subject, condition.operator, condition.value.strip()
    if subject not in SUBJECTS:
        raise ValidationError({"subject": f"'{subject}' is not one of {sorted(SUBJECTS)}."})
    if operator not in SUBJECTS[subject]:
        raise ValidationError(
            {"operator": f"'{operator}' does not apply to {subject}; one of {SUBJECTS[subject]}."}
        )
    if subject == "event.attribute" and not condition.key.strip():
        raise ValidationError({"key": "Name the event attribute (dotted for nested ones)."})
    if operator != EXISTS and not value:
        raise ValidationError({"value": "A value is required."})
    values = _values(value) if operator in (IN, NOT_IN) else [value]
    if subject == "order.status":
        unknown = [v for v in values if v not in OrderStatus.values]
        if unknown:
            raise ValidationError({"value": f"No order status {unknown}; {OrderStatus.values}."})
    elif subject == "order.live_mode" and value not in ("true", "false"):
        raise ValidationError({"value": "true or false."})
    elif subject == "order.delivery_country":
        if any(not re.fullmatch(r"[A-Za-z]{2}", v) for v in values):
            raise ValidationError({"value": "Two-letter country codes (ISO 3166), e.g. DK."})
    elif subject == "shipper":
        from accounts.models import Shipper

        known = set(Shipper.objects.filter(slug__in=values).values_list("slug", flat=True))
        if set(values) - known:
            raise ValidationError({"value": f"No shipper with slug {sorted(set(values) - known)}."})


@dataclass(frozen=True)
class Facts:
    """What conditions are tested against: the triggering event's tenant, order and
    attributes, read when the run starts."""

    shipper_slug: str
    order: Any  # orders.Order or None
    attributes: dict


def _attribute(attributes: dict, key: str) -> Any:
    value: Any = attributes
    for part in key.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def _subject_value(subject: str, key: str, facts: Facts) -> Any:
    order = facts.order
    if subject == "shipper":
        return facts.shipper_slug
    if subject == "event.attribute":
        return _attribute(facts.attributes, key)
    if order is None:
        return None
    return {
        "order.tags": list(order.tags or []),
        "order.status": order.status,
        "order.live_mode": "true" if order.live_mode else "false",
        "order.delivery_country": (order.delivery_country_code or "").upper(),
    }[subject]


def condition_holds(condition, facts: Facts) -> bool:
    """Whether ``condition`` holds for ``facts``; a subject the trigger lacks (no order, no
    such attribute) holds only for the negative operators."""
    actual = _subject_value(condition.subject, condition.key, facts)
    operator, value = condition.operator, condition.value.strip()
    if condition.subject == "order.delivery_country":
        value = value.upper()
    if operator == EXISTS:
        return actual is not None
    if operator in (CONTAINS, NOT_CONTAINS):
        found = isinstance(actual, list | str) and value in actual
        return found if operator == CONTAINS else not found
    text = (
        None
        if actual is None
        else (str(actual).lower() if isinstance(actual, bool) else str(actual))
    )
    if operator == EQUALS:
        return text == value
    if operator == NOT_EQUALS:
        return text != value
    found = text in _values(value)
    return found if operator == IN else not found
