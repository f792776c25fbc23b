"""Fixed-window counters: at most N hits per key in each window, counted in this process or in Redis.

``WindowStore.local()`` keeps the counts in this process (each worker and replica counts on its
own). ``WindowStore.redis(url)`` keeps them in Redis, shared by every process using that Redis:
each hit is one atomic script (``INCR``, then ``PEXPIRE`` on the window's first hit), so replicas
racing never let more than N hits through a window.

Should Redis not answer, the process counts in its own memory (logged once, and once again when
Redis is back) and asks Redis again only after ``RETRY_SECONDS``, so an unreachable Redis costs one
slow request per process now and then, never a refused or failed one.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from redis.asyncio import Redis

log = logging.getLogger("creneau.limits")

WINDOW_SECONDS = 60.0
# Above this many keys, finished windows are dropped (bounded memory under a flood of guesses).
PRUNE_ABOVE = 10_000
KEY_PREFIX = "creneau:limit:"
"""Where the shared counts live in Redis: ``creneau:limit:<counter>:<key>``."""
REDIS_TIMEOUT_SECONDS = 2.0
"""Longest a Redis call may take (waiting for a connection, then for the answer) before the hit is
counted in this process instead; generous, since a busy event loop reads even a prompt answer late."""
REDIS_CONNECTIONS = 16
"""Connections to Redis per process at most: a burst of requests queues for them, not for new ones."""
RETRY_SECONDS = 5.0
"""How long a process counts on its own after Redis failed to answer, before asking it again."""

# KEYS[1]: the counter; ARGV[1]: the window (ms). Returns the count and the window's ms left.
_HIT = """
local count = redis.call('INCR', KEYS[1])
local left = redis.call('PTTL', KEYS[1])
if count == 1 or left < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  left = tonumber(ARGV[1])
end
return {count, left}
"""
# The same without counting a hit.
_PEEK = """
local count = tonumber(redis.call('GET', KEYS[1]) or '0')
return {count, redis.call('PTTL', KEYS[1])}
"""


@dataclass
class WindowCounter:
    """At most ``limit`` hits per key in each window of ``window`` seconds, in this process."""

    limit: int
    window: float = WINDOW_SECONDS
    _hits: dict[str, tuple[float, int]] = field(default_factory=dict)

    def allow(self, key: str, now: float) -> bool:
        """Count a hit for ``key`` at ``now`` (monotonic seconds); False once over the limit."""
        return self.count(key, now) <= self.limit

    def count(self, key: str, now: float) -> int:
        """Count a hit for ``key`` at ``now``; the window's hits so far, this one included."""
        started, count = self._hits.get(key, (now, 0))
        if now - started >= self.window:
            started, count = now, 0
        self._hits[key] = (started, count + 1)
        if len(self._hits) > PRUNE_ABOVE:
            self._prune(now)
        return count + 1

    def spent(self, key: str, now: float) -> bool:
        """Whether ``key`` has used up this window's hits, without counting one."""
        started, count = self._hits.get(key, (now, 0))
        return now - started < self.window and count >= self.limit

    def retry_after(self, key: str, now: float) -> int:
        """Whole seconds until ``key``'s window ends."""
        started, _ = self._hits.get(key, (now, 0))
        return max(1, int(started + self.window - now + 0.999))

    def _prune(self, now: float) -> None:
        self._hits = {key: value for key, value in self._hits.items() if now - value[0] < self.window}


@dataclass(frozen=True, slots=True)
class Verdict:
    """One key's window after a hit (or a look)."""

    allowed: bool
    """The hit is within the limit (for a look: the key has hits left)."""
    count: int
    """Hits in the window so far."""
    retry_after: int
    """Whole seconds until the window ends (at least 1)."""


class Windows:
    """One named limit (``limit`` hits per ``window`` seconds per key), in the store that made it."""

    def __init__(self, store: WindowStore, name: str, limit: int, window: float) -> None:
        self.store, self.name, self.limit, self.window = store, name, limit, window
        self.local = WindowCounter(limit, window)

    async def hit(self, key: str) -> Verdict:
        """Count a hit for ``key``."""
        shared = await self.store.run(_HIT, f"{KEY_PREFIX}{self.name}:{key}", int(self.window * 1000))
        if shared is not None:
            count, left_ms = shared
            return Verdict(count <= self.limit, count, _seconds(left_ms))
        now = time.monotonic()
        count = self.local.count(key, now)
        return Verdict(count <= self.limit, count, self.local.retry_after(key, now))

    async def spent(self, key: str) -> Verdict | None:
        """The 429's verdict when ``key`` has used up its window's hits, else None (nothing counted)."""
        shared = await self.store.run(_PEEK, f"{KEY_PREFIX}{self.name}:{key}")
        if shared is not None:
            count, left_ms = shared
            return Verdict(False, count, _seconds(left_ms)) if count >= self.limit and left_ms > 0 else None
        now = time.monotonic()
        if not self.local.spent(key, now):
            return None
        return Verdict(False, self.limit, self.local.retry_after(key, now))


class WindowStore:
    """Where every limit of a process counts: its memory, or Redis (``CRENEAU_REDIS_URL``)."""

    def __init__(self, url: str | None) -> None:
        self.url = url
        self._client: Redis | None = None
        self._scripts: dict[str, Any] = {}
        self._down_until = 0.0
        self._degraded = False

    @classmethod
    def local(cls) -> WindowStore:
        """Counts in this process only."""
        return cls(None)

    @classmethod
    def redis(cls, url: str) -> WindowStore:
        """Counts in Redis at ``url``, shared by every process using it; the connection opens on first use."""
        return cls(url)

    def windows(self, name: str, limit: int, window: float = WINDOW_SECONDS) -> Windows:
        """The limit called ``name`` (its counts' namespace), of ``limit`` hits per ``window`` seconds."""
        return Windows(self, name, limit, window)

    async def run(self, script: str, key: str, *args: int) -> tuple[int, int] | None:
        """Run ``script`` on ``key`` in Redis: (count, ms left); None when counting in memory."""
        if self.url is None or time.monotonic() < self._down_until:
            return None
        # Imported here: the redis package is only needed by deployments that use it.
        from redis.exceptions import RedisError

        try:
            count, left = await self._script(script)(keys=[key], args=list(args))
        except (RedisError, OSError, TimeoutError) as exc:
            self._down_until = time.monotonic() + RETRY_SECONDS
            if not self._degraded:
                log.warning("rate limits: Redis unavailable (%s), counting in this process",
                            type(exc).__name__)
                self._degraded = True
            return None
        if self._degraded:
            log.info("rate limits: Redis is back, counts are shared again")
            self._degraded = False
        return int(count), int(left)

    async def aclose(self) -> None:
        """Close the connection pool."""
        if self._client is not None:
            await self._client.aclose(close_connection_pool=True)
        self._client, self._scripts = None, {}

    def _script(self, source: str) -> Any:
        if self._client is None:
            from redis.asyncio import BlockingConnectionPool, Redis

            assert self.url is not None
            pool = BlockingConnectionPool.from_url(
                self.url, max_connections=REDIS_CONNECTIONS, timeout=REDIS_TIMEOUT_SECONDS,
                socket_timeout=REDIS_TIMEOUT_SECONDS, socket_connect_timeout=REDIS_TIMEOUT_SECONDS)
            self._client = Redis(connection_pool=pool)
        if source not in self._scripts:
            self._scripts[source] = self._client.register_script(source)
        return self._scripts[source]


def _seconds(milliseconds: int) -> int:
    return max(1, -(-milliseconds // 1000))
