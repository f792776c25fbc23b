"""How fast SMS go to the provider: one process's budget, or one budget shared through Redis.

Both limiters space acquisitions ``1/rate`` seconds apart (no burst): each reserves the next
free instant and waits for it. ``ProcessRateLimiter`` keeps that instant in memory, so each
process has the whole budget to itself (three dispatching processes send three times the
rate). ``RedisRateLimiter`` keeps it in Redis, updated by a Lua script (atomic) on Redis's own
clock, so every process that uses the same key shares one budget.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from redis.asyncio import Redis

log = logging.getLogger("creneau.dispatch")

REDIS_KEY = "creneau:sms-send-rate"
"""Where the shared budget's next free instant lives: one per deployment (per Redis database)."""
REDIS_TIMEOUT_SECONDS = 1.0
"""Longest a Redis call may take; past it the process paces its sends alone, for that send."""
# KEYS[1]: the next free instant (microseconds, Redis clock); ARGV[1]: the interval (µs).
# Returns how long to wait (µs). The key expires once its instant is well past.
_RESERVE = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local interval = tonumber(ARGV[1])
local next_at = tonumber(redis.call('GET', KEYS[1]) or '0')
if next_at < now then next_at = now end
local expire_ms = math.floor((next_at + interval - now) / 1000) + 1000
redis.call('SET', KEYS[1], string.format('%.0f', next_at + interval), 'PX', expire_ms)
return next_at - now
"""


class RateLimiter(Protocol):
    """Paces sends: ``acquire`` returns when the next send may go."""

    async def acquire(self) -> None:
        """Wait for the next free instant."""
        ...

    async def aclose(self) -> None:
        """Release connections."""
        ...


class ProcessRateLimiter:
    """At most ``rate`` acquisitions per second in this process."""

    def __init__(self, rate: float) -> None:
        if rate <= 0:
            raise ValueError(f"the send rate must be positive, not {rate}")
        self.interval = 1.0 / rate
        self.next_at = time.monotonic()
        self.lock = asyncio.Lock()

    async def acquire(self) -> None:
        """Wait for the next free instant."""
        async with self.lock:
            now = time.monotonic()
            wait = self.next_at - now
            self.next_at = max(self.next_at, now) + self.interval
        if wait > 0:
            await asyncio.sleep(wait)

    async def aclose(self) -> None:
        """Nothing to release."""


class RedisRateLimiter:
    """At most ``rate`` acquisitions per second across every process sharing ``key`` in Redis.

    Should Redis not answer, the send is paced by this process alone (a warning is logged):
    sends slow down or go a little faster than the budget for a while, but never stop.
    """

    def __init__(self, url: str, rate: float, key: str = REDIS_KEY) -> None:
        """Configure the limiter; the connection opens on first use.

        Args:
            url: The Redis URL (``redis://127.0.0.1:6379/0``), as ``CRENEAU_REDIS_URL``.
            rate: Sends per second, for all processes together.
            key: The Redis key holding the shared budget.
        """
        self._local = ProcessRateLimiter(rate)
        self._interval_us = 1_000_000 / rate
        self._url, self._key = url, key
        self._client: Redis | None = None
        self._script: Any = None
        self._degraded = False

    async def acquire(self) -> None:
        """Reserve the next free instant in Redis and wait for it."""
        # Imported here: the redis package is only needed by deployments that use it.
        from redis.exceptions import RedisError

        try:
            wait_us = await self._reserve()
        except (RedisError, OSError, TimeoutError) as exc:
            if not self._degraded:
                log.warning(
                    "send rate: Redis unavailable (%s), pacing this process alone", type(exc).__name__
                )
                self._degraded = True
            await self._local.acquire()
            return
        if self._degraded:
            log.info("send rate: Redis is back, the budget is shared again")
            self._degraded = False
        if wait_us > 0:
            await asyncio.sleep(wait_us / 1_000_000)

    async def aclose(self) -> None:
        """Close the connection pool; a later ``acquire`` opens a new one."""
        if self._client is not None:
            await self._client.aclose()
        self._client, self._script = None, None

    async def _reserve(self) -> int:
        if self._client is None:
            from redis.asyncio import Redis

            self._client = Redis.from_url(self._url, socket_timeout=REDIS_TIMEOUT_SECONDS,
                                          socket_connect_timeout=REDIS_TIMEOUT_SECONDS)
            self._script = self._client.register_script(_RESERVE)
        return int(await self._script(keys=[self._key], args=[f"{self._interval_us:.3f}"]))


def rate_limiter(rate: float, redis_url: str | None = None, key: str = REDIS_KEY) -> RateLimiter:
    """The limiter for a deployment: with ``redis_url`` (``CRENEAU_REDIS_URL``) ``rate`` is shared by every
    process using that Redis and ``key``; without it, each process sends at ``rate`` on its own."""
    return RedisRateLimiter(redis_url, rate, key) if redis_url else ProcessRateLimiter(rate)
