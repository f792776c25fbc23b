"""When a failed delivery is tried again: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h, then it has failed.

Pure. Eight attempts in all spread over about 28 hours, so that a receiver down for a day still
gets everything; ``scale`` shortens the whole schedule (tests use a tiny one).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Final

RETRY_DELAYS: Final = (
    timedelta(seconds=5), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2),
    timedelta(hours=5), timedelta(hours=10), timedelta(hours=10),
)
MAX_ATTEMPTS: Final = len(RETRY_DELAYS) + 1
FAILING_DISABLES_AFTER: Final = timedelta(days=5)
"""An endpoint whose attempts have only failed for this long is disabled."""


def next_attempt_at(attempts_made: int, now: datetime, scale: float = 1.0) -> datetime | None:
    """When to try again after ``attempts_made`` failed attempts; None once the schedule is spent.

    Args:
        attempts_made: failed attempts so far, this one included (1 after the first).
        now: the time of the failed attempt.
        scale: multiplies every delay (1.0 in production).
    """
    if attempts_made < 1:
        raise ValueError("called after a failed attempt")
    if attempts_made >= MAX_ATTEMPTS:
        return None
    return now + RETRY_DELAYS[attempts_made - 1] * scale


def failing_too_long(failing_since: datetime, now: datetime) -> bool:
    """True when an endpoint has only failed for 5 days or more."""
    return now - failing_since >= FAILING_DISABLES_AFTER
