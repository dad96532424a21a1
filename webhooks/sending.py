"""Sending deliveries: claim a batch, sign each message with Standard Webhooks, post them side
by side over one pooled HTTP client, and write the outcome back in bulk.

The Delivery row is the truth: a task only names rows, claims them with a lease, and a
sweeper queues whatever is due with no message out for it, whose message waited past its
lease, or whose worker's lease ran out (``config/sweeping.py``), so a lost task or a dead
worker delays a delivery but never loses it. Delivery is at least once: receivers dedupe on
``webhook-id`` (the event id, the same for every attempt and replay).

Claiming and settling a batch are a fixed number of statements whatever its size, and the
claim reaches its rows through the primary key alone, so a batch costs the same whatever
the backlog behind it and whatever the table's statistics say.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import functools
import json
import logging
import os
import random
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import aiohttp
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.db.models import Case, F, Q, TextField, Value, When
from django.db.models.functions import Cast, Coalesce
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from config.outbound import UnsafeTarget, check_public_url, outbound_connector
from config.sweeping import queue_room, rows_take
from webhooks.models import (
    DELIVERY_DUE_STATUSES,
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    Subscription,
)

logger = logging.getLogger(__name__)

# Retries due within this are queued with a countdown; later ones wait for the sweeper.
COUNTDOWN_HORIZON = timedelta(minutes=5)
# Rows one sweep queues at most: two reads over the partial indexes of waiting rows and one
# UPDATE (0.3 s for 5,000 on PostgreSQL here; 0.7 s with their 50 messages published). Every
# 10 s that is 500 deliveries/s, half what the workers send, so catching up after an outage
# never outruns them.
SWEEP_LIMIT = 5_000
# The sweeper tops the deliveries queue up to this many messages and no further: anything it
# added to a longer queue would only wait behind the rest.
SWEEP_QUEUE_CEILING = 100
RESPONSE_KEEP_BYTES = 1024
CONNECTIONS_PER_HOST = 50


def retry_delay(attempts_made: int) -> timedelta | None:
    """The wait before the next attempt, or None when the schedule is spent."""
    schedule = settings.WEBHOOK_RETRY_SCHEDULE_S
    if attempts_made >= len(schedule):
        return None
    base = schedule[attempts_made]
    jitter = settings.WEBHOOK_RETRY_JITTER
    return timedelta(seconds=base * random.uniform(1 - jitter, 1 + jitter))  # noqa: S311


def signing_secrets(subscription: Subscription, now: datetime) -> list[str]:
    """The current secret, and the previous one while its overlap lasts."""
    keys = [subscription.secret]
    expires = subscription.previous_secret_expires_at
    if subscription.previous_secret and expires and expires > now:
        keys.append(subscription.previous_secret)
    return keys


@functools.lru_cache(maxsize=1024)
def _signer(key: str) -> Webhook:
    return Webhook(key)


def signed_headers(*, msg_id: str, body: str, keys: list[str], at: datetime) -> dict[str, str]:
    signatures = " ".join(_signer(key).sign(msg_id, at, body) for key in keys)
    return {
        "Content-Type": "application/json",
        "User-Agent": "Waybill-Webhooks/1.0",
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signatures,
    }


def envelope_json(delivery: Delivery) -> str:
    stored = getattr(delivery, "data_json", None)
    if stored is not None:
        # The data as PostgreSQL renders the stored JSON, spliced in as it is: decoding and
        # encoding it again took a quarter of the worker's time on a batch.
        head = json.dumps(delivery.event.envelope_head(delivery.version), ensure_ascii=False)
        return f'{head[:-1]}, "data": {stored}}}'
    event = delivery.event
    envelope = event.envelope()
    envelope["version"] = delivery.version
    if delivery.payload is not None:
        envelope["data"] = delivery.payload
    return json.dumps(envelope, cls=DjangoJSONEncoder, ensure_ascii=False)


@dataclass
class Outgoing:
    delivery: Delivery
    url: str
    body: bytes
    headers: dict[str, str]


@dataclass
class Outcome:
    at: datetime
    duration_ms: int
    status_code: int | None = None
    response_body: str = ""
    error: str = ""
    permanent: bool = False  # no retry can help (a malformed URL, a payload too large)

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def deliveries_claim(*, delivery_ids: list[str]) -> list[Delivery]:
    """Take for this worker the deliveries of ``delivery_ids`` that are due, or whose worker's
    lease ran out, and load them with their events and subscriptions: three statements on
    PostgreSQL, whatever the batch."""
    now = timezone.now()
    until = now + settings.WEBHOOK_CLAIM_LEASE
    if connection.vendor == "postgresql":
        ids = _claim_by_primary_key(delivery_ids, now, until)
    else:
        claimable = Q(status__in=DELIVERY_DUE_STATUSES, next_attempt_at__lte=now) | Q(
            status=DeliveryStatus.SENDING, claimed_until__lt=now
        )
        with transaction.atomic():
            ids = list(
                Delivery.objects.select_for_update(skip_locked=True)
                .filter(claimable, id__in=delivery_ids)
                .order_by()
                .values_list("id", flat=True)
            )
            if ids:
                Delivery.objects.filter(id__in=ids).update(
                    status=DeliveryStatus.SENDING, claimed_until=until, queued_at=None
                )
    if not ids:
        return []
    loaded = Delivery.objects.filter(id__in=ids).select_related("event").order_by()
    if connection.vendor == "postgresql":
        # The JSON each message carries, as text (see ``envelope_json``): a pinned version's
        # payload, else the event's data.
        loaded = loaded.defer("payload", "event__data").annotate(
            data_json=Coalesce(Cast("payload", TextField()), Cast("event__data", TextField()))
        )
    deliveries = list(loaded)
    # Read once each, not once per delivery: a batch mostly goes to a few subscriptions.
    subscriptions = Subscription.objects.in_bulk({d.subscription_id for d in deliveries})
    for delivery in deliveries:
        delivery.subscription = subscriptions[delivery.subscription_id]
    return deliveries


def _claim_by_primary_key(delivery_ids: list[str], now: datetime, until: datetime) -> list:
    """One statement, reaching the rows by primary key only: its cost is the batch's, never
    the backlog's, and it does not hang on the planner reading fresh statistics right. The
    message that named the rows is taken, so their ``queued_at`` goes too."""
    table = connection.ops.quote_name(Delivery._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH claimable AS (
                SELECT id FROM {table}
                WHERE id = ANY(%(ids)s)
                  AND ((status = ANY(%(due)s) AND next_attempt_at <= %(now)s)
                       OR (status = %(sending)s AND claimed_until < %(now)s))
                FOR UPDATE SKIP LOCKED
            )
            UPDATE {table} AS delivery
            SET status = %(sending)s, claimed_until = %(until)s, queued_at = NULL
            FROM claimable WHERE delivery.id = claimable.id
            RETURNING delivery.id
            """,
            {
                "ids": [uuid.UUID(str(i)) for i in delivery_ids],
                "due": [str(s) for s in DELIVERY_DUE_STATUSES],
                "sending": str(DeliveryStatus.SENDING),
                "now": now,
                "until": until,
            },
        )
        return [row[0] for row in cursor.fetchall()]


def _prepare(deliveries: list[Delivery]) -> tuple[list[Outgoing], dict[str, Outcome]]:
    """Messages to send, and outcomes decided without sending (unsafe URL, oversized)."""
    now = timezone.now()
    outgoing, decided = [], {}
    checked: dict[str, UnsafeTarget | None] = {}
    for delivery in deliveries:
        subscription = delivery.subscription
        if subscription.url not in checked:
            try:
                check_public_url(subscription.url)
                checked[subscription.url] = None
            except UnsafeTarget as exc:
                checked[subscription.url] = exc
        body = envelope_json(delivery)
        refused = checked[subscription.url]
        if refused is not None:
            decided[str(delivery.id)] = Outcome(
                at=now, duration_ms=0, error=str(refused), permanent=refused.permanent
            )
            continue
        if len(body.encode()) > settings.WEBHOOK_MAX_PAYLOAD_BYTES:
            decided[str(delivery.id)] = Outcome(
                at=now,
                duration_ms=0,
                error=f"payload over {settings.WEBHOOK_MAX_PAYLOAD_BYTES} bytes",
                permanent=True,
            )
            continue
        headers = signed_headers(
            msg_id=str(delivery.event_id),
            body=body,
            keys=signing_secrets(subscription, now),
            at=now,
        )
        outgoing.append(Outgoing(delivery, subscription.url, body.encode(), headers))
    return outgoing, decided


async def _post(session: aiohttp.ClientSession, message: Outgoing) -> Outcome:
    at = timezone.now()
    started = time.monotonic()
    try:
        async with session.post(
            message.url, data=message.body, headers=message.headers, allow_redirects=False
        ) as response:
            head = await response.content.read(RESPONSE_KEEP_BYTES)
            return Outcome(
                at=at,
                duration_ms=int((time.monotonic() - started) * 1000),
                status_code=response.status,
                response_body=head.decode("utf-8", "replace"),
            )
    except TimeoutError:
        error = f"timed out after {settings.WEBHOOK_TIMEOUT_S:g} s"
    except aiohttp.ClientError as exc:
        error = f"{type(exc).__name__}: {exc}"
    except UnsafeTarget as exc:
        # The connector refused what the host resolves to now (the check before sending
        # saw another answer): recorded like the check's own refusal.
        return Outcome(
            at=at,
            duration_ms=int((time.monotonic() - started) * 1000),
            error=str(exc)[:1000],
            permanent=exc.permanent,
        )
    return Outcome(at=at, duration_ms=int((time.monotonic() - started) * 1000), error=error[:1000])


def _session() -> aiohttp.ClientSession:
    """A pooled client; make it inside the loop that will run it."""
    return aiohttp.ClientSession(
        timeout=aiohttp.ClientTimeout(total=settings.WEBHOOK_TIMEOUT_S),
        connector=outbound_connector(limit_per_host=CONNECTIONS_PER_HOST),
    )


async def _post_all(
    messages: list[Outgoing], session: aiohttp.ClientSession | None = None
) -> list[Outcome | BaseException]:
    if session is None:
        async with _session() as session:
            return await _post_all(messages, session)
    # One message's unexpected error must not take its batch-mates' outcomes with it.
    return await asyncio.gather(*(_post(session, m) for m in messages), return_exceptions=True)


class _KeptSender:
    """One event loop and one pooled HTTP client for the life of a worker process.

    A batch then reuses the keep-alive connections the last one opened, where a client of its
    own opened up to ``CONNECTIONS_PER_HOST`` new ones per batch: connecting was about half
    of the time spent posting. A connection was checked when it was opened, and stays with
    the address it was opened to.
    """

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.loop = asyncio.new_event_loop()
        threading.Thread(target=self.loop.run_forever, name="webhook-sender", daemon=True).start()
        self.session = self._run(self._open(), timeout=None)
        atexit.register(self.close)

    async def _open(self) -> aiohttp.ClientSession:
        return _session()

    def _run(self, coroutine, timeout: float | None):
        future = asyncio.run_coroutine_threadsafe(coroutine, self.loop)
        try:
            return future.result(timeout)
        except BaseException:  # a task's time limit: its posts stop with it
            future.cancel()
            raise

    def post(self, messages: list[Outgoing]) -> list[Outcome | BaseException]:
        return self._run(_post_all(messages, self.session), timeout=None)

    def close(self) -> None:
        if os.getpid() == self.pid and not self.session.closed:
            with contextlib.suppress(Exception):
                self._run(self.session.close(), timeout=5)
        self.loop.call_soon_threadsafe(self.loop.stop)


_kept: _KeptSender | None = None
_kept_lock = threading.Lock()
_keep_connections = False


def keep_connections() -> None:
    """From now on this process keeps its HTTP client between batches (a worker does)."""
    global _keep_connections
    _keep_connections = True


def _sender() -> _KeptSender | None:
    global _kept
    if not _keep_connections:
        return None
    with _kept_lock:
        if _kept is None or _kept.pid != os.getpid():  # a forked child starts its own
            _kept = _KeptSender()
        return _kept


def post_messages(messages: list[Outgoing]) -> list[Outcome]:
    if not messages:
        return []
    sender = _sender()
    results = sender.post(messages) if sender else asyncio.run(_post_all(messages))
    for result in results:
        if isinstance(result, BaseException) and not isinstance(result, Exception):
            raise result
    return [r if isinstance(r, Outcome) else unsent(r, doing="Sending") for r in results]


def unsent(exc: BaseException, *, doing: str, permanent: bool = False) -> Outcome:
    """The outcome of a message that an error other than the receiver's answer stopped."""
    return Outcome(
        at=timezone.now(),
        duration_ms=0,
        error=f"{doing} failed: {type(exc).__name__}: {exc}"[:1000],
        permanent=permanent,
    )


@dataclass(frozen=True)
class DeliveryNext:
    """What one attempt's outcome makes of a delivery: its new columns, and what follows."""

    status: str
    attempts: int
    last_status_code: int | None
    last_error: str
    delivered_at: datetime | None
    next_attempt_at: datetime | None
    queued_at: datetime | None
    retry_soon: bool = False  # queue it now with a countdown (due within COUNTDOWN_HORIZON)
    gone: bool = False  # the receiver answered 410 Gone: its subscription goes off


def delivery_next_state(
    *,
    attempts: int,
    next_attempt_at: datetime | None,
    queued_at: datetime | None,
    outcome: Outcome,
    now: datetime,
    retry_in: Callable[[int], timedelta | None],
) -> DeliveryNext:
    """The state a delivery with ``attempts`` made moves to after one more with ``outcome``.

    Pure: the retry schedule comes in as ``retry_in`` (attempts made → the wait, or None when
    the schedule is spent; ``retry_delay`` in production). A 2xx delivers; a 410 or a failure
    no retry can help kills it at once; any other failure is retried after the schedule's
    wait, or dies when the schedule is spent.
    """
    made = attempts + 1
    error = outcome.error or (
        "" if outcome.succeeded else f"HTTP {outcome.status_code}: {outcome.response_body[:200]}"
    )
    common = {"attempts": made, "last_status_code": outcome.status_code, "last_error": error}
    if outcome.succeeded:
        return DeliveryNext(
            status=DeliveryStatus.DELIVERED,
            delivered_at=now,
            next_attempt_at=next_attempt_at,
            queued_at=queued_at,
            **common,
        )
    gone = outcome.status_code == 410
    delay = None if gone or outcome.permanent else retry_in(made)
    if delay is None:
        return DeliveryNext(
            status=DeliveryStatus.DEAD,
            delivered_at=None,
            next_attempt_at=next_attempt_at,
            queued_at=queued_at,
            gone=gone,
            **common,
        )
    at = now + delay
    soon = delay <= COUNTDOWN_HORIZON
    return DeliveryNext(
        status=DeliveryStatus.RETRYING,
        delivered_at=None,
        next_attempt_at=at,
        # Queued with a countdown: its message stands for the attempt's time.
        queued_at=at if soon else queued_at,
        retry_soon=soon,
        **common,
    )


SUBSCRIPTION_GONE = "gone"
SUBSCRIPTION_FAILING_TOO_LONG = "failing-too-long"


@dataclass(frozen=True)
class SubscriptionNext:
    failing_since: datetime | None
    disable: str = ""  # SUBSCRIPTION_GONE, SUBSCRIPTION_FAILING_TOO_LONG, or "" to keep it on


def subscription_next_state(
    *,
    failing_since: datetime | None,
    delivered: bool,
    failed: bool,
    gone: bool,
    now: datetime,
    disable_after: timedelta,
) -> SubscriptionNext:
    """What one batch's outcomes make of a subscription. Pure.

    One delivery through ends its failing streak; failures alone start one or go on with it.
    A 410 switches it off at once, and so does a streak, with nothing delivered, older than
    ``disable_after``.
    """
    if delivered:
        since = None
    elif failed and failing_since is None:
        since = now
    else:
        since = failing_since
    if gone:
        return SubscriptionNext(since, SUBSCRIPTION_GONE)
    if (
        failed
        and not delivered
        and failing_since is not None
        and failing_since < now - disable_after
    ):
        return SubscriptionNext(since, SUBSCRIPTION_FAILING_TOO_LONG)
    return SubscriptionNext(since)


def _settle(deliveries: list[Delivery], outcomes: dict[str, Outcome]) -> list[Delivery]:
    """Work out each delivery's and subscription's next state, and write them all in bulk;
    returns the deliveries to queue again with a countdown."""
    now = timezone.now()
    nexts = {
        delivery.id: delivery_next_state(
            attempts=delivery.attempts,
            next_attempt_at=delivery.next_attempt_at,
            queued_at=delivery.queued_at,
            outcome=outcomes[str(delivery.id)],
            now=now,
            retry_in=retry_delay,
        )
        for delivery in deliveries
    }
    subscriptions = {d.subscription_id: d.subscription for d in deliveries}
    seen: dict = {i: {"delivered": False, "failed": False, "gone": False} for i in subscriptions}
    for delivery in deliveries:
        state = nexts[delivery.id]
        batch = seen[delivery.subscription_id]
        batch["delivered"] |= state.status == DeliveryStatus.DELIVERED
        batch["failed"] |= state.status != DeliveryStatus.DELIVERED
        batch["gone"] |= state.gone
    subscription_nexts = {
        i: subscription_next_state(
            failing_since=subscription.failing_since,
            now=now,
            disable_after=settings.WEBHOOK_DISABLE_AFTER,
            **seen[i],
        )
        for i, subscription in subscriptions.items()
    }
    _settle_write(deliveries, outcomes, nexts, subscription_nexts, now)
    return [d for d in deliveries if nexts[d.id].retry_soon]


def _settle_write(
    deliveries: list[Delivery],
    outcomes: dict[str, Outcome],
    nexts: dict,
    subscription_nexts: dict,
    now: datetime,
) -> None:
    """Write a batch's attempts and next states in a fixed number of statements."""
    attempts, delivered, failed = _settled_rows(deliveries, outcomes, nexts)
    subscriptions = {d.subscription_id: d.subscription for d in deliveries}
    with transaction.atomic():
        _deliveries_write(attempts, delivered, failed, now)
        _subscriptions_failing_write(subscriptions, subscription_nexts, now)
    _subscriptions_disable(subscriptions, subscription_nexts, now)


def _settled_rows(
    deliveries: list[Delivery], outcomes: dict[str, Outcome], nexts: dict
) -> tuple[list[DeliveryAttempt], dict[int, list], list[Delivery]]:
    """The attempt rows to insert, and each delivery set to its next state: the ids of the
    delivered ones by status code, the others as rows to update."""
    attempts = []
    delivered: dict[int, list] = {}
    failed = []
    for delivery in deliveries:
        outcome, state = outcomes[str(delivery.id)], nexts[delivery.id]
        attempts.append(
            DeliveryAttempt(
                delivery=delivery,
                at=outcome.at,
                duration_ms=outcome.duration_ms,
                status_code=outcome.status_code,
                response_body=outcome.response_body,
                error=outcome.error,
            )
        )
        delivery.status, delivery.attempts = state.status, state.attempts
        delivery.last_status_code, delivery.last_error = state.last_status_code, state.last_error
        delivery.next_attempt_at, delivery.queued_at = state.next_attempt_at, state.queued_at
        delivery.claimed_until = None
        if state.status == DeliveryStatus.DELIVERED:
            delivery.delivered_at = state.delivered_at
            delivered.setdefault(state.last_status_code, []).append(delivery.id)
        else:
            failed.append(delivery)
    return attempts, delivered, failed


def _deliveries_write(
    attempts: list[DeliveryAttempt],
    delivered: dict[int, list],
    failed: list[Delivery],
    now: datetime,
) -> None:
    DeliveryAttempt.objects.bulk_create(attempts)
    # Successes, the common case, share their new values: one UPDATE per status code
    # instead of a CASE per row and column.
    for status_code, ids in delivered.items():
        Delivery.objects.filter(id__in=ids).update(
            status=DeliveryStatus.DELIVERED,
            delivered_at=now,
            attempts=F("attempts") + 1,
            last_status_code=status_code,
            last_error="",
            claimed_until=None,
        )
    if failed:
        Delivery.objects.bulk_update(
            failed,
            [
                "status",
                "attempts",
                "last_status_code",
                "last_error",
                "claimed_until",
                "next_attempt_at",
                "queued_at",
            ],
        )


def _subscriptions_failing_write(
    subscriptions: dict, subscription_nexts: dict, now: datetime
) -> None:
    """Start or end the failing spell of the subscriptions whose state changed.

    Read with the claim: in the common case (all healthy, none failing before) no statement
    at all. A change another worker made since is caught by its next batch."""
    recovered = [
        i
        for i, state in subscription_nexts.items()
        if state.failing_since is None and subscriptions[i].failing_since is not None
    ]
    newly_failing = [
        i
        for i, state in subscription_nexts.items()
        if state.failing_since is not None and subscriptions[i].failing_since is None
    ]
    if recovered:
        Subscription.objects.filter(id__in=recovered, failing_since__isnull=False).update(
            failing_since=None
        )
    if newly_failing:
        Subscription.objects.filter(id__in=newly_failing, failing_since__isnull=True).update(
            failing_since=now
        )


def _subscriptions_disable(subscriptions: dict, subscription_nexts: dict, now: datetime) -> None:
    from webhooks.services import subscription_disable

    for i, state in subscription_nexts.items():
        if state.disable == SUBSCRIPTION_GONE:
            subscription_disable(
                subscription=subscriptions[i], reason="The receiver answered 410 Gone."
            )
    long_failing = {
        i for i, s in subscription_nexts.items() if s.disable == SUBSCRIPTION_FAILING_TOO_LONG
    }
    if long_failing:
        _disable_long_failing(long_failing, now)


def _disable_long_failing(subscription_ids: set, now: datetime) -> None:
    from webhooks.services import subscription_disable

    cutoff = now - settings.WEBHOOK_DISABLE_AFTER
    for subscription in Subscription.objects.filter(
        id__in=subscription_ids, active=True, failing_since__lt=cutoff
    ).select_related("shipper"):
        days = settings.WEBHOOK_DISABLE_AFTER.total_seconds() / 86400
        subscription_disable(
            subscription=subscription,
            reason=f"Every delivery failed for {days:g} days; last error: see the delivery log.",
        )


def _prepare_each(deliveries: list[Delivery]) -> tuple[list[Outgoing], dict[str, Outcome]]:
    """``_prepare``, with a delivery whose message cannot be built (its stored payload does not
    serialise, say) settled alone as dead, and its batch-mates sent as usual."""
    try:
        return _prepare(deliveries)
    except Exception:
        logger.exception("Preparing a batch of %d webhook messages failed.", len(deliveries))
    outgoing, decided = [], {}
    for delivery in deliveries:
        try:
            messages, outcomes = _prepare([delivery])
        except Exception as exc:  # the stored event will not change: retrying cannot help
            decided[str(delivery.id)] = unsent(exc, doing="Building the message", permanent=True)
            continue
        outgoing += messages
        decided.update(outcomes)
    return outgoing, decided


def deliveries_send(*, delivery_ids: list[str]) -> int:
    """Claim, send and settle a batch; returns how many were sent. Safe to run twice."""
    from config.queue import enqueue
    from webhooks.tasks import deliveries_send as task

    deliveries = deliveries_claim(delivery_ids=delivery_ids)
    if not deliveries:
        return 0
    active = [d for d in deliveries if d.subscription.active]
    inactive = [d for d in deliveries if not d.subscription.active]
    if inactive:
        Delivery.objects.filter(id__in=[d.id for d in inactive]).update(
            status=DeliveryStatus.CANCELLED, claimed_until=None
        )
    messages, outcomes = _prepare_each(active)
    try:
        sent = post_messages(messages)
    except Exception as exc:  # nothing was sent; each delivery counts an attempt and backs off
        logger.exception("Sending a batch of %d webhook messages failed.", len(messages))
        sent = [unsent(exc, doing="Sending") for _ in messages]
    for message, outcome in zip(messages, sent, strict=True):
        outcomes[str(message.delivery.id)] = outcome
    retry_soon = _settle(active, outcomes)
    by_delay: dict[int, list[str]] = {}
    now = timezone.now()
    for delivery in retry_soon:
        wait = max(0, int((delivery.next_attempt_at - now).total_seconds() + 0.999))
        by_delay.setdefault(wait, []).append(str(delivery.id))
    for wait, ids in by_delay.items():
        # Refused: no message is out for them, and the sweeper queues them when they are due.
        enqueue(
            task,
            ids,
            countdown=wait,
            on_failure=lambda ids=ids: Delivery.objects.filter(id__in=ids).update(queued_at=None),
        )
    return len(messages)


def deliveries_sweep(*, now: datetime | None = None) -> int:
    """Queue the deliveries that are lost: due with no message out for them (a later retry,
    a refused publish, a worker that vanished), or their message waited past
    ``WEBHOOK_QUEUE_LEASE``. At most ``SWEEP_LIMIT``, and only while the deliveries queue is
    shorter than its ceiling; returns how many."""
    from webhooks.services import DELIVERY_BATCH, deliveries_queue
    from webhooks.tasks import deliveries_send

    now = now or timezone.now()
    # The worker that took these vanished: they are due again, with no message out for them.
    Delivery.objects.filter(status=DeliveryStatus.SENDING, claimed_until__lt=now).update(
        status=Case(
            When(attempts=0, then=Value(DeliveryStatus.PENDING)),
            default=Value(DeliveryStatus.RETRYING),
        ),
        claimed_until=None,
        queued_at=None,
    )
    room = queue_room(deliveries_send, ceiling=SWEEP_QUEUE_CEILING)
    if not room:
        logger.info("Webhook sweeper: the deliveries queue is full; nothing queued.")
        return 0
    waiting = Delivery.objects.filter(status__in=DELIVERY_DUE_STATUSES)
    lost = [
        # Due, and no message out for it.
        waiting.filter(queued_at__isnull=True, next_attempt_at__lte=now).order_by(
            "next_attempt_at"
        ),
        # Queued, and still not taken long after: the message is lost.
        waiting.filter(queued_at__lt=now - settings.WEBHOOK_QUEUE_LEASE).order_by("queued_at"),
    ]
    with transaction.atomic():
        ids = rows_take(
            lost, limit=min(SWEEP_LIMIT, room * DELIVERY_BATCH), stamp={"queued_at": now}
        )
    # Queued once the stamps are committed (a sweep runs in a task of its own).
    deliveries_queue(delivery_ids=ids)
    logger.info("Webhook sweeper queued %d deliveries in batches of %d.", len(ids), DELIVERY_BATCH)
    return len(ids)


def subscription_send_test(*, subscription: Subscription) -> Outcome:
    """Send a signed ``WebhookTest`` event now and return the receiver's answer."""
    import uuid

    now = timezone.now()
    msg_id = str(uuid.uuid4())
    body = json.dumps(
        {
            "id": msg_id,
            "type": "WebhookTest",
            "version": "1.0",
            "liveMode": subscription.live_mode,
            "dateTime": now.isoformat().replace("+00:00", "Z"),
            "data": {"subscriptionId": str(subscription.id), "message": "Hello from Waybill."},
        }
    )
    try:
        check_public_url(subscription.url)
    except UnsafeTarget as exc:
        return Outcome(at=now, duration_ms=0, error=str(exc))
    headers = signed_headers(
        msg_id=msg_id, body=body, keys=signing_secrets(subscription, now), at=now
    )
    delivery = Delivery(subscription=subscription)
    return post_messages([Outgoing(delivery, subscription.url, body.encode(), headers)])[0]
