"""Rate limits per API key (``CRENEAU_RATE_LIMIT``), on Litestar's middleware and stores.

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
    config = RateLimitConfig(rate_limit=cast("tuple[DurationUnit, int]", rule), exclude=EXEMPT, identifier_for_request=caller,
                             middleware_class=KeyRateLimitMiddleware, store=STORE)
    return [config.middleware]


def rate_limit_store(settings: Settings) -> Store:
    """Where counts live: Redis when ``CRENEAU_REDIS_URL`` is set (shared by all workers), else memory."""
    if settings.redis_url:
        # Imported here: the redis package is only needed by deployments that use it.
        from litestar.stores.redis import RedisStore

        return RedisStore.with_client(settings.redis_url, namespace=REDIS_NAMESPACE)
    return MemoryStore()
