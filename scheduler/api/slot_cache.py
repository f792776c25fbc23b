"""A short-lived, per-process cache of slot pages, for the clients that poll the same search.

Each page is kept with the change counters it was computed at (``scheduler.db.counters``: the
rules', and each searched staff member's and interpreter's, raised by database triggers in the
transaction of every write). A page is served again only after one read of those counters
gives the same values, so a slot booked, or a rule changed, through any process is never
offered again by this one, without waiting. ``ttl`` bounds reuse as time passes alone (a slot
too close to now to be booked). A booking always re-checks in the database anyway.

Memory is bounded in bytes, not entries (a page of 500 slots weighs about 100 KB: 2,048 such
entries took a process from 146 to 359 MB), and expired pages are dropped by a sweep that runs
every ``ttl`` while the cache holds anything, so an idle process does not keep them.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable, Sequence
from typing import Protocol

from scheduler.ports import MonotonicClock, system_monotonic


class Counters(Protocol):
    """Some change counters as one read saw them (``scheduler.db.counters.Counters``)."""

    @property
    def keys(self) -> tuple[str, ...]: ...

    @property
    def seqs(self) -> tuple[int, ...]: ...


Computed = tuple[bytes, Counters]
"""A page's body and the counters it was computed at (read in the same snapshot as its data)."""
CurrentCounters = Callable[[Sequence[str]], Awaitable[Counters]]
"""Reads the current values of some counters."""

DEFAULT_MAX_BYTES = 8 * 1024 * 1024
# What an entry costs besides its page: the key (a query tuple), the tuple and the dict slot.
ENTRY_OVERHEAD_BYTES = 512
# What each change counter kept with a page costs: its key (a str of ~45 characters), its value
# and their places in two tuples. A département-wide page depends on dozens of staff members.
COUNTER_BYTES = 128


class SlotPageCache:
    """Serialized pages by query, each tagged with the change counters it was computed at."""

    def __init__(self, ttl: float, max_bytes: int = DEFAULT_MAX_BYTES,
                 monotonic: MonotonicClock = system_monotonic) -> None:
        self.ttl = ttl
        self.max_bytes = max_bytes
        self._monotonic = monotonic
        self._entries: OrderedDict[Hashable, tuple[float, Counters, bytes]] = OrderedDict()
        self._computing: dict[Hashable, asyncio.Future[Computed]] = {}
        self._sweeper: asyncio.TimerHandle | None = None
        self._sweeper_loop: asyncio.AbstractEventLoop | None = None
        self.size_bytes = 0
        """What the kept pages weigh, with ``ENTRY_OVERHEAD_BYTES`` and their counters' bytes each."""

    def __len__(self) -> int:
        return len(self._entries)

    async def get_or_compute(
        self, key: Hashable, compute: Callable[[], Awaitable[Computed]], current: CurrentCounters
    ) -> bytes:
        """The cached page if its counters are still current, or one computation shared by every
        request that misses at once.

        Without the sharing, when an entry expires (or a write changes its counters) every waiting
        request runs the same search at the same moment: a stampede that costs seconds at 64
        connections. A request that joins a computation started before it came checks the
        result's counters afterwards (one read), so it never gets a page older than a write
        committed before it arrived.
        """
        if self.ttl <= 0:
            return (await compute())[0]  # no cache: every request computes its own answer
        cached = self.get(key)
        if cached is not None:
            seen, body = cached
            if (await current(seen.keys)).seqs == seen.seqs:
                return body
            self._drop(key)
        running = self._computing.get(key)
        if running is not None:
            body, seen = await asyncio.shield(running)
            if (await current(seen.keys)).seqs == seen.seqs:
                return body
            return (await compute())[0]
        future: asyncio.Future[Computed] = asyncio.get_running_loop().create_future()
        self._computing[key] = future
        try:
            computed = await compute()
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved here: nobody else may be waiting for it
            raise
        finally:
            self._computing.pop(key, None)
        future.set_result(computed)
        self.put(key, *computed)
        return computed[0]

    def get(self, key: Hashable) -> tuple[Counters, bytes] | None:
        """The page for ``key`` and its counters, unless expired (the caller checks the counters)."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        expires, seen, body = entry
        if expires < self._monotonic():
            self._drop(key)
            return None
        self._entries.move_to_end(key)
        return seen, body

    def put(self, key: Hashable, body: bytes, seen: Counters) -> None:
        """Remember a page (the least recently used make room; a page over the bound is not kept)."""
        if self.ttl <= 0 or _weight(body, seen) > self.max_bytes:
            return
        if key in self._entries:
            self._drop(key)
        self._entries[key] = (self._monotonic() + self.ttl, seen, body)
        self.size_bytes += _weight(body, seen)
        while self.size_bytes > self.max_bytes:
            self._drop(next(iter(self._entries)))
        self._schedule_sweep()
    def sweep(self) -> None:
        """Drop every expired page."""
        now = self._monotonic()
        for key in [key for key, (expires, _, _) in self._entries.items() if expires < now]:
            self._drop(key)

    def _drop(self, key: Hashable) -> None:
        _, seen, body = self._entries.pop(key)
        self.size_bytes -= _weight(body, seen)

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


def _weight(body: bytes, seen: Counters) -> int:
    """What a kept page costs in memory, estimated."""
    return len(body) + ENTRY_OVERHEAD_BYTES + COUNTER_BYTES * len(seen.keys)
