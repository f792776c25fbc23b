"""A real webhook receiver on 127.0.0.1: verifies every signature with ``standardwebhooks`` and records ids.

Each path behaves as the test says: ``/ok`` answers 200, ``/gone`` 410, ``/hang`` never answers
in time, and a path given a script (``receiver.script("/flaky", [500, 500, 500, 200])``) answers
those codes in turn, then 200. Secrets are given per path after the endpoint is registered.
"""

from __future__ import annotations

import json
import threading
import time
from collections import defaultdict
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

HANG_SECONDS = 15.0


@dataclass(frozen=True, slots=True)
class Received:
    """One request as it arrived."""

    path: str
    webhook_id: str
    signature: str
    verified_with: tuple[int, ...]
    """Index of each of the path's secrets that verified the request (empty: none did)."""
    body: dict[str, Any] | None
    answered: int


class WebhookReceiver:
    """The server, its scripts and what it received."""

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        """Seconds each answer takes (a slow receiver keeps deliveries in flight)."""
        self.secrets: dict[str, list[str]] = {}
        self.received: list[Received] = []
        self._scripts: dict[str, list[int]] = defaultdict(list)
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def script(self, path: str, codes: list[int]) -> None:
        """Answer these codes in turn on ``path`` (then 200)."""
        with self._lock:
            self._scripts[path] = list(codes)

    def at(self, path: str) -> list[Received]:
        """What ``path`` received, in order."""
        with self._lock:
            return [item for item in self.received if item.path == path]

    def wait_for(self, path: str, count: int, timeout: float = 30.0) -> list[Received]:
        """Wait until ``path`` received ``count`` requests; returns them."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.at(path)
            if len(found) >= count:
                return found
            time.sleep(0.05)
        raise AssertionError(f"{path} received {len(self.at(path))} of {count} requests in {timeout}s")

    def _answer(self, path: str) -> int:
        with self._lock:
            script = self._scripts.get(path)
            if script:
                return script.pop(0)
        return {"/gone": 410, "/hang": 0}.get(path, 200)

    def _verify(self, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, ...]:
        ok = []
        for index, secret in enumerate(self.secrets.get(path, [])):
            try:
                Webhook(secret).verify(body, headers)
            except WebhookVerificationError:
                continue
            ok.append(index)
        return tuple(ok)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                body = self.rfile.read(length)
                if len(body) < length:
                    return  # the sender died mid-request (a crash test's kill): nothing was delivered
                headers = {key.lower(): value for key, value in self.headers.items()}
                code = receiver._answer(self.path)
                try:
                    parsed = json.loads(body)
                except ValueError:
                    parsed = None
                item = Received(
                    self.path,
                    headers.get("webhook-id", ""),
                    headers.get("webhook-signature", ""),
                    receiver._verify(self.path, body, headers),
                    parsed,
                    code,
                )
                with receiver._lock:
                    receiver.received.append(item)
                if code == 0:
                    time.sleep(HANG_SECONDS)
                    code = 200
                elif receiver.delay:
                    time.sleep(receiver.delay)
                self.send_response(code)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *_: object) -> None:
                pass

        return Handler
