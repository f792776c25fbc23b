"""The slot page cache: an entry dies with its time to live or with any write of the process."""

from __future__ import annotations

import time

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
