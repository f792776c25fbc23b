"""The slot page cache: an entry dies with its time to live or as soon as a counter it depends on moves.

The counters are a dict here (the real ones, in the database, in tests/api/test_shared_caches.py).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

import pytest

from scheduler.api.slot_cache import COUNTER_BYTES, ENTRY_OVERHEAD_BYTES, SlotPageCache
from scheduler.db.counters import Counters

KEYS = ("rules", "staff:1")
OVERHEAD = ENTRY_OVERHEAD_BYTES + COUNTER_BYTES * len(KEYS)  # what an entry weighs besides its page
COUNTERS = {"rules": 3, "staff:1": 7}


def at(seq: int = 7) -> Counters:
    """What a computation read: ``staff:1`` at ``seq``."""
    return Counters(KEYS, (3, seq), (0, 0))


async def current(keys: Sequence[str]) -> Counters:
    return Counters(tuple(keys), tuple(COUNTERS.get(key, 0) for key in keys), (0,) * len(keys))


def test_a_page_is_served_again_while_its_counters_stay_put() -> None:
    cache = SlotPageCache(ttl=60)
    computed: list[int] = []

    async def compute() -> tuple[bytes, Counters]:
        computed.append(COUNTERS["staff:1"])
        return f"page {COUNTERS['staff:1']}".encode(), at(COUNTERS["staff:1"])

    async def ask() -> bytes:
        return await cache.get_or_compute(("q",), compute, current)

    assert asyncio.run(ask()) == asyncio.run(ask()) == b"page 7"
    COUNTERS["staff:1"] = 8  # a booking, by any process
    try:
        assert asyncio.run(ask()) == b"page 8"
    finally:
        COUNTERS["staff:1"] = 7
    assert computed == [7, 8]


def test_a_page_expires() -> None:
    cache = SlotPageCache(ttl=0.05)
    cache.put(("q",), b"page", at())
    time.sleep(0.1)
    assert cache.get(("q",)) is None


def test_a_zero_time_to_live_caches_nothing() -> None:
    cache = SlotPageCache(ttl=0)
    cache.put(("q",), b"page", at())
    assert cache.get(("q",)) is None


def test_requests_missing_together_share_one_computation() -> None:
    cache = SlotPageCache(ttl=60)
    calls = 0

    async def compute() -> tuple[bytes, Counters]:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.05)
        return b"page", at()

    async def burst() -> list[bytes]:
        return await asyncio.gather(*(cache.get_or_compute(("q",), compute, current) for _ in range(20)))

    assert asyncio.run(burst()) == [b"page"] * 20
    assert calls == 1


def test_a_failed_computation_fails_every_waiter_and_is_not_cached() -> None:
    cache = SlotPageCache(ttl=60)

    async def compute() -> tuple[bytes, Counters]:
        await asyncio.sleep(0.01)
        raise LookupError("no such service")

    async def burst() -> list[object]:
        return await asyncio.gather(*(cache.get_or_compute(("q",), compute, current) for _ in range(3)),
                                    return_exceptions=True)

    assert [type(result) for result in asyncio.run(burst())] == [LookupError] * 3
    assert cache.get(("q",)) is None
    with pytest.raises(LookupError):
        asyncio.run(cache.get_or_compute(("q",), compute, current))


def test_a_request_joining_a_computation_that_a_write_overtook_computes_its_own() -> None:
    cache = SlotPageCache(ttl=60)
    started = asyncio.Event()

    async def slow() -> tuple[bytes, Counters]:
        started.set()
        await asyncio.sleep(0.05)
        return b"old page", at(7)

    async def fresh() -> tuple[bytes, Counters]:
        return b"new page", at(8)

    async def race() -> list[bytes]:
        first = asyncio.create_task(cache.get_or_compute(("q",), slow, current))
        await started.wait()
        COUNTERS["staff:1"] = 8  # committed after the first search read, before the second came
        try:
            second = await cache.get_or_compute(("q",), fresh, current)
        finally:
            COUNTERS["staff:1"] = 7
        return [await first, second]

    assert asyncio.run(race()) == [b"old page", b"new page"]


class SteppedClock:
    """A monotonic clock that moves only when told."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_pages_are_bounded_in_bytes_least_recently_used_first() -> None:
    cache = SlotPageCache(ttl=60, max_bytes=3 * (10_000 + OVERHEAD))
    for name in ("a", "b", "c"):
        cache.put((name,), b"x" * 10_000, at())
    assert cache.get(("a",)) is not None  # "a" is now the most recently used
    cache.put(("d",), b"x" * 10_000, at())
    assert cache.get(("b",)) is None
    assert [cache.get((name,)) is not None for name in ("a", "c", "d")] == [True, True, True]
    assert cache.size_bytes == 3 * (10_000 + OVERHEAD)


def test_many_small_pages_or_one_large_one_stay_under_the_bound() -> None:
    cache = SlotPageCache(ttl=60, max_bytes=1_000_000)
    for number in range(3000):
        cache.put(("search", number), b"x" * 100_000, at())
    assert cache.size_bytes <= 1_000_000 and len(cache) == 9
    cache.put(("huge",), b"x" * 2_000_000, at())
    assert cache.get(("huge",)) is None and len(cache) == 9


def test_replacing_a_page_does_not_count_it_twice() -> None:
    cache = SlotPageCache(ttl=60, max_bytes=1_000_000)
    cache.put(("q",), b"x" * 1000, at(7))
    cache.put(("q",), b"y" * 1000, at(8))
    assert cache.size_bytes == 1000 + OVERHEAD and cache.get(("q",)) == (at(8), b"y" * 1000)


def test_a_sweep_drops_expired_pages_only() -> None:
    clock = SteppedClock()
    cache = SlotPageCache(ttl=2, monotonic=clock)
    cache.put(("old",), b"page", at())
    clock.now += 1.5
    cache.put(("new",), b"page", at())
    clock.now += 1.0
    cache.sweep()
    assert len(cache) == 1 and cache.get(("new",)) == (at(), b"page")
    assert cache.size_bytes == len(b"page") + OVERHEAD


def test_an_idle_cache_empties_itself() -> None:
    cache = SlotPageCache(ttl=0.05)

    async def fill_then_idle() -> int:
        await cache.get_or_compute(("q",), _page, current)
        assert len(cache) == 1
        await asyncio.sleep(0.3)  # no request at all meanwhile
        return len(cache)

    assert asyncio.run(fill_then_idle()) == 0
    assert cache.size_bytes == 0


async def _page() -> tuple[bytes, Counters]:
    return b"page", at()
