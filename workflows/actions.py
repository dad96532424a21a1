"""The one registry of what a workflow step can do. Each action kind declares its parameters
(checked when staff save the step: a bad one is a ValidationError naming it) and the retry
kind whose schedule a temporary failure of it is retried on.

An action raises ``ActionRetryable`` for a failure worth trying again (a provider down, an
HTTP 5xx or timeout) and a ``WaybillError`` for one that never heals (an illegal status move,
a receiver who opted out); the engine audits both."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import requests
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from config.errors import Conflict, WaybillError
from config.outbound import UnsafeTarget, check_public_url, outbound_session
from orders.models import Order, OrderStatus

# Retry schedules by kind of action: the waits before the 2nd, 3rd, … attempt; a temporary
# failure after the last is final. Notifications go to a provider that recovers in minutes;
# a tenant's HTTP endpoint may be down for hours.
NOTIFICATION, HTTP, ORDER = "notification", "http", "order"
RETRY_SCHEDULES: dict[str, tuple[timedelta, ...]] = {
    NOTIFICATION: (
        timedelta(minutes=1),
        timedelta(minutes=5),
        timedelta(minutes=30),
        timedelta(hours=2),
    ),
    HTTP: (
        timedelta(seconds=30),
        timedelta(minutes=2),
        timedelta(minutes=10),
        timedelta(hours=1),
        timedelta(hours=6),
    ),
    # Order changes fail on the order's state (a Conflict), which no wait mends; a lock
    # or connection hiccup is worth one more go.
    ORDER: (timedelta(seconds=30),),
}
HTTP_POST_TIMEOUT_S = 10


class ActionRetryable(Exception):
    """A temporary failure: the action is tried again on its kind's schedule."""


class ActionRefused(WaybillError):
    code = "action_refused"


@dataclass(frozen=True)
class ActionContext:
    """What an action acts on: the run's order (None when the trigger names none) and the
    triggering event, as the run read them."""

    run_id: str
    position: int
    workflow_name: str
    trigger: str  # e.g. "order_event:delivered"
    order: Order | None
    message: str = ""
    custom_fields: dict = field(default_factory=dict)
    lines: list[dict] | None = None
    attributes: dict = field(default_factory=dict)
    event_id: str = ""

    @property
    def actor(self) -> str:
        return f"workflow:{self.workflow_name}"

    def order_required(self) -> Order:
        if self.order is None:
            raise ActionRefused("The triggering event names no order of the shipper.")
        return self.order


@dataclass(frozen=True)
class Param:
    name: str
    kind: str = "text"  # text | choice | url
    required: bool = True
    choices: tuple[str, ...] = ()
    max_length: int = 500


@dataclass(frozen=True)
class Action:
    kind: str
    label: str
    retry_kind: str
    params: tuple[Param, ...]
    run: Callable[[ActionContext, dict], str]  # returns what it did


def _param_error(name: str, problem: str) -> ValidationError:
    return ValidationError({"params": f"{name}: {problem}"}, code=name)


def _param_clean(param: Param, value: Any) -> Any:
    if not isinstance(value, str):
        raise _param_error(param.name, "must be text.")
    value = value.strip()
    if len(value) > param.max_length:
        raise _param_error(param.name, f"at most {param.max_length} characters.")
    if param.kind == "choice" and value not in param.choices:
        raise _param_error(param.name, f"'{value}' is not one of {list(param.choices)}.")
    if param.kind == "url":
        plain_http = settings.DEBUG or settings.WEBHOOK_ALLOW_PRIVATE_TARGETS
        if not (value.startswith("https://") or (plain_http and value.startswith("http://"))):
            raise _param_error(param.name, "must be an https:// URL.")
        try:
            check_public_url(value)
        except UnsafeTarget as exc:
            raise _param_error(param.name, str(exc)) from exc
    return value


def action_params_check(kind: str, params: Any) -> dict:
    """``params`` for an action of ``kind``, cleaned; a ValidationError naming the field (the
    kind, or the parameter within ``params``) otherwise."""
    action = ACTIONS.get(kind)
    if action is None:
        raise ValidationError({"kind": f"'{kind}' is not one of {sorted(ACTIONS)}."})
    if not isinstance(params, dict):
        raise ValidationError({"params": 'An object of parameters, e.g. {"tag": "vip"}.'})
    declared = {p.name: p for p in action.params}
    unknown = sorted(set(params) - set(declared))
    if unknown:
        raise _param_error(unknown[0], f"not a parameter of {kind}; it takes {sorted(declared)}.")
    cleaned = {}
    for param in action.params:
        value = params.get(param.name)
        if value in (None, ""):
            if param.required:
                raise _param_error(param.name, "is required.")
            continue
        cleaned[param.name] = _param_clean(param, value)
    return cleaned


# --- the actions --------------------------------------------------------------------------


def _notify(channel: str) -> Callable[[ActionContext, dict], str]:
    def send(context: ActionContext, params: dict) -> str:
        try:
            from notifications.services import ProviderUnavailable, notification_send
        except ImportError as exc:
            raise ActionRefused(
                f"Cannot send {channel}: the notifications module is not installed."
            ) from exc
        order = context.order_required()
        try:
            message = notification_send(
                order=order,
                channel=channel,
                template=params["template"],
                # One message per run and step: a retried run never sends it twice.
                key=f"workflow-run:{context.run_id}:{context.position}",
                message=params.get("message") or context.message,
                custom_fields=context.custom_fields,
                lines=context.lines,
                trigger=context.trigger,
            )
        except ProviderUnavailable as exc:
            raise ActionRetryable(f"{channel} provider unavailable: {exc}") from exc
        return f"{channel} '{params['template']}' sent for order {order}: {message}"

    return send


def _status_move(context: ActionContext, params: dict) -> str:
    from orders.services import order_cancel, order_status_move

    order = Order.objects.select_for_update().get(id=context.order_required().id)
    to, reason = params["to"], params.get("reason") or f"Workflow {context.workflow_name}"
    if order.status == to:
        return f"Order {order} is {to} already."
    if to == OrderStatus.CANCELLED:
        # Cancelling also releases the carrier booking and the route stop.
        order_cancel(order=order, reason=reason, actor=context.actor)
    else:
        order_status_move(order=order, to=to, actor=context.actor, reason=reason)
    return f"Order {order} moved to {to}."


def _tags_change(add: bool) -> Callable[[ActionContext, dict], str]:
    def change(context: ActionContext, params: dict) -> str:
        from orders.services import order_update

        order = context.order_required()
        order.refresh_from_db(fields=["tags"])
        tag, tags = params["tag"], list(order.tags or [])
        if (tag in tags) == add:
            return f"Order {order} {'has' if add else 'lacks'} tag '{tag}' already."
        tags = [*tags, tag] if add else [t for t in tags if t != tag]
        order_update(order=order, spec={"tags": tags}, actor=context.actor)
        return f"Tag '{tag}' {'added to' if add else 'removed from'} order {order}."

    return change


def _replan(context: ActionContext, params: dict) -> str:
    from carriers.services import order_replan_request

    order = context.order_required()
    if not order_replan_request(order=order):
        raise Conflict(
            f"Order {order} is {order.status}: past planning.", code="illegal_status_move"
        )
    return f"Order {order} queued for planning."


def _post(context: ActionContext, params: dict) -> str:
    body = {
        "workflow": context.workflow_name,
        "trigger": context.trigger,
        "eventId": context.event_id,
        "orderId": str(context.order.id) if context.order else None,
        "creatorOrderId": context.order.creator_order_id if context.order else None,
        "message": context.message,
        "customFields": context.custom_fields,
        "attributes": context.attributes,
    }
    url = params["url"]
    try:
        check_public_url(url)
        with outbound_session() as session:
            response = session.post(
                url, json=body, timeout=HTTP_POST_TIMEOUT_S, allow_redirects=False
            )
    except UnsafeTarget as exc:
        if exc.permanent:
            raise ActionRefused(f"Will not post to {url}: {exc}") from exc
        raise ActionRetryable(f"Cannot post to {url} now: {exc}") from exc
    except requests.RequestException as exc:
        raise ActionRetryable(f"{type(exc).__name__}: {exc}") from exc
    if response.status_code >= 500 or response.status_code in (408, 429):
        raise ActionRetryable(f"{url} answered {response.status_code}.")
    if response.status_code >= 300:
        raise ActionRefused(f"{url} answered {response.status_code}.")
    return f"Posted to {url}: {response.status_code}."


_TEMPLATE = (Param("template", max_length=100), Param("message", required=False))
ACTIONS: dict[str, Action] = {
    action.kind: action
    for action in (
        Action("send_email", "Send an email", NOTIFICATION, _TEMPLATE, _notify("email")),
        Action("send_sms", "Send an SMS", NOTIFICATION, _TEMPLATE, _notify("sms")),
        Action(
            "move_status",
            "Move the order's status",
            ORDER,
            (
                Param("to", kind="choice", choices=tuple(OrderStatus.values)),
                Param("reason", required=False),
            ),
            _status_move,
        ),
        Action("add_tag", "Add a tag", ORDER, (Param("tag", max_length=100),), _tags_change(True)),
        Action(
            "remove_tag",
            "Remove a tag",
            ORDER,
            (Param("tag", max_length=100),),
            _tags_change(False),
        ),
        Action("replan", "Re-plan the order", ORDER, (), _replan),
        Action(
            "post_url", "Post to a URL", HTTP, (Param("url", kind="url", max_length=2000),), _post
        ),
    )
}
ACTION_CHOICES = [(action.kind, action.label) for action in ACTIONS.values()]


def action_run(kind: str, context: ActionContext, params: dict) -> str:
    """Run one step inside a savepoint: a failure undoes what the step wrote."""
    action = ACTIONS.get(kind)
    if action is None:
        raise ActionRefused(f"No action kind '{kind}' (removed from the registry?).")
    with transaction.atomic():
        return action.run(context, params)
