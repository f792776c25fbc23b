"""Every limit on inbound requests: per API key (``CRENEAU_RATE_LIMIT``, a middleware before
authentication), and the fixed-window counters of the public pages (the family page's requests per
address, failures per link and wrong links in all; the report page's requests per address).

(Sending SMS at the provider's rate is pacing, not limiting: ``notifications/send_rate.py``.)

Requests are counted by the SHA-256 of their bearer key, so one partner's burst never slows
another, and by client address when they carry none. It runs before authentication, so a
caller repeating a wrong key is refused without a database lookup once over the limit; one
inventing a new key each time is not limited here (a 256-bit key cannot be guessed, and each
miss costs one indexed lookup).

Counts live in fixed windows (``observability/windows.py``): in process memory by default (each
worker counts on its own) or, with ``CRENEAU_REDIS_URL``, in Redis, shared by every worker and
replica (one atomic increment per request; should Redis fail, each process counts alone).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from litestar.enums import ScopeType
from litestar.exceptions import TooManyRequestsException
from litestar.middleware.base import ASGIMiddleware
from litestar.middleware.rate_limit import DURATION_VALUES, DurationUnit

from scheduler.observability.windows import WindowCounter, Windows, WindowStore
from scheduler.services.api_keys import hash_key

if TYPE_CHECKING:
    from litestar import Request
    from litestar.types import ASGIApp, Message, Receive, Scope, Send

    from scheduler.settings import Settings

__all__ = ["WindowCounter", "caller", "limit_store", "rate_limiting"]

# Not limited: probes and scrapes, the contract's documents, provider callbacks (Twilio
# retries them) and the public pages, which have their own per-token limits.
EXEMPT = ["^/health", "^/metrics", "^/schema", "^/feeds/", "^/webhooks/", "^/r/"]


def caller(request: Request[Any, Any, Any]) -> str:
    """Whom a request is counted against: its key's hash, else its client address."""
    scheme, _, key = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and key.strip():
        return "key:" + hash_key(key.strip())
    return "address:" + (request.client.host if request.client else "unknown")


class KeyRateLimitMiddleware(ASGIMiddleware):
    """At most the rule's count of ``/v1`` requests per caller and window, with the draft IETF
    ``RateLimit-*`` headers on every answer and ``Retry-After`` on the 429."""

    scopes = (ScopeType.HTTP,)
    exclude_path_pattern = tuple(EXEMPT)

    def __init__(self, windows: Windows, unit: DurationUnit) -> None:
        self.windows = windows
        self.policy = f"{windows.limit}; w={DURATION_VALUES[unit]}"

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        """Count the request against its caller; refuse it with 429 once over the limit."""
        request: Request[Any, Any, Any] = scope["litestar_app"].request_class(scope)
        verdict = await self.windows.hit(caller(request))
        headers = {
            "RateLimit-Policy": self.policy,
            "RateLimit-Limit": str(self.windows.limit),
            "RateLimit-Remaining": str(max(0, self.windows.limit - verdict.count)),
            "RateLimit-Reset": str(verdict.retry_after),
        }
        if not verdict.allowed:
            raise TooManyRequestsException(headers={**headers, "Retry-After": str(verdict.retry_after)})

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []),
                                      *((name.encode(), value.encode()) for name, value in headers.items())]
            await send(message)

        await next_app(scope, receive, send_with_headers)


def rate_limiting(settings: Settings, store: WindowStore) -> list[KeyRateLimitMiddleware]:
    """The limiter's middleware, or nothing when ``CRENEAU_RATE_LIMIT`` is empty."""
    rule = settings.rate_limit_rule
    if rule is None:
        return []
    unit, count = cast("tuple[DurationUnit, int]", rule)
    windows = store.windows("api", count, DURATION_VALUES[unit])
    return [KeyRateLimitMiddleware(windows, unit)]


def limit_store(settings: Settings) -> WindowStore:
    """Where counts live: Redis when ``CRENEAU_REDIS_URL`` is set (shared by all processes), else memory."""
    return WindowStore.redis(settings.redis_url) if settings.redis_url else WindowStore.local()
