"""A short-lived, per-process cache of slot pages, for the clients that poll the same search.

Correctness does not rest on it: a booking always re-checks in the database. An entry lives
at most ``ttl`` seconds and dies as soon as this process commits any write (``Database.generation``),
so a process never serves its own stale answer; another worker's change shows within ``ttl``.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Hashable

MAX_ENTRIES = 2048


class SlotPageCache:
    """Serialized pages by query, each tagged with the write generation it was computed at."""

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._entries: OrderedDict[Hashable, tuple[float, int, bytes]] = OrderedDict()

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
