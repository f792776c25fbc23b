"""The send rate across dispatchers: shared through a real Redis, else each process's own."""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
import redis

from notifications.dispatcher import Dispatcher
from notifications.send_rate import ProcessRateLimiter, RedisRateLimiter, rate_limiter
from notifications.senders.base import OutgoingSms, SendResult
from notifications.senders.memory import InMemorySmsSender
from notifications.texts import default_catalog
from scheduler.db.engine import Database
from scheduler.db.outbox_store import SqlOutboxStore
from tests.support import seed
from tests.support.clock import FixedClock
from tests.support.databases import DatabaseHandle

pytestmark = pytest.mark.anyio
REDIS_URL = os.environ.get("CRENEAU_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
MONDAY_NOON = datetime(2026, 11, 30, 11, 0, tzinfo=UTC)
RATE = 10.0
MESSAGES = 24
LEASE = timedelta(seconds=8)
"""Claims of RATE * LEASE / 8 = 10 messages: both dispatchers get some."""


@pytest.fixture
async def db(database: DatabaseHandle) -> AsyncIterator[Database]:
    handle = Database.from_url(database.url)
    yield handle
    await handle.dispose()


@pytest.fixture
def rate_key() -> str:
    """A key of this test's own: other runs on the same Redis keep their budgets."""
    try:
        assert redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        raise AssertionError(f"Redis is not reachable at {REDIS_URL} (set CRENEAU_TEST_REDIS_URL)") from exc
    return f"test:sms-send-rate:{secrets.token_hex(8)}"


class TimedSender(InMemorySmsSender):
    """The in-memory sender, noting when each message went (one clock for every dispatcher)."""

    def __init__(self, sent_at: list[float]) -> None:
        super().__init__()
        self.sent_at = sent_at

    async def send(self, message: OutgoingSms) -> SendResult:
        self.sent_at.append(time.monotonic())
        return await super().send(message)


def most_in_one_second(times: list[float]) -> int:
    """The most sends any one-second window holds."""
    ordered = sorted(times)
    return max(
        sum(1 for other in ordered[index:] if other < start + 1.0) for index, start in enumerate(ordered)
    )


async def two_dispatchers(db: Database, redis_url: str | None, rate_key: str = "") -> list[float]:
    """Two dispatchers (two database handles, two limiters: two processes' worth) sending side by side."""
    clock = FixedClock(MONDAY_NOON)
    prog = await seed.programme(db)
    await seed.appointments_with_due_messages(
        db, prog, MESSAGES, datetime(2026, 12, 9, 8, tzinfo=UTC), clock.now()
    )
    other_db = Database.from_url(str(db.engine.url.render_as_string(hide_password=False)))
    sent_at: list[float] = []
    dispatchers = [
        Dispatcher(
            store=SqlOutboxStore(handle),
            sender=TimedSender(sent_at),
            catalog=default_catalog(),
            clock=clock,
            quiet=None,
            limiter=rate_limiter(RATE, redis_url, rate_key or "unused"),
            rate_per_second=RATE,
            lease=LEASE,
        )
        for handle in (db, other_db)
    ]
    try:
        reports = await asyncio.gather(*(dispatcher.run_once() for dispatcher in dispatchers))
    finally:
        for dispatcher in dispatchers:
            await dispatcher.aclose()
        await other_db.dispose()
    assert sum(report.sent for report in reports) == MESSAGES
    assert all(report.sent for report in reports), "one dispatcher sent everything: nothing was shared"
    return sent_at


async def test_two_dispatchers_sharing_redis_keep_to_one_rate(db: Database, rate_key: str) -> None:
    sent_at = await two_dispatchers(db, REDIS_URL, rate_key)
    assert most_in_one_second(sent_at) <= RATE + 1  # spaced 1/RATE apart: a window may catch both ends
    assert max(sent_at) - min(sent_at) >= (MESSAGES - 1) / RATE * 0.95


async def test_without_redis_each_dispatcher_has_the_whole_rate(db: Database) -> None:
    # What CRENEAU_REDIS_URL is for: two processes, each at the full rate, send twice as fast.
    sent_at = await two_dispatchers(db, None)
    assert most_in_one_second(sent_at) > RATE + 1


async def test_the_shared_budget_spaces_acquisitions_across_limiters(rate_key: str) -> None:
    limiters = [RedisRateLimiter(REDIS_URL, 20.0, rate_key) for _ in range(3)]
    started = time.monotonic()
    await asyncio.gather(*(limiter.acquire() for limiter in limiters for _ in range(7)))
    elapsed = time.monotonic() - started
    for limiter in limiters:
        await limiter.aclose()
    assert elapsed >= 20 / 20.0 * 0.95  # 21 acquisitions at 20/s: the last waits a second


async def test_without_an_answer_from_redis_a_process_paces_itself(caplog: pytest.LogCaptureFixture) -> None:
    limiter = RedisRateLimiter("redis://127.0.0.1:9/0", 20.0, "unused")  # nothing listens on port 9
    started = time.monotonic()
    for _ in range(5):
        await limiter.acquire()
    await limiter.aclose()
    assert time.monotonic() - started >= 4 / 20.0 * 0.95
    warnings = [
        r for r in caplog.records if r.levelno == logging.WARNING and "Redis unavailable" in r.getMessage()
    ]
    assert len(warnings) == 1


def test_a_rate_must_be_positive() -> None:
    with pytest.raises(ValueError, match="send rate must be positive"):
        ProcessRateLimiter(0)
