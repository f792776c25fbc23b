"""A fake Twilio Messages API (2010-04-01) over real HTTP on 127.0.0.1, with planned failures.

In-process::

    with FakeTwilio() as fake:
        sender = TwilioSmsSender(fake.account_sid, fake.auth_token, "CRENEAU", api_base=fake.base_url)
        fake.fail_next(PlannedFailure.twilio(21211))

As a process (prints its port, then serves until interrupted)::

    python -m tests.fakes.fake_twilio --port 9999
    curl http://127.0.0.1:9999/_fake/messages
"""

from __future__ import annotations

import argparse
import base64
import json
import logging
import re
import signal
import threading
import urllib.error
import urllib.request
import uuid
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qs, urlencode, urlsplit

from twilio.request_validator import RequestValidator  # type: ignore[import-untyped]

from notifications.segments import count_segments

FAKE_ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
FAKE_AUTH_TOKEN = "fake-twilio-auth-token"
API_PREFIX = "/2010-04-01/Accounts/"
MAX_BODY_CHARS = 1600
_MESSAGES_PATH = re.compile(r"^/2010-04-01/Accounts/(?P<account>[^/]+)/Messages\.json$")
_MESSAGE_PATH = re.compile(r"^/2010-04-01/Accounts/(?P<account>[^/]+)/Messages/(?P<sid>[^/]+)\.json$")
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")
_SERVICE_SID = re.compile(r"^MG[0-9a-f]{32}$")
logger = logging.getLogger("tests.fake_twilio")


@dataclass(frozen=True, slots=True)
class PlannedFailure:
    """How the fake answers the next API request instead of (or before) the normal answer."""

    status: int | None = 500
    """HTTP status to answer with; ``None`` answers normally after ``delay_seconds``."""
    code: int | None = None
    message: str = "Internal Server Error"
    delay_seconds: float = 0.0

    @classmethod
    def http(cls, status: int) -> PlannedFailure:
        """A bare HTTP error with no Twilio code (500, 503, 429...)."""
        return cls(status=status, message=f"HTTP {status}")

    @classmethod
    def twilio(cls, code: int, status: int = 400, message: str = "planned Twilio error") -> PlannedFailure:
        """A Twilio error body ``{"code", "message", "status", "more_info"}``."""
        return cls(status=status, code=code, message=message)

    @classmethod
    def slow(cls, seconds: float) -> PlannedFailure:
        """Answer normally, but only after ``seconds`` (longer than the client timeout to time out).

        The message is still accepted, as Twilio would after a client gave up waiting.
        """
        return cls(status=None, delay_seconds=seconds)


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One request the fake received."""

    method: str
    path: str
    query: dict[str, list[str]]
    form: dict[str, str]
    authorized: bool


@dataclass(slots=True)
class _State:
    account_sid: str
    auth_token: str
    lock: threading.Lock = field(default_factory=threading.Lock)
    stopping: threading.Event = field(default_factory=threading.Event)
    requests: list[RecordedRequest] = field(default_factory=list)
    messages: list[dict[str, Any]] = field(default_factory=list)
    callbacks: dict[str, str] = field(default_factory=dict)
    failures: deque[PlannedFailure] = field(default_factory=deque)


class FakeTwilio:
    """A running fake Twilio server; thread-safe; start with ``start()`` or ``with``."""

    def __init__(
        self,
        account_sid: str = FAKE_ACCOUNT_SID,
        auth_token: str = FAKE_AUTH_TOKEN,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self._state = _State(account_sid, auth_token)
        self._host = host
        self._server = _Server((host, port), _Handler, self._state)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-twilio", daemon=True
        )

    @property
    def account_sid(self) -> str:
        return self._state.account_sid

    @property
    def auth_token(self) -> str:
        return self._state.auth_token

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``: the value for ``api_base`` / ``CRENEAU_TWILIO_API_BASE``."""
        return f"http://{self._host}:{self.port}"

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received so far, oldest first (a copy)."""
        with self._state.lock:
            return list(self._state.requests)

    @property
    def messages(self) -> list[dict[str, Any]]:
        """Every accepted message, as Twilio now shows it, oldest first (a copy)."""
        with self._state.lock:
            return [dict(message) for message in self._state.messages]

    def references(self) -> list[str]:
        """The ``ref`` of the status callback of every accepted message: our message ids, with repeats."""
        with self._state.lock:
            urls = [self._state.callbacks.get(message["sid"], "") for message in self._state.messages]
        return [url.rsplit("ref=", 1)[1] for url in urls if "ref=" in url]

    def fail_next(self, *failures: PlannedFailure) -> None:
        """Answer the next API requests with these failures, one per request, in order."""
        with self._state.lock:
            self._state.failures.extend(failures)

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; slow answers still waiting are cut short."""
        self._state.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: type[_Handler], state: _State) -> None:
        super().__init__(address, handler)
        self.state = state

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that timed out has closed its socket before a slow answer: expected here.
        logger.debug("fake Twilio: client %s went away", client_address)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("fake Twilio: " + format, *args)

    def _serve(self, method: str) -> None:
        state = self.server.state
        url = urlsplit(self.path)
        form = self._read_form()
        authorized = self._authorized(state)
        with state.lock:
            state.requests.append(RecordedRequest(method, url.path, parse_qs(url.query), form, authorized))
        if url.path == "/_fake/messages":
            return self._reply(200, [_with_callback(m, state) for m in _snapshot(state)])
        if not url.path.startswith(API_PREFIX):
            return self._reply(404, _error(20404, "The requested resource was not found", 404))
        if not authorized:
            return self._reply(401, _error(20003, "Authenticate", 401))
        failure = _next_failure(state)
        if failure is not None:
            if state.stopping.wait(failure.delay_seconds):
                return None
            if failure.status is not None:
                return self._reply(failure.status, _error(failure.code, failure.message, failure.status))
        status, payload = _route(state, method, url.path, parse_qs(url.query), form)
        self._reply(status, payload)

    def _read_form(self) -> dict[str, str]:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode("utf-8") if length else ""
        return {key: values[-1] for key, values in parse_qs(raw, keep_blank_values=True).items()}

    def _authorized(self, state: _State) -> bool:
        expected = base64.b64encode(f"{state.account_sid}:{state.auth_token}".encode()).decode()
        return self.headers.get("Authorization") == f"Basic {expected}"

    def _reply(self, status: int, payload: object) -> None:
        data = json.dumps(payload).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def _next_failure(state: _State) -> PlannedFailure | None:
    with state.lock:
        return state.failures.popleft() if state.failures else None


def _snapshot(state: _State) -> list[dict[str, Any]]:
    with state.lock:
        return [dict(message) for message in state.messages]


def _with_callback(message: dict[str, Any], state: _State) -> dict[str, Any]:
    return {**message, "status_callback": state.callbacks.get(message["sid"])}


def _route(
    state: _State, method: str, path: str, query: dict[str, list[str]], form: dict[str, str]
) -> tuple[int, object]:
    collection, single = _MESSAGES_PATH.match(path), _MESSAGE_PATH.match(path)
    if collection and collection["account"] == state.account_sid:
        if method == "POST":
            return _create(state, form)
        return 200, _list(state, path, query)
    if single and single["account"] == state.account_sid and method == "GET":
        return _fetch(state, single["sid"])
    return 404, _error(20404, f"The requested resource {path} was not found", 404)


def _create(state: _State, form: Mapping[str, str]) -> tuple[int, object]:
    problem = _validate(form)
    if problem is not None:
        return 400, problem
    now = datetime.now(UTC).replace(microsecond=0)
    sid = "SM" + uuid.uuid4().hex
    service = form.get("MessagingServiceSid")
    answer: dict[str, Any] = {
        "account_sid": state.account_sid,
        "api_version": "2010-04-01",
        "body": form["Body"],
        "date_created": format_datetime(now),
        "date_sent": None,
        "date_updated": format_datetime(now),
        "direction": "outbound-api",
        "error_code": None,
        "error_message": None,
        "from": None if service else form.get("From"),
        "messaging_service_sid": service,
        "num_media": "0",
        "num_segments": str(count_segments(form["Body"]).segments),
        "price": None,
        "price_unit": "USD",
        "sid": sid,
        "status": "accepted" if service else "queued",
        "subresource_uris": {"media": f"{API_PREFIX}{state.account_sid}/Messages/{sid}/Media.json"},
        "to": form["To"],
        "uri": f"{API_PREFIX}{state.account_sid}/Messages/{sid}.json",
    }
    # Twilio hands the message to the carrier a moment later: what a later GET shows.
    stored = {**answer, "status": "sent", "date_sent": format_datetime(now)}
    with state.lock:
        state.messages.append(stored)
        state.callbacks[sid] = form.get("StatusCallback", "")
    return 201, answer


def _validate(form: Mapping[str, str]) -> dict[str, Any] | None:
    to, body = form.get("To", ""), form.get("Body", "")
    service = form.get("MessagingServiceSid")
    if not _E164.match(to):
        return _error(21211, f"The 'To' number {to} is not a valid phone number.", 400)
    if not body:
        return _error(21602, "Message body is required.", 400)
    if len(body) > MAX_BODY_CHARS:
        return _error(21617, "The concatenated message body exceeds the 1600 character limit.", 400)
    if service is not None and not _SERVICE_SID.match(service):
        return _error(21701, f"The Messaging Service Sid {service} is invalid.", 400)
    if not service and not form.get("From"):
        return _error(21603, "A 'From' phone number is required.", 400)
    return None


def _list(state: _State, path: str, query: dict[str, list[str]]) -> dict[str, Any]:
    params = {key: values[-1] for key, values in query.items()}
    matching = [m for m in reversed(_snapshot(state)) if _matches(m, params)]  # newest first
    size, page = int(params.get("PageSize", "50")), int(params.get("Page", "0"))
    chunk = matching[page * size : (page + 1) * size]
    filters = {k: v for k, v in params.items() if k not in {"Page", "PageSize", "PageToken"}}

    def page_uri(number: int) -> str:
        return f"{path}?{urlencode({**filters, 'PageSize': size, 'Page': number})}"

    has_next = (page + 1) * size < len(matching)
    return {
        "messages": chunk,
        "page": page,
        "page_size": size,
        "start": page * size,
        "end": page * size + max(len(chunk) - 1, 0),
        "uri": page_uri(page),
        "first_page_uri": page_uri(0),
        "next_page_uri": page_uri(page + 1) if has_next else None,
        "previous_page_uri": page_uri(page - 1) if page > 0 else None,
    }


def _matches(message: Mapping[str, Any], params: Mapping[str, str]) -> bool:
    if "To" in params and message["to"] != params["To"]:
        return False
    if "From" in params and message["from"] != params["From"]:
        return False
    sent = _parse_rfc2822(message["date_sent"])
    bounds = {"DateSent": "==", "DateSent>": ">=", "DateSent<": "<="}
    return all(_date_filter(sent, params[key], op) for key, op in bounds.items() if key in params)


def _date_filter(sent: datetime | None, value: str, op: str) -> bool:
    """Twilio's DateSent filters: a ``YYYY-MM-DD`` day or a ``...T..:..:..Z`` instant."""
    if sent is None:
        return False  # not sent yet: date filters never match it
    if len(value) == len("YYYY-MM-DD"):
        left: date | datetime = sent.date()
        right: date | datetime = date.fromisoformat(value)
    else:
        left, right = sent, datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    return {"==": left == right, ">=": left >= right, "<=": left <= right}[op]


def _parse_rfc2822(value: str | None) -> datetime | None:
    return parsedate_to_datetime(value) if value else None


def _fetch(state: _State, sid: str) -> tuple[int, object]:
    for message in _snapshot(state):
        if message["sid"] == sid:
            return 200, message
    return 404, _error(20404, f"The requested resource Messages/{sid}.json was not found", 404)


def _error(code: int | None, message: str, status: int) -> dict[str, Any]:
    more_info = f"https://www.twilio.com/docs/errors/{code}" if code is not None else None
    return {"code": code, "message": message, "more_info": more_info, "status": status}


def twilio_signature(url: str, params: Mapping[str, str], auth_token: str) -> str:
    """The ``X-Twilio-Signature`` Twilio would send for a form POST of ``params`` to ``url``."""
    return str(RequestValidator(auth_token).compute_signature(url, dict(params)))


def send_status_callback(url: str, params: Mapping[str, str], auth_token: str, timeout: float = 5.0) -> int:
    """POST a signed status callback (``MessageSid``, ``MessageStatus``...) to ``url``.

    Returns:
        The HTTP status the receiver answered.
    """
    request = urllib.request.Request(
        url,
        data=urlencode(params).encode("utf-8"),
        method="POST",
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": twilio_signature(url, params, auth_token),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def main(argv: Sequence[str] | None = None) -> None:
    """Run the fake as a process: print the port on stdout, serve until SIGINT/SIGTERM."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--account-sid", default=FAKE_ACCOUNT_SID)
    parser.add_argument("--auth-token", default=FAKE_AUTH_TOKEN)
    args = parser.parse_args(argv)
    done = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: done.set())
    with FakeTwilio(args.account_sid, args.auth_token, args.host, args.port) as fake:
        print(fake.port, flush=True)
        done.wait()


if __name__ == "__main__":
    main()
