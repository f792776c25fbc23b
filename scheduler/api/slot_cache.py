"""A short-lived, per-process cache of slot pages, for the clients that poll the same search.

Correctness does not rest on it: a booking always re-checks in the database. An entry lives
at most ``ttl`` seconds and dies as soon as this process commits any write (``Database.generation``),
so a process never serves its own stale answer; another worker's change shows within ``ttl``.

Memory is bounded in bytes, not entries (a page of 500 slots weighs about 100 KB: 2,048 such
entries took a process from 146 to 359 MB), and expired pages are dropped by a sweep that runs
every ``ttl`` while the cache holds anything, so an idle process does not keep them.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable

from scheduler.ports import MonotonicClock, system_monotonic

DEFAULT_MAX_BYTES = 8 * 1024 * 1024
# What an entry costs besides its page: the key (a query tuple), the tuple and the dict slot.
ENTRY_OVERHEAD_BYTES = 512


class SlotPageCache:
    """Serialized pages by query, each tagged with the write generation it was computed at."""

    def __init__(self, ttl: float, max_bytes: int = DEFAULT_MAX_BYTES,
                 monotonic: MonotonicClock = system_monotonic) -> None:
        self.ttl = ttl
        self.max_bytes = max_bytes
        self._monotonic = monotonic
        self._entries: OrderedDict[Hashable, tuple[float, int, bytes]] = OrderedDict()
        self._computing: dict[tuple[Hashable, int], asyncio.Future[bytes]] = {}
        self._sweeper: asyncio.TimerHandle | None = None
        self._sweeper_loop: asyncio.AbstractEventLoop | None = None
        self.size_bytes = 0
        """What the kept pages weigh, with ``ENTRY_OVERHEAD_BYTES`` each."""

    def __len__(self) -> int:
        return len(self._entries)

    async def get_or_compute(
        self, key: Hashable, generation: int, compute: Callable[[], Awaitable[bytes]]
    ) -> bytes:
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
        if born != generation or expires < self._monotonic():
            self._drop(key)
            return None
        self._entries.move_to_end(key)
        return body

    def put(self, key: Hashable, generation: int, body: bytes) -> None:
        """Remember a page (the least recently used make room; a page over the bound is not kept)."""
        if self.ttl <= 0 or len(body) + ENTRY_OVERHEAD_BYTES > self.max_bytes:
            return
        if key in self._entries:
            self._drop(key)
        self._entries[key] = (self._monotonic() + self.ttl, generation, body)
        self.size_bytes += len(body) + ENTRY_OVERHEAD_BYTES
        while self.size_bytes > self.max_bytes:
            self._drop(next(iter(self._entries)))
        self._schedule_sweep()

    def sweep(self) -> None:
        """Drop every expired page."""
        now = self._monotonic()
        for key in [key for key, (expires, _, _) in self._entries.items() if expires < now]:
            self._drop(key)

    def _drop(self, key: Hashable) -> None:
        _, _, body = self._entries.pop(key)
        self.size_bytes -= len(body) + ENTRY_OVERHEAD_BYTES

    def _schedule_sweep(self) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # used outside a loop (a script, a unit test): expired pages go when next met
        if self._sweeper is not None and self._sweeper_loop is loop:
            return
        self._sweeper, self._sweeper_loop = loop.call_later(self.ttl, self._sweep_and_reschedule), loop

    def _sweep_and_reschedule(self) -> None:
        self._sweeper = None
        self.sweep()
        if self._entries:
            self._schedule_sweep()
