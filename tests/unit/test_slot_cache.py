"""The slot page cache: an entry dies with its time to live or with any write of the process."""

from __future__ import annotations

import asyncio
import time

import pytest

from scheduler.api.slot_cache import SlotPageCache


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
