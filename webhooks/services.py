"""Writes of the event log and its subscriptions: appending events (with their fan-out to
deliveries, in the same transaction), managing subscriptions, replaying deliveries."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from config.errors import InvalidInput
from config.outbound import UnsafeTarget, check_public_url
from config.queue import Coalesced
from config.sql import instance_new, rows_insert
from config.times import order_zone, route_zone
from webhooks.catalogue import CATALOGUE, EventName, event_type_get
from webhooks.models import (
    DELIVERY_FAILED_STATUSES,
    Delivery,
    DeliveryStatus,
    Event,
    EventCategory,
    Subscription,
)
from webhooks.selectors import active_subscriptions

# Deliveries queued per task: one task sends them side by side over one connection pool.
DELIVERY_BATCH = 100


def event_zone(builder_args: dict[str, Any]) -> str:
    """The zone of the place an event is about (``config.times``): the order's when it names
    one, else the route's depot; empty (UTC) otherwise, or pass ``time_zone`` to
    ``event_build``."""
    if builder_args.get("order") is not None:
        return order_zone(builder_args["order"])
    if builder_args.get("route") is not None:
        return route_zone(builder_args["route"])
    return ""


@dataclass(frozen=True)
class PendingEvent:
    """An event built but not stored, with its payload in every version that has a builder,
    so a subscription pinning another version gets its own at fan-out."""

    event: Event
    payloads: dict[str, dict]


def event_build(
    *,
    type: EventName,
    live_mode: bool,
    entity_type: str,
    entity_id: Any,
    root_entity_type: str,
    root_entity_id: Any,
    shipper=None,
    carrier=None,
    entity_ref: str = "",
    root_entity_ref: str = "",
    correlation_id: str = "",
    category: str = EventCategory.ORCHESTRATION_AUDIT,
    version: str | None = None,
    time_zone: str | None = None,
    **builder_args: Any,
) -> PendingEvent:
    """An unsaved event, its data built by the catalogue's builder for ``version`` (or latest).

    ``time_zone`` is the zone its ``dateTime`` is shown in; by default the zone of the order
    or route among ``builder_args`` (``event_zone``)."""
    event_type = event_type_get(type)
    version = version or event_type.latest_version
    payloads = {v: event_type.build(v, **builder_args) for v in event_type.built_versions()}
    event = instance_new(
        Event,
        type=event_type.name,
        version=version,
        live_mode=live_mode,
        date_time=timezone.now(),
        time_zone=event_zone(builder_args) if time_zone is None else time_zone,
        data=payloads[version] if version in payloads else event_type.build(version),
        category=category,
        shipper=shipper,
        carrier=carrier,
        entity_type=entity_type,
        entity_id=str(entity_id),
        entity_ref=entity_ref,
        root_entity_type=root_entity_type,
        root_entity_id=str(root_entity_id),
        root_entity_ref=root_entity_ref,
        correlation_id=correlation_id,
    )
    return PendingEvent(event, payloads)


def _require_transaction() -> None:
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("Events must be written inside the transaction of their change.")


def event_append(**kwargs: Any) -> Event:
    """Build and store one event and its deliveries, inside the transaction of its change."""
    return events_append(events=[event_build(**kwargs)])[0]


# Called with the stored events of every ``events_append``, in its transaction: other apps
# (the workflow engine) react to events without this module knowing them. A listener must be
# cheap when it has nothing to do: carrier event intake appends events in bulk.
EVENT_LISTENERS: list[Callable[[list[Event]], None]] = []


def events_listener_add(listener: Callable[[list[Event]], None]) -> None:
    if listener not in EVENT_LISTENERS:
        EVENT_LISTENERS.append(listener)


def events_append(
    *, events: list[PendingEvent], subscriptions: dict[tuple, list] | None = None
) -> list[Event]:
    """Store events built with ``event_build``, fan them out to their subscriptions and tell
    the listeners. ``subscriptions``: the active subscriptions of some tenants, read already
    in this transaction (``selectors.subscriptions_by_tenant``); the others' are read."""
    _require_transaction()
    stored = [pending.event for pending in events]
    rows_insert(stored)
    _fan_out(events, subscriptions or {})
    for listener in EVENT_LISTENERS:
        listener(stored)
    return stored


def _fan_out(pending_events: list[PendingEvent], known: dict[tuple, list]) -> None:
    events = [pending.event for pending in pending_events]
    payloads = {pending.event.id: pending.payloads for pending in pending_events}
    tenants = {(e.shipper_id, e.live_mode) for e in events if e.shipper_id}
    if not tenants:
        return
    subscriptions: dict[tuple, list[Subscription]] = {
        tenant: known[tenant] if tenant in known else active_subscriptions(*tenant)
        for tenant in tenants
    }
    if not any(subscriptions.values()):
        return
    now = timezone.now()
    deliveries = []
    for event in events:
        for subscription in subscriptions.get((event.shipper_id, event.live_mode), ()):
            if not subscription.wants(event.type):
                continue
            version = subscription.versions.get(event.type) or event.version
            if version not in payloads[event.id]:
                # A pinned version Waybill cannot build yet gets the one it can.
                version = event.version
            payload = None if version == event.version else payloads[event.id][version]
            deliveries.append(
                instance_new(
                    Delivery,
                    # By id: the rows are written and queued, never read back here.
                    event_id=event.id,
                    subscription_id=subscription.id,
                    version=version,
                    payload=payload,
                    next_attempt_at=now,
                    queued_at=now,
                )
            )
    rows_insert(deliveries)
    deliveries_queue_on_commit(delivery_ids=[d.id for d in deliveries])


def deliveries_queue_on_commit(*, delivery_ids: list) -> None:
    """``deliveries_queue`` once the transaction that stamped the rows ``queued_at`` commits;
    a process committing many small changes queues theirs together (``_queued_deliveries``)."""
    ids = list(delivery_ids)
    if ids:
        transaction.on_commit(lambda: _queued_deliveries.add(ids))


def deliveries_queue(*, delivery_ids: list) -> None:
    """Queue sending now, in batches. A batch the broker refuses loses its ``queued_at``, so
    the next sweep queues it instead of waiting out its lease."""
    from config.queue import enqueue
    from webhooks.tasks import deliveries_send

    for start in range(0, len(delivery_ids), DELIVERY_BATCH):
        batch = [str(i) for i in delivery_ids[start : start + DELIVERY_BATCH]]
        enqueue(
            deliveries_send,
            batch,
            on_failure=lambda batch=batch: Delivery.objects.filter(id__in=batch).update(
                queued_at=None
            ),
        )


# One message per window for what a busy process commits: a message per single carrier event
# cost a sixth of the web processes' throughput (broker round trip and Celery's building).
_queued_deliveries = Coalesced(
    lambda ids: deliveries_queue(delivery_ids=ids), settings.WEBHOOK_QUEUE_WINDOW_S
)


# --- subscriptions -----------------------------------------------------------------------


def _new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def subscription_url_check(url: str) -> None:
    """Refuse URLs Waybill will not call: private addresses, and plain http unless DEBUG
    (or private targets are allowed, as for local test receivers)."""
    plain_http_allowed = settings.DEBUG or settings.WEBHOOK_ALLOW_PRIVATE_TARGETS
    if not url.startswith("https://") and not (plain_http_allowed and url.startswith("http://")):
        raise InvalidInput.for_field("url", "Webhook URLs must use https.", code="https_required")
    try:
        check_public_url(url)
    except UnsafeTarget as exc:
        raise InvalidInput.for_field("url", str(exc), code="unsafe_target") from exc


def _check_types_and_versions(event_types: list[str], versions: dict[str, str]) -> None:
    errors = []
    for index, name in enumerate(event_types):
        if name != "*" and name not in CATALOGUE:
            errors.append(
                {
                    "field": f"eventTypes[{index}]",
                    "code": "invalid_choice",
                    "message": f"Unknown event type '{name}'; see /api/v1/webhooks/event-types.",
                }
            )
    for name, version in versions.items():
        if name not in CATALOGUE:
            errors.append(
                {
                    "field": f"versions.{name}",
                    "code": "invalid_choice",
                    "message": f"Unknown event type '{name}'.",
                }
            )
        elif version not in CATALOGUE[name].versions:
            known = ", ".join(CATALOGUE[name].versions)
            errors.append(
                {
                    "field": f"versions.{name}",
                    "code": "invalid_choice",
                    "message": f"'{name}' has versions {known}.",
                }
            )
    if errors:
        raise InvalidInput("Invalid subscription.", errors=errors)


def subscription_check(
    *, url: str | None, event_types: list[str], versions: dict[str, str]
) -> None:
    """The checks create and update make, for a form that shows errors before it saves; the
    URL only when it is given (new or changed), as update does."""
    _check_types_and_versions(event_types, versions)
    if url is not None:
        subscription_url_check(url)


@transaction.atomic
def subscription_create(
    *,
    shipper,
    live_mode: bool,
    url: str,
    event_types: list[str],
    versions: dict[str, str] | None = None,
    description: str = "",
) -> Subscription:
    versions = versions or {}
    _check_types_and_versions(event_types, versions)
    subscription_url_check(url)
    return Subscription.objects.create(
        shipper=shipper,
        live_mode=live_mode,
        url=url,
        event_types=event_types,
        versions=versions,
        description=description,
        secret=_new_secret(),
    )


@transaction.atomic
def subscription_update(*, subscription: Subscription, changes: dict[str, Any]) -> Subscription:
    subscription = Subscription.objects.select_for_update().get(id=subscription.id)
    event_types = changes.get("event_types", subscription.event_types)
    versions = changes.get("versions", subscription.versions)
    _check_types_and_versions(event_types, versions)
    if "url" in changes:
        subscription_url_check(changes["url"])
    for field, value in changes.items():
        setattr(subscription, field, value)
    if changes.get("active"):
        # Switching a disabled subscription back on starts a fresh failure count.
        subscription.disabled_at, subscription.disabled_reason = None, ""
        subscription.failing_since = None
    subscription.save()
    return subscription


@transaction.atomic
def subscription_rotate_secret(*, subscription: Subscription) -> Subscription:
    subscription = Subscription.objects.select_for_update().get(id=subscription.id)
    subscription.previous_secret = subscription.secret
    subscription.previous_secret_expires_at = (
        timezone.now() + settings.WEBHOOK_SECRET_ROTATION_OVERLAP
    )
    subscription.secret = _new_secret()
    subscription.save()
    return subscription


@transaction.atomic
def subscription_delete(*, subscription: Subscription) -> None:
    subscription.delete()


def subscription_disable(*, subscription: Subscription, reason: str) -> bool:
    """Switch a subscription off and tell its shipper; True if this call switched it off."""
    from django.core.mail import send_mail

    switched = Subscription.objects.filter(id=subscription.id, active=True).update(
        active=False, disabled_at=timezone.now(), disabled_reason=reason[:500]
    )
    if switched:
        Delivery.objects.filter(
            subscription_id=subscription.id,
            status__in=[DeliveryStatus.PENDING, DeliveryStatus.RETRYING],
        ).update(status=DeliveryStatus.CANCELLED, claimed_until=None)
        recipients = [e for e in [subscription.shipper.contact_email] if e]
        if recipients:
            send_mail(
                subject="Waybill webhook subscription disabled",
                message=(
                    f"Waybill disabled the webhook subscription to {subscription.url} "
                    f"({'live' if subscription.live_mode else 'test'} mode): {reason}\n\n"
                    "Fix the receiver, then switch the subscription on again and replay what "
                    "was missed (POST /api/v1/webhooks/subscriptions/{id}/replay)."
                ),
                from_email=settings.DEFAULT_FROM_EMAIL,
                recipient_list=recipients,
                fail_silently=True,
            )
    return bool(switched)


# --- replay ---------------------------------------------------------------------------


def delivery_replay(*, delivery: Delivery) -> Delivery:
    """Send a delivery's event again, as a new delivery with a fresh retry schedule."""
    return deliveries_replay(deliveries=[delivery])[0]


@transaction.atomic
def deliveries_replay(*, deliveries: list[Delivery]) -> list[Delivery]:
    now = timezone.now()
    # A delivery still waiting for a retry is replaced by its replay, not sent twice.
    Delivery.objects.filter(
        id__in=[d.id for d in deliveries], status=DeliveryStatus.RETRYING
    ).update(status=DeliveryStatus.CANCELLED)
    replays = Delivery.objects.bulk_create(
        [
            Delivery(
                event_id=d.event_id,
                subscription_id=d.subscription_id,
                version=d.version,
                payload=d.payload,
                next_attempt_at=now,
                queued_at=now,
                replay_of=d,
            )
            for d in deliveries
        ]
    )
    deliveries_queue_on_commit(delivery_ids=[d.id for d in replays])
    return replays


def subscription_replay_failed(
    *, subscription: Subscription, since: datetime, until: datetime
) -> list[Delivery]:
    """Replay every failed or dead delivery of a subscription created in [since, until)."""
    failed = list(
        Delivery.objects.filter(
            subscription=subscription,
            status__in=DELIVERY_FAILED_STATUSES,
            created_at__gte=since,
            created_at__lt=until,
        )
    )
    return deliveries_replay(deliveries=failed) if failed else []
