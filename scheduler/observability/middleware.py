"""One pure ASGI wrapper around the whole application: request id, then metrics, per request.

It wraps Litestar's own handler (outside the router), so unknown paths and 405s are counted
and carry a request id too. It is kept cheap: it runs for the benchmarks' HTTP ceiling.
"""

from __future__ import annotations

import itertools
import logging
import os
import re
import secrets
from time import perf_counter
from typing import TYPE_CHECKING

from litestar.enums import ScopeType

from scheduler.observability.logs import REQUEST_ID, redact
from scheduler.observability.metrics import BOOKING_ROUTE, Metrics

if TYPE_CHECKING:
    from litestar.types import ASGIApp, HTTPScope, Message, Receive, Scope, Send

access = logging.getLogger("creneau.access")
HEADER = b"x-request-id"
# A caller's id is kept when it is short and plain; anything else (and anything the log mask
# would touch: a caller could send a phone number) is replaced by our own.
_SANE_ID = re.compile(r"[A-Za-z0-9._:\-]{1,64}")


_PROCESS = secrets.token_hex(10)
_NUMBERS = itertools.count()


def _new_process() -> None:  # a forked child draws its own prefix
    global _PROCESS, _NUMBERS
    _PROCESS, _NUMBERS = secrets.token_hex(10), itertools.count()


os.register_at_fork(after_in_child=_new_process)


def new_request_id() -> str:
    """A request id unique across processes: a random prefix drawn once per process, then a count.

    32 hex characters as a UUID's; not a secret (it is echoed in answers and logs), so one
    random draw per process is enough, instead of a system call per request (3 % of a slot
    search's CPU here).
    """
    return f"{_PROCESS}{next(_NUMBERS):012x}"


def incoming_request_id(scope: Scope) -> str | None:
    """The caller's ``X-Request-ID`` when it is sane, else None."""
    for name, value in scope["headers"]:
        if name == HEADER:
            text = value.decode("latin-1")
            return text if _SANE_ID.fullmatch(text) and redact(text) == text else None
    return None


class RequestObserver:
    """Sets the request id (contextvar and response header) and records the request's metrics."""

    def __init__(self, app: ASGIApp, metrics: Metrics, *, access_log: bool = False) -> None:
        self.app = app
        self.metrics = metrics
        self.access_log = access_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        await self._observe(scope, receive, send)

    async def _observe(self, scope: HTTPScope, receive: Receive, send: Send) -> None:
        request_id = incoming_request_id(scope) or new_request_id()
        token = REQUEST_ID.set(request_id)
        started = perf_counter()
        answer = _Answer(request_id.encode(), send, booking=_is_booking(scope))
        try:
            await self.app(scope, receive, answer.send)
        finally:
            method, route, seconds = scope["method"], scope.get("path_template"), perf_counter() - started
            self.metrics.observe(method, route, answer.status, seconds)
            if answer.booking:
                self.metrics.booking(answer.status, answer.body)
            if self.access_log:
                # The route template, never the raw path: feed and family page paths hold tokens.
                access.info("%s %s %d", method, route or "unmatched", answer.status,
                            extra={"status": answer.status, "duration_ms": round(seconds * 1000, 2)})
            REQUEST_ID.reset(token)


def _is_booking(scope: HTTPScope) -> bool:
    return (scope["method"], scope["path"].rstrip("/")) == BOOKING_ROUTE


class _Answer:
    """Wraps ``send``: adds the request id header, notes the status (and a booking's body)."""

    __slots__ = ("_request_id", "_send", "body", "booking", "status")

    def __init__(self, request_id: bytes, send: Send, *, booking: bool) -> None:
        self._request_id = request_id
        self._send = send
        self.booking = booking
        # A handler that dies before answering is what the server turns into a 500.
        self.status = 500
        self.body = b""

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            message["headers"] = [*message.get("headers", ()), (HEADER, self._request_id)]
        elif message["type"] == "http.response.body" and self.booking and self.status == 409:
            # Only a booking conflict's problem body is kept, to count it by its code.
            self.body += message.get("body", b"")
        await self._send(message)
