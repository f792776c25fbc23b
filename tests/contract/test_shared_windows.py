"""Fixed-window limits shared through a real Redis by several stores (as by several processes)."""

from __future__ import annotations

import asyncio
import logging
import os
import secrets

import pytest
import redis

from scheduler.observability.windows import WindowStore

pytestmark = pytest.mark.anyio
REDIS_URL = os.environ.get("CRENEAU_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
LIMIT = 5


@pytest.fixture
def name() -> str:
    """A limit of this test's own: other runs on the same Redis keep their counts."""
    try:
        assert redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        raise AssertionError(f"Redis is not reachable at {REDIS_URL} (set CRENEAU_TEST_REDIS_URL)") from exc
    return f"test-{secrets.token_hex(6)}"


async def test_three_processes_racing_let_exactly_the_limit_through(name: str) -> None:
    stores = [WindowStore.redis(REDIS_URL) for _ in range(3)]
    limits = [store.windows(name, LIMIT) for store in stores]
    hits = [limit.hit("address:198.51.100.7") for limit in limits for _ in range(8)]
    verdicts = await asyncio.gather(*hits)
    assert sum(verdict.allowed for verdict in verdicts) == LIMIT
    assert sorted(verdict.count for verdict in verdicts) == list(range(1, 25))
    assert all(0 < verdict.retry_after <= 60 for verdict in verdicts)
    # Another key has its own window; a look counts nothing.
    assert (await limits[0].hit("address:198.51.100.8")).count == 1
    spent = await limits[1].spent("address:198.51.100.7")
    assert spent is not None and not spent.allowed and spent.count == 24
    assert await limits[2].spent("address:198.51.100.8") is None
    assert (await limits[2].hit("address:198.51.100.8")).count == 2
    for store in stores:
        await store.aclose()


async def test_a_window_ends_and_counts_start_again(name: str) -> None:
    store = WindowStore.redis(REDIS_URL)
    limit = store.windows(name, 2, window=0.3)
    assert [(await limit.hit("k")).allowed for _ in range(3)] == [True, True, False]
    await asyncio.sleep(0.35)
    assert (await limit.hit("k")).count == 1
    await store.aclose()


async def test_without_an_answer_from_redis_each_process_counts_alone(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = WindowStore.redis("redis://127.0.0.1:9/0")  # nothing listens on port 9
    limit = store.windows("unused", 2)
    verdicts = [await limit.hit("k") for _ in range(3)]
    assert [verdict.allowed for verdict in verdicts] == [True, True, False]
    assert (await limit.spent("k")) is not None
    await store.aclose()
    warnings = [r for r in caplog.records
                if r.levelno == logging.WARNING and "Redis unavailable" in r.getMessage()]
    assert len(warnings) == 1
