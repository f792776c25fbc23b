"""Security headers on every answer, added once around the whole application.

- ``X-Content-Type-Options: nosniff`` on every answer: a browser never runs a JSON or
  calendar body as a script or a page.
- ``Cache-Control: no-store`` on every ``/v1`` answer and family page (``/r/``) answer: they
  carry family data, which no browser or proxy cache may keep. A handler's own
  ``Cache-Control`` wins (the calendar feeds keep theirs, with their ETag).
- ``Strict-Transport-Security`` when the service's public URL is https: the proxy in front
  terminates TLS, and browsers must never come back over plain http.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from litestar.enums import ScopeType

if TYPE_CHECKING:
    from litestar.types import ASGIApp, Message, Receive, Scope, Send

HSTS = (b"strict-transport-security", b"max-age=31536000; includeSubDomains")
NOSNIFF = (b"x-content-type-options", b"nosniff")
NO_STORE = (b"cache-control", b"no-store")
FAMILY_DATA_PREFIXES = ("/v1/", "/r/")


class SecurityHeaders:
    """Adds the headers above to each ``http.response.start`` that lacks them."""

    def __init__(self, app: ASGIApp, *, https: bool) -> None:
        self.app = app
        self.https = https

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        extra = [NOSNIFF, *([HSTS] if self.https else [])]
        if scope["path"].startswith(FAMILY_DATA_PREFIXES):
            extra.append(NO_STORE)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                present = {name.lower() for name, _ in headers}
                message["headers"] = headers + [(name, value) for name, value in extra if name not in present]
            await send(message)

        await self.app(scope, receive, send_with_headers)
