"""Thin POS events (seed 001): the POS says an entity changed, Waybill fetches and applies it.

``POS_EVENT_TYPES`` is the one registry of what a POS may send; add a type there.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import quote

import requests
from django.conf import settings
from django.db import IntegrityError, OperationalError, transaction
from django.db.models import F, Q
from django.utils import timezone

from accounts.models import Shipper
from config.errors import Conflict, InvalidInput, MalformedDocument
from config.outbound import UnsafeTarget, check_public_url, outbound_session
from config.queue import enqueue, enqueue_row
from config.sweeping import queue_room, rows_take
from orders.models import (
    POS_FETCH_OPEN_STATUSES,
    OrderStatus,
    PosFetch,
    PosFetchStatus,
    PosIntegration,
)

logger = logging.getLogger(__name__)

# Waits after failed attempts 1, 2, …: about eight and a half hours in all, then the fetch fails.
POS_RETRY_SCHEDULE = [
    timedelta(seconds=10),
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=6),
]
# A running fetch whose worker died is taken up again after this long.
POS_FETCH_LEASE = timedelta(minutes=5)
# Attempts in all, retries included; a fetch whose worker keeps dying stops there too.
POS_MAX_ATTEMPTS = len(POS_RETRY_SCHEDULE) + 1
POS_ERROR_KEEP_CHARS = 2000
# Fetches one sweep queues at most: three small indexed reads and one UPDATE, and one task
# message each.
POS_SWEEP_BATCH = 500
# The sweeper tops the POS fetch queue up to this many messages and no further: anything it
# added to a longer queue would only wait behind the rest.
POS_SWEEP_QUEUE_CEILING = 500


class PosFetchRetryable(Exception):
    pass


@dataclass(frozen=True)
class PosEventType:
    path: str  # relative to the integration's base URL; {entity_id} is filled in
    apply: Callable[[PosFetch, requests.Response], str]
    on_gone: Callable[[PosFetch], str]


def _apply_order(fetch: PosFetch, response: requests.Response) -> str:
    # The one import of the API package here (allowed in tests/test_layering.py): the POS
    # answers with an Order API document, whose one validator is the API's serializer; a
    # second, DRF-free validator would drift from it. It raises domain errors only.
    from orders.api.serializers import order_spec_from_json
    from orders.services import order_upsert

    try:
        spec = order_spec_from_json(response.content, defaults={"creatorOrderId": fetch.entity_id})
    except MalformedDocument as exc:
        raise PosFetchRetryable(
            f"The POS answered 200 with a body that is not JSON: {exc.detail}"
        ) from exc
    except InvalidInput as exc:
        raise InvalidInput(
            "The POS returned an order Waybill cannot accept.", errors=exc.errors
        ) from exc
    order, created = order_upsert(
        shipper=fetch.shipper,
        live_mode=fetch.live_mode,
        spec=spec,
        actor=f"pos:{fetch.event_type}:{fetch.entity_id}",
    )
    fetch.order = order
    return "created" if created else "updated"


def _order_gone(fetch: PosFetch) -> str:
    from orders.selectors import order_find_by_ref
    from orders.services import order_cancel, order_mark_gone_from_pos

    order = order_find_by_ref(
        shipper=fetch.shipper, live_mode=fetch.live_mode, creator_order_id=fetch.entity_id
    )
    if order is None:
        return "unknown to the POS and to Waybill: nothing to do"
    fetch.order = order
    actor = f"pos:{fetch.event_type}:{fetch.entity_id}"
    if order.status == OrderStatus.CANCELLED:
        return "already cancelled"
    if order.can_cancel():
        order_cancel(order=order, reason="The order no longer exists in the POS.", actor=actor)
        return "cancelled: the POS no longer has it"
    order_mark_gone_from_pos(order=order, actor=actor)
    return f"gone from the POS but {order.status}: kept, marked gone"


POS_EVENT_TYPES: dict[str, PosEventType] = {
    "OrderUpdated": PosEventType(
        path="orders/{entity_id}", apply=_apply_order, on_gone=_order_gone
    ),
}


def _check_entity_id(entity_id: str) -> None:
    if entity_id in (".", ".."):
        # Even quoted, a dot segment would move the fetch to another path on the POS.
        raise InvalidInput.for_field("entityId", "'.' and '..' are not entity ids.", code="invalid")


def pos_entity_url(*, integration: PosIntegration, event_type: PosEventType, entity_id: str) -> str:
    """The POS URL of one entity; the id is always one path segment, whatever it holds."""
    _check_entity_id(entity_id)
    path = event_type.path.format(entity_id=quote(entity_id, safe=""))
    return integration.base_url.rstrip("/") + "/" + path


def pos_integration_for(*, shipper: Shipper, live_mode: bool) -> PosIntegration | None:
    return PosIntegration.objects.filter(shipper=shipper, live_mode=live_mode, active=True).first()


@transaction.atomic
def pos_event_accept(
    *, shipper: Shipper, live_mode: bool, event_type: str, entity_id: str
) -> PosFetch:
    """Record a thin POS event and queue its fetch; a fetch already waiting absorbs repeats."""
    if event_type not in POS_EVENT_TYPES:
        supported = ", ".join(sorted(POS_EVENT_TYPES))
        raise InvalidInput.for_field(
            "eventType",
            f"Unknown event type '{event_type}'; supported: {supported}.",
            code="invalid_choice",
        )
    if not entity_id.strip():
        raise InvalidInput.for_field("entityId", "This field may not be blank.", code="blank")
    _check_entity_id(entity_id)
    if pos_integration_for(shipper=shipper, live_mode=live_mode) is None:
        raise Conflict(
            "No POS integration is configured for this shipper in this mode; "
            "ask a Waybill dispatcher to set the POS base URL.",
            code="pos_not_configured",
        )
    waiting = (
        PosFetch.objects.select_for_update()
        .filter(
            shipper=shipper,
            live_mode=live_mode,
            event_type=event_type,
            entity_id=entity_id,
            status=PosFetchStatus.PENDING,
        )
        .first()
    )
    if waiting:
        return waiting
    now = timezone.now()
    fetch = PosFetch.objects.create(
        shipper=shipper,
        live_mode=live_mode,
        event_type=event_type,
        entity_id=entity_id,
        next_attempt_at=now,
        queued_at=now,
    )
    _queue_on_commit(fetch.id)
    return fetch


def _queue_on_commit(fetch_id) -> None:
    transaction.on_commit(lambda: _queue(fetch_id))


def _queue(fetch_id) -> None:
    """Queue the fetch now; if the broker refuses, it loses its stamp and the next sweep
    queues it."""
    from orders.tasks import pos_fetch_run

    enqueue_row(pos_fetch_run, PosFetch, fetch_id)


def _claim(fetch_id: str) -> PosFetch | None:
    now = timezone.now()
    due = Q(status__in=[PosFetchStatus.PENDING, PosFetchStatus.RETRYING], next_attempt_at__lte=now)
    abandoned = Q(
        status=PosFetchStatus.RUNNING,
        updated_at__lt=now - POS_FETCH_LEASE,
        attempts__lt=POS_MAX_ATTEMPTS,
    )
    # The message that named it is taken: from now on its lease runs from ``updated_at``.
    claimed = PosFetch.objects.filter(due | abandoned, id=fetch_id).update(
        status=PosFetchStatus.RUNNING, attempts=F("attempts") + 1, updated_at=now, queued_at=None
    )
    if not claimed:
        return None
    return PosFetch.objects.select_related("shipper").get(id=fetch_id)


def _finish(fetch: PosFetch, status: str, **fields) -> None:
    for name, value in fields.items():
        setattr(fetch, name, value)
    fetch.status = status
    fetch.save()


def pos_fetch_run(*, fetch_id: str) -> PosFetch | None:
    """Fetch the entity of one POS event and apply it. Safe to run twice: the row is claimed.

    Whatever goes wrong stays with this fetch: it ends failed with its error (retried only
    when the database stumbled), never running for the sweeper to start again and again.
    """
    fetch = _claim(fetch_id)
    if fetch is None:
        return None
    try:
        return _fetch_and_apply(fetch)
    except Exception as exc:
        return _fail_unexpectedly(fetch, exc)


def _fail_unexpectedly(fetch: PosFetch, exc: Exception) -> PosFetch:
    logger.exception("POS fetch %s failed unexpectedly.", fetch.id)
    fields = {
        "status": PosFetchStatus.FAILED,
        "outcome": "failed: unexpected error, not retried",
        "last_error": f"{type(exc).__name__}: {exc}"[:POS_ERROR_KEEP_CHARS],
        "last_status_code": fetch.last_status_code,
        "updated_at": timezone.now(),
    }
    if isinstance(exc, OperationalError) and fetch.attempts < POS_MAX_ATTEMPTS:
        # A locked or lost database heals; the sweeper takes the fetch up when it is due.
        wait = POS_RETRY_SCHEDULE[fetch.attempts - 1]
        fields.update(
            status=PosFetchStatus.RETRYING, outcome="", next_attempt_at=timezone.now() + wait
        )
    # Written by id: what the failed apply left on ``fetch`` (an order rolled back) is void.
    PosFetch.objects.filter(id=fetch.id).update(**fields)
    fetch.refresh_from_db()
    return fetch


def _fetch_and_apply(fetch: PosFetch) -> PosFetch:
    event_type = POS_EVENT_TYPES[fetch.event_type]
    integration = pos_integration_for(shipper=fetch.shipper, live_mode=fetch.live_mode)
    try:
        if integration is None:
            raise PosFetchRetryable("No active POS integration for this shipper and mode.")
        response = _entity_get(fetch, integration, event_type)
        fetch.last_status_code = response.status_code
        if response.status_code == 404:
            with transaction.atomic():
                outcome = event_type.on_gone(fetch)
                _finish(fetch, PosFetchStatus.DONE, outcome=outcome, last_error="")
        elif response.status_code == 200:
            with transaction.atomic():
                outcome = event_type.apply(fetch, response)
                _finish(fetch, PosFetchStatus.DONE, outcome=outcome, last_error="")
        else:
            raise PosFetchRetryable(
                f"The POS answered {response.status_code}: {response.text[:500]}"
            )
    except (InvalidInput, Conflict, UnsafeTarget) as exc:
        detail = exc.as_body() if hasattr(exc, "as_body") else {"detail": str(exc)}
        _finish(fetch, PosFetchStatus.FAILED, last_error=str(detail), outcome="failed: not retried")
    except PosFetchRetryable as exc:
        _retry_or_fail(fetch, exc)
    return fetch


def _entity_get(
    fetch: PosFetch, integration: PosIntegration, event_type: PosEventType
) -> requests.Response:
    """GET the entity from the POS; a request that gets no answer is worth retrying."""
    url = pos_entity_url(integration=integration, event_type=event_type, entity_id=fetch.entity_id)
    check_public_url(url)
    headers = {"Accept": "application/json"}
    if integration.auth_header_value:
        headers[integration.auth_header_name] = integration.auth_header_value
    try:
        with outbound_session() as session:
            return session.get(
                url,
                headers=headers,
                timeout=settings.POS_FETCH_TIMEOUT_S,
                allow_redirects=False,
            )
    except requests.RequestException as exc:
        raise PosFetchRetryable(f"{type(exc).__name__}: {exc}") from exc


def _retry_or_fail(fetch: PosFetch, exc: PosFetchRetryable) -> None:
    """Queue the next attempt after its wait, or fail the fetch once the schedule is over."""
    from orders.tasks import pos_fetch_run as task

    if fetch.attempts > len(POS_RETRY_SCHEDULE):
        _finish(fetch, PosFetchStatus.FAILED, last_error=str(exc), outcome="failed after retries")
        return
    wait = POS_RETRY_SCHEDULE[fetch.attempts - 1]
    due = timezone.now() + wait
    # Queued with a countdown: its message stands for the attempt's time.
    _finish(
        fetch,
        PosFetchStatus.RETRYING,
        last_error=str(exc),
        next_attempt_at=due,
        queued_at=due,
    )
    enqueue(
        task,
        str(fetch.id),
        countdown=wait.total_seconds(),
        on_failure=lambda: PosFetch.objects.filter(id=fetch.id).update(queued_at=None),
    )


def pos_fetch_retry_now(*, fetch: PosFetch) -> None:
    """A dispatcher's retry: the fetch is due again at once, whatever its state."""
    now = timezone.now()
    PosFetch.objects.filter(id=fetch.id).exclude(status=PosFetchStatus.RUNNING).update(
        status=PosFetchStatus.RETRYING, next_attempt_at=now, updated_at=now, queued_at=now
    )
    _queue_on_commit(fetch.id)


def pos_fetch_sweep(*, now=None) -> int:
    """Queue the fetches that are lost: due with no message out for them, their message
    waited past ``POS_FETCH_QUEUE_LEASE``, or their worker vanished; returns how many."""
    from orders.tasks import pos_fetch_run as task

    now = now or timezone.now()
    abandoned = Q(status=PosFetchStatus.RUNNING, updated_at__lt=now - POS_FETCH_LEASE)
    # Whatever in a fetch stops its worker would stop the next one too.
    PosFetch.objects.filter(abandoned, attempts__gte=POS_MAX_ATTEMPTS).update(
        status=PosFetchStatus.FAILED,
        outcome=f"failed: its worker stopped during {POS_MAX_ATTEMPTS} attempts",
        updated_at=now,
    )
    room = queue_room(task, ceiling=POS_SWEEP_QUEUE_CEILING)
    if not room:
        logger.info("POS fetch sweeper: the POS fetch queue is full; nothing queued.")
        return 0
    open_rows = PosFetch.objects.filter(status__in=POS_FETCH_OPEN_STATUSES)
    lost = [
        # Due, and nothing queued for it: a message the broker refused.
        open_rows.filter(
            status__in=[PosFetchStatus.PENDING, PosFetchStatus.RETRYING],
            queued_at__isnull=True,
            next_attempt_at__lte=now,
        ).order_by("next_attempt_at"),
        # Queued, and still not taken long after: the message is lost.
        open_rows.filter(queued_at__lt=now - settings.POS_FETCH_QUEUE_LEASE).order_by("queued_at"),
        # Taken by a worker that vanished.
        open_rows.filter(abandoned, queued_at__isnull=True).order_by("updated_at"),
    ]
    with transaction.atomic():
        ids = rows_take(lost, limit=min(POS_SWEEP_BATCH, room), stamp={"queued_at": now})
    for fetch_id in ids:
        _queue(fetch_id)
    return len(ids)


# --- integrations -----------------------------------------------------------------------

# RFC 9110 token characters: anything else in a header name is refused by the HTTP client
# at every fetch, so it is refused once, here, instead.
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")


def pos_integration_check(
    *, base_url: str | None, auth_header_name: str, auth_header_value: str
) -> None:
    """Refuse what a fetch would refuse, when the integration is saved rather than at send:
    a URL the outbound guard will not call, plain http in production, a broken header.

    ``base_url`` is None when it is unchanged: switching an integration off must not depend
    on its host resolving today, and every fetch checks the URL again anyway."""
    errors = []
    refusal = _base_url_refusal(base_url) if base_url is not None else None
    if refusal:
        errors.append(refusal)
    if not _HEADER_NAME.match(auth_header_name):
        errors.append(("authHeaderName", "invalid", "Not a valid HTTP header name."))
    if any(char in auth_header_value for char in "\r\n\0"):
        errors.append(("authHeaderValue", "invalid", "Line breaks and NUL are not allowed."))
    if errors:
        raise InvalidInput(
            "Invalid POS integration.",
            errors=[{"field": f, "code": c, "message": m} for f, c, m in errors],
        )


def _base_url_refusal(base_url: str) -> tuple[str, str, str] | None:
    plain_http_allowed = settings.DEBUG or settings.WEBHOOK_ALLOW_PRIVATE_TARGETS
    if not base_url.startswith("https://") and not (
        plain_http_allowed and base_url.startswith("http://")
    ):
        # The auth header travels with every fetch; it never goes out in clear text.
        return ("baseUrl", "https_required", "POS URLs must use https.")
    try:
        check_public_url(base_url)
    except UnsafeTarget as exc:
        return ("baseUrl", "unsafe_target", str(exc))
    return None


@transaction.atomic
def pos_integration_save(
    *,
    shipper: Shipper,
    live_mode: bool,
    base_url: str,
    auth_header_name: str = "Authorization",
    auth_header_value: str | None = None,
    active: bool = True,
    integration: PosIntegration | None = None,
) -> PosIntegration:
    """Create ``integration`` (None) or change it. The auth value is write-only: None keeps
    the stored one, so a form that never shows it can be saved without it."""
    if integration is None:
        integration = PosIntegration()
    else:
        integration = PosIntegration.objects.select_for_update().get(pk=integration.pk)
    if auth_header_value is None:
        auth_header_value = integration.auth_header_value
    url_is_new = integration.pk is None or integration.base_url != base_url
    pos_integration_check(
        base_url=base_url if url_is_new else None,
        auth_header_name=auth_header_name,
        auth_header_value=auth_header_value,
    )
    integration.shipper = shipper
    integration.live_mode = live_mode
    integration.base_url = base_url
    integration.auth_header_name = auth_header_name
    integration.auth_header_value = auth_header_value
    integration.active = active
    try:
        with transaction.atomic():
            integration.save()
    except IntegrityError as exc:
        raise Conflict(
            "This shipper already has a POS integration in this mode.",
            code="pos_integration_exists",
        ) from exc
    return integration
