"""Every limit on inbound requests: per API key (``CRENEAU_RATE_LIMIT``, on Litestar's middleware
and stores), and the fixed-window counters of the public pages (the family page's requests per
address, failures per link and wrong links in all; the report page's requests per address).

(Sending SMS at the provider's rate is pacing, not limiting: ``notifications/send_rate.py``.)

Requests are counted by the SHA-256 of their bearer key, so one partner's burst never slows
another, and by client address when they carry none. It runs before authentication, so a
caller repeating a wrong key is refused without a database lookup once over the limit; one
inventing a new key each time is not limited here (a 256-bit key cannot be guessed, and each
miss costs one indexed lookup).

Counts live in process memory by default (each worker counts on its own) or, with
``CRENEAU_REDIS_URL``, in Redis, shared by every worker. Litestar's store is read, then
written, under a per-process lock: two workers racing may each let one extra request in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from litestar.exceptions import TooManyRequestsException
from litestar.middleware.base import DefineMiddleware
from litestar.middleware.rate_limit import DurationUnit, RateLimitConfig, RateLimitMiddleware
from litestar.stores.memory import MemoryStore

from scheduler.services.api_keys import hash_key

if TYPE_CHECKING:
    from litestar import Request
    from litestar.stores.base import Store
    from litestar.types import Receive, Scope, Send

    from scheduler.settings import Settings

STORE = "rate_limit"
REDIS_NAMESPACE = "creneau_rate_limit"
# Not limited: probes and scrapes, the contract's documents, provider callbacks (Twilio
# retries them) and the public pages, which have their own per-token limits.
EXEMPT = ["^/health", "^/metrics", "^/schema", "^/feeds/", "^/webhooks/", "^/r/"]


def caller(request: Request[Any, Any, Any]) -> str:
    """Whom a request is counted against: its key's hash, else its client address."""
    scheme, _, key = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and key.strip():
        return "key:" + hash_key(key.strip())
    return "address:" + (request.client.host if request.client else "unknown")


class KeyRateLimitMiddleware(RateLimitMiddleware):
    """Litestar's limiter, with ``Retry-After`` on the 429 (the seconds until the window resets)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        except TooManyRequestsException as exc:
            reset = (exc.headers or {}).get(self.config.rate_limit_reset_header_key)
            if reset is not None and exc.headers is not None:
                exc.headers["Retry-After"] = str(max(1, int(reset)))
            raise


def rate_limiting(settings: Settings) -> list[DefineMiddleware]:
    """The limiter's middleware, or nothing when ``CRENEAU_RATE_LIMIT`` is empty."""
    rule = settings.rate_limit_rule
    if rule is None:
        return []
    config = RateLimitConfig(
        rate_limit=cast("tuple[DurationUnit, int]", rule),
        exclude=EXEMPT,
        identifier_for_request=caller,
        middleware_class=KeyRateLimitMiddleware,
        store=STORE,
    )
    return [config.middleware]


def rate_limit_store(settings: Settings) -> Store:
    """Where counts live: Redis when ``CRENEAU_REDIS_URL`` is set (shared by all workers), else memory."""
    if settings.redis_url:
        # Imported here: the redis package is only needed by deployments that use it.
        from litestar.stores.redis import RedisStore

        return RedisStore.with_client(settings.redis_url, namespace=REDIS_NAMESPACE)
    return MemoryStore()


# The public pages' counters are in memory and per process: a guess at a token costs a request,
# and 71-bit tokens at a capped number of wrong guesses a minute are out of reach whatever the
# number of processes.
WINDOW_SECONDS = 60.0
# Above this many keys, finished windows are dropped (bounded memory under a flood of guesses).
PRUNE_ABOVE = 10_000


@dataclass
class WindowCounter:
    """At most ``limit`` hits per key in each window of ``window`` seconds."""

    limit: int
    window: float = WINDOW_SECONDS
    _hits: dict[str, tuple[float, int]] = field(default_factory=dict)

    def allow(self, key: str, now: float) -> bool:
        """Count a hit for ``key`` at ``now`` (monotonic seconds); False once over the limit."""
        started, count = self._hits.get(key, (now, 0))
        if now - started >= self.window:
            started, count = now, 0
        self._hits[key] = (started, count + 1)
        if len(self._hits) > PRUNE_ABOVE:
            self._prune(now)
        return count < self.limit

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
