"""The next state of a delivery and of its subscription after an attempt, as pure functions:
no database, no clock, no randomness (the retry schedule is passed in)."""

from datetime import UTC, datetime, timedelta

import pytest

from webhooks.models import DeliveryStatus
from webhooks.sending import (
    SUBSCRIPTION_FAILING_TOO_LONG,
    SUBSCRIPTION_GONE,
    Outcome,
    delivery_next_state,
    subscription_next_state,
)

NOW = datetime(2025, 12, 1, 12, 0, tzinfo=UTC)
EARLIER = NOW - timedelta(hours=1)
# Waits after attempt 1, 2, 3; after the third the schedule is spent.
SCHEDULE = (timedelta(seconds=5), timedelta(minutes=30), timedelta(hours=2))


def retry_in(attempts_made: int) -> timedelta | None:
    return SCHEDULE[attempts_made - 1] if attempts_made <= len(SCHEDULE) else None


def ok(code: int = 200) -> Outcome:
    return Outcome(at=NOW, duration_ms=12, status_code=code, response_body="ok")


def answered(code: int, body: str = "no") -> Outcome:
    return Outcome(at=NOW, duration_ms=12, status_code=code, response_body=body)


def broke(error: str, *, permanent: bool = False) -> Outcome:
    return Outcome(at=NOW, duration_ms=0, error=error, permanent=permanent)


# attempts made before, outcome → status, next attempt at, queued at, retry soon, gone, error
DELIVERY_CASES = [
    ("first try delivered", 0, ok(), DeliveryStatus.DELIVERED, EARLIER, None, False, False, ""),
    ("any 2xx delivers", 2, ok(204), DeliveryStatus.DELIVERED, EARLIER, None, False, False, ""),
    (
        "a 503 retries soon",
        0,
        answered(503, "down"),
        DeliveryStatus.RETRYING,
        NOW + timedelta(seconds=5),
        NOW + timedelta(seconds=5),
        True,
        False,
        "HTTP 503: down",
    ),
    (
        "a later retry waits for the sweeper",
        1,
        answered(500),
        DeliveryStatus.RETRYING,
        NOW + timedelta(minutes=30),
        None,
        False,
        False,
        "HTTP 500: no",
    ),
    (
        "a timeout retries like an error answer",
        0,
        broke("timed out after 10 s"),
        DeliveryStatus.RETRYING,
        NOW + timedelta(seconds=5),
        NOW + timedelta(seconds=5),
        True,
        False,
        "timed out after 10 s",
    ),
    (
        "the schedule spent, it dies",
        3,
        answered(500),
        DeliveryStatus.DEAD,
        EARLIER,
        None,
        False,
        False,
        "HTTP 500: no",
    ),
    (
        "a 410 dies at once and takes its subscription",
        0,
        answered(410, "gone"),
        DeliveryStatus.DEAD,
        EARLIER,
        None,
        False,
        True,
        "HTTP 410: gone",
    ),
    (
        "a permanent failure dies at once",
        0,
        broke("payload over 262144 bytes", permanent=True),
        DeliveryStatus.DEAD,
        EARLIER,
        None,
        False,
        False,
        "payload over 262144 bytes",
    ),
    (
        "a redirect is a failure",
        0,
        answered(302, ""),
        DeliveryStatus.RETRYING,
        NOW + timedelta(seconds=5),
        NOW + timedelta(seconds=5),
        True,
        False,
        "HTTP 302: ",
    ),
]


@pytest.mark.parametrize(
    ("made", "outcome", "status", "next_at", "queued_at", "soon", "gone", "error"),
    [case[1:] for case in DELIVERY_CASES],
    ids=[case[0] for case in DELIVERY_CASES],
)
def test_the_next_state_of_a_delivery(made, outcome, status, next_at, queued_at, soon, gone, error):
    state = delivery_next_state(
        attempts=made,
        next_attempt_at=EARLIER,
        queued_at=None,
        outcome=outcome,
        now=NOW,
        retry_in=retry_in,
    )

    assert state.status == status
    assert state.attempts == made + 1
    assert state.last_status_code == outcome.status_code
    assert state.last_error == error
    assert state.delivered_at == (NOW if status == DeliveryStatus.DELIVERED else None)
    assert state.next_attempt_at == next_at
    assert state.queued_at == queued_at
    assert state.retry_soon is soon
    assert state.gone is gone


def test_a_long_error_answer_is_kept_short():
    state = delivery_next_state(
        attempts=0,
        next_attempt_at=EARLIER,
        queued_at=None,
        outcome=answered(500, "x" * 5000),
        now=NOW,
        retry_in=retry_in,
    )

    assert state.last_error == "HTTP 500: " + "x" * 200


FIVE_DAYS = timedelta(days=5)
LONG_AGO = NOW - timedelta(days=6)
# failing since, delivered, failed, gone → failing since, disable
SUBSCRIPTION_CASES = [
    ("healthy stays healthy", None, True, False, False, None, ""),
    ("one through ends a streak", EARLIER, True, True, False, None, ""),
    ("a first failure starts a streak", None, False, True, False, NOW, ""),
    ("a streak goes on", EARLIER, False, True, False, EARLIER, ""),
    ("a streak past the limit switches it off", LONG_AGO, False, True, False, LONG_AGO,
     SUBSCRIPTION_FAILING_TOO_LONG),
    ("an old streak ended by a success stays on", LONG_AGO, True, True, False, None, ""),
    ("a 410 switches it off at once", None, False, True, True, NOW, SUBSCRIPTION_GONE),
    ("a 410 beside a success still switches it off", None, True, True, True, None,
     SUBSCRIPTION_GONE),
    ("nothing in the batch changes nothing", LONG_AGO, False, False, False, LONG_AGO, ""),
]  # fmt: skip


@pytest.mark.parametrize(
    ("since", "delivered", "failed", "gone", "next_since", "disable"),
    [case[1:] for case in SUBSCRIPTION_CASES],
    ids=[case[0] for case in SUBSCRIPTION_CASES],
)
def test_the_next_state_of_a_subscription(since, delivered, failed, gone, next_since, disable):
    state = subscription_next_state(
        failing_since=since,
        delivered=delivered,
        failed=failed,
        gone=gone,
        now=NOW,
        disable_after=FIVE_DAYS,
    )

    assert state.failing_since == next_since
    assert state.disable == disable
