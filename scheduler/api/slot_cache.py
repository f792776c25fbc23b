"""A short-lived, per-process cache of slot pages, for the clients that poll the same search.

Correctness does not rest on it: a booking always re-checks in the database. An entry lives
at most ``ttl`` seconds and dies as soon as this process commits any write (``Database.generation``),
so a process never serves its own stale answer; another worker's change shows within ``ttl``.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable

MAX_ENTRIES = 2048


class SlotPageCache:
    """Serialized pages by query, each tagged with the write generation it was computed at."""

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._entries: OrderedDict[Hashable, tuple[float, int, bytes]] = OrderedDict()
        self._computing: dict[tuple[Hashable, int], asyncio.Future[bytes]] = {}

    async def get_or_compute(self, key: Hashable, generation: int, compute: Callable[[], Awaitable[bytes]]) -> bytes:
        """The cached page, or one computation shared by every request that misses at once.

        Without this, when an entry expires (or a write clears the cache) every waiting request
        runs the same search at the same moment: a stampede that costs seconds at 64 connections.
        """
        if self.ttl <= 0:
            return await compute()  # no cache: every request computes its own answer
        cached = self.get(key, generation)
        if cached is not None:
            return cached
        running = self._computing.get((key, generation))
        if running is not None:
            return await asyncio.shield(running)
        future: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self._computing[(key, generation)] = future
        try:
            body = await compute()
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved here: nobody else may be waiting for it
            raise
        finally:
            self._computing.pop((key, generation), None)
        future.set_result(body)
        self.put(key, generation, body)
        return body

    def get(self, key: Hashable, generation: int) -> bytes | None:
        """The page for ``key`` if still fresh for this generation."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        expires, born, body = entry
        if born != generation or expires < time.monotonic():
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return body

    def put(self, key: Hashable, generation: int, body: bytes) -> None:
        """Remember a page (the oldest entries make room)."""
        if self.ttl <= 0:
            return
        self._entries[key] = (time.monotonic() + self.ttl, generation, body)
        self._entries.move_to_end(key)
        while len(self._entries) > MAX_ENTRIES:
            self._entries.popitem(last=False)
