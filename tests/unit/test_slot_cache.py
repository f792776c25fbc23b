"""The slot page cache: an entry dies with its time to live or with any write of the process."""

from __future__ import annotations

import asyncio
import time

import pytest

from scheduler.api.slot_cache import ENTRY_OVERHEAD_BYTES, SlotPageCache


def test_a_page_is_served_again_within_its_time_to_live() -> None:
    cache = SlotPageCache(ttl=60)
    cache.put(("q",), 3, b"page")
    assert cache.get(("q",), 3) == b"page"
    assert cache.get(("other",), 3) is None


def test_a_write_in_the_process_invalidates_every_page() -> None:
    cache = SlotPageCache(ttl=60)
    cache.put(("q",), 3, b"page")
    assert cache.get(("q",), 4) is None
    assert cache.get(("q",), 3) is None  # dropped, not kept for an older generation


def test_a_page_expires() -> None:
    cache = SlotPageCache(ttl=0.05)
    cache.put(("q",), 1, b"page")
    time.sleep(0.1)
    assert cache.get(("q",), 1) is None


def test_a_zero_time_to_live_caches_nothing() -> None:
    cache = SlotPageCache(ttl=0)
    cache.put(("q",), 1, b"page")
    assert cache.get(("q",), 1) is None


def test_requests_missing_together_share_one_computation() -> None:
    cache = SlotPageCache(ttl=60)
    calls = 0

    async def compute() -> bytes:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.05)
        return b"page"

    async def burst() -> list[bytes]:
        return await asyncio.gather(*(cache.get_or_compute(("q",), 1, compute) for _ in range(20)))

    assert asyncio.run(burst()) == [b"page"] * 20
    assert calls == 1


def test_a_failed_computation_fails_every_waiter_and_is_not_cached() -> None:
    cache = SlotPageCache(ttl=60)

    async def compute() -> bytes:
        await asyncio.sleep(0.01)
        raise LookupError("no such service")

    async def burst() -> list[object]:
        return await asyncio.gather(*(cache.get_or_compute(("q",), 1, compute) for _ in range(3)),
                                    return_exceptions=True)

    assert [type(result) for result in asyncio.run(burst())] == [LookupError] * 3
    assert cache.get(("q",), 1) is None
    with pytest.raises(LookupError):
        asyncio.run(cache.get_or_compute(("q",), 1, compute))


class SteppedClock:
    """A monotonic clock that moves only when told."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_pages_are_bounded_in_bytes_least_recently_used_first() -> None:
    cache = SlotPageCache(ttl=60, max_bytes=3 * (10_000 + ENTRY_OVERHEAD_BYTES))
    for name in ("a", "b", "c"):
        cache.put((name,), 1, b"x" * 10_000)
    assert cache.get(("a",), 1) is not None  # "a" is now the most recently used
    cache.put(("d",), 1, b"x" * 10_000)
    assert cache.get(("b",), 1) is None
    assert [cache.get((name,), 1) is not None for name in ("a", "c", "d")] == [True, True, True]
    assert cache.size_bytes == 3 * (10_000 + ENTRY_OVERHEAD_BYTES)


def test_many_small_pages_or_one_large_one_stay_under_the_bound() -> None:
    cache = SlotPageCache(ttl=60, max_bytes=1_000_000)
    for number in range(3000):
        cache.put(("search", number), 1, b"x" * 100_000)
    assert cache.size_bytes <= 1_000_000 and len(cache) == 9
    cache.put(("huge",), 1, b"x" * 2_000_000)
    assert cache.get(("huge",), 1) is None and len(cache) == 9


def test_replacing_a_page_does_not_count_it_twice() -> None:
    cache = SlotPageCache(ttl=60, max_bytes=1_000_000)
    cache.put(("q",), 1, b"x" * 1000)
    cache.put(("q",), 2, b"y" * 1000)
    assert cache.size_bytes == 1000 + ENTRY_OVERHEAD_BYTES and cache.get(("q",), 2) == b"y" * 1000


def test_a_sweep_drops_expired_pages_only() -> None:
    clock = SteppedClock()
    cache = SlotPageCache(ttl=2, monotonic=clock)
    cache.put(("old",), 1, b"page")
    clock.now += 1.5
    cache.put(("new",), 1, b"page")
    clock.now += 1.0
    cache.sweep()
    assert len(cache) == 1 and cache.get(("new",), 1) == b"page"
    assert cache.size_bytes == len(b"page") + ENTRY_OVERHEAD_BYTES


def test_an_idle_cache_empties_itself() -> None:
    cache = SlotPageCache(ttl=0.05)

    async def fill_then_idle() -> int:
        await cache.get_or_compute(("q",), 1, _page)
        assert len(cache) == 1
        await asyncio.sleep(0.3)  # no request at all meanwhile
        return len(cache)

    assert asyncio.run(fill_then_idle()) == 0
    assert cache.size_bytes == 0


async def _page() -> bytes:
    return b"page"
