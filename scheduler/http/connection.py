"""Uvicorn's httptools connection, with limits on what a client may hold open or send ahead of a request.

Uvicorn (0.55) times out idle keep-alive connections only: a client that sends half its
headers, or a body shorter than its ``Content-Length``, is waited for forever, and httptools
buffers a header line of any length (a 64 MB header was answered 200 at a 302 MB peak). The
limits here are enforced where the bytes arrive, before any application code runs:

- the request line and headers must arrive within ``header_seconds`` of the request's first
  byte (or of the connection, for its first request), else the connection is closed;
- they may not exceed ``max_header_bytes``, else 431 and the connection is closed;
- the body must arrive within ``body_seconds`` of the headers, else 408 and the connection is
  closed.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

PROBLEM_TYPE = "https://creneau.fr/problems/"
REASONS = {408: b"Request Timeout", 431: b"Request Header Fields Too Large"}


@dataclass(frozen=True, slots=True)
class ConnectionLimits:
    """How long and how large a request's head and body may be, on one connection."""

    header_seconds: float
    body_seconds: float
    max_header_bytes: int


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """``HttpToolsProtocol`` plus a deadline on the head and body of each request and a head size limit.

    Built by uvicorn through ``functools.partial(GuardedHttpToolsProtocol, limits=...)``: a
    partial of a module-level class pickles, so every worker process gets the same limits.
    """

    def __init__(self, *args: Any, limits: ConnectionLimits, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.limits = limits
        self._head_bytes: int | None = 0  # None once the current request's headers are complete
        self._deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm(self.limits.header_seconds, self._close_slow_head)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self.transport.is_closing():
            return  # refused: the rest of what the client sends is not parsed
        super().data_received(data)
        if self._head_bytes is not None and not self.transport.is_closing():
            # Counted before the parser has a whole header to hand over: a header line that
            # never ends is refused once the head passes the limit, not buffered whole.
            self._head_bytes += len(data)
            if self._head_bytes > self.limits.max_header_bytes:
                self._refuse(431, "request-headers-too-large", "Request headers too large",
                             "The request line and headers exceed the limit.")

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._head_bytes is None:  # a new request on a kept-alive connection
            self._head_bytes = 0
            self._arm(self.limits.header_seconds, self._close_slow_head)

    def on_headers_complete(self) -> None:
        head = len(self.url) + sum(len(name) + len(value) + 4 for name, value in self.headers)
        self._head_bytes = None
        if head > self.limits.max_header_bytes:
            self._refuse(431, "request-headers-too-large", "Request headers too large",
                         "The request line and headers exceed the limit.")
            return
        self._arm(self.limits.body_seconds, self._refuse_slow_body)
        super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        if not self.transport.is_closing():
            super().on_body(body)

    def on_message_complete(self) -> None:
        self._disarm()
        if not self.transport.is_closing():
            super().on_message_complete()

    def on_response_complete(self) -> None:
        self._disarm()
        super().on_response_complete()

    def _close_slow_head(self) -> None:
        self._deadline = None
        if not self.transport.is_closing():
            self.transport.close()

    def _refuse_slow_body(self) -> None:
        self._deadline = None
        if self.cycle is not None and self.cycle.response_started:
            self.transport.close()  # too late to answer: the application already did
            return
        self._refuse(408, "request-timeout", "Request timeout", "The request body did not arrive in time.")

    def _refuse(self, status: int, code: str, title: str, detail: str) -> None:
        """Answer ``status`` as problem+json and close, whatever the application is doing."""
        self._disarm()
        if self.cycle is not None:
            # The application may still be waiting for the body: it sees a disconnect, and
            # whatever it sends afterwards is dropped.
            self.cycle.disconnected = True
            self.cycle.message_event.set()
        body = json.dumps({"type": PROBLEM_TYPE + code, "title": title, "status": status, "detail": detail,
                           "code": code}).encode()
        self.transport.write(b"".join([
            b"HTTP/1.1 %d %s\r\n" % (status, REASONS[status]),
            b"content-type: application/problem+json\r\n",
            b"content-length: %d\r\n" % len(body),
            b"connection: close\r\n\r\n",
            body,
        ]))
        self.transport.close()

    def _arm(self, seconds: float, callback: Any) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(seconds, callback)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None
