"""A fake Twilio Messages API (2010-04-01) over real HTTP on 127.0.0.1, with planned failures.

It is an asyncio (aiohttp) server, so it answers several thousand requests a second. It runs
either on a thread of the test's process (the default: its state is read directly), or in a
process of its own (``separate_process=True``: a client that sends from the same process, as the
benchmark's ceiling does, does not share a core and the GIL with it; its state is read through
the ``/_fake/`` control endpoints). Both serve the same socket, bound when the fake is created.

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
import asyncio
import base64
import contextlib
import http.client
import json
import logging
import re
import signal
import socket
import subprocess
import sys
import threading
import urllib.error
import urllib.request
import uuid
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qs, urlencode, urlsplit

from aiohttp import web
from twilio.request_validator import RequestValidator  # type: ignore[import-untyped]

from notifications.segments import count_segments

FAKE_ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
FAKE_AUTH_TOKEN = "fake-twilio-auth-token"
API_PREFIX = "/2010-04-01/Accounts/"
CONTROL_PREFIX = "/_fake/"
MAX_BODY_CHARS = 1600
STARTUP_SECONDS = 20.0
"""How long a fake in its own process may take to start serving."""
_MESSAGES_PATH = re.compile(r"^/2010-04-01/Accounts/(?P<account>[^/]+)/Messages\.json$")
_MESSAGE_PATH = re.compile(r"^/2010-04-01/Accounts/(?P<account>[^/]+)/Messages/(?P<sid>[^/]+)\.json$")
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")
_SERVICE_SID = re.compile(r"^MG[0-9a-f]{32}$")
_ROOT = Path(__file__).resolve().parents[2]
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
    """Written on the server's event loop only; read from other threads under ``lock``."""

    account_sid: str
    auth_token: str
    lock: threading.Lock = field(default_factory=threading.Lock)
    requests: list[RecordedRequest] = field(default_factory=list)
    messages: list[dict[str, Any]] = field(default_factory=list)
    callbacks: dict[str, str] = field(default_factory=dict)
    failures: deque[PlannedFailure] = field(default_factory=deque)
    hold: bool = False
    """Keep new messages in Twilio's queue (``queued``/``accepted``, no ``date_sent``) until released."""


class FakeTwilio:
    """A running fake Twilio server; thread-safe; start with ``start()`` or ``with``."""

    def __init__(
        self,
        account_sid: str = FAKE_ACCOUNT_SID,
        auth_token: str = FAKE_AUTH_TOKEN,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        separate_process: bool = False,
    ) -> None:
        """Bind the socket (so ``port`` and ``base_url`` are known at once); serve from ``start()``.

        Args:
            separate_process: Serve from a process of its own rather than a thread of this one.
        """
        self._state = _State(account_sid, auth_token)
        self._host = host
        self._socket = socket.create_server((host, port))
        self._port = int(self._socket.getsockname()[1])
        self._serving: _ServingThread | _ServingProcess = (
            _ServingProcess(self._socket, account_sid, auth_token) if separate_process
            else _ServingThread(self._socket, self._state)
        )
        # What a separate process reported so far (messages: its latest view; requests only grow).
        self._seen_messages: list[dict[str, Any]] = []
        self._seen_requests: list[RecordedRequest] = []

    @property
    def account_sid(self) -> str:
        return self._state.account_sid

    @property
    def auth_token(self) -> str:
        return self._state.auth_token

    @property
    def port(self) -> int:
        return self._port

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``: the value for ``api_base`` / ``CRENEAU_TWILIO_API_BASE``."""
        return f"http://{self._host}:{self.port}"

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every API request received so far, oldest first (a copy); control requests are not kept."""
        if isinstance(self._serving, _ServingProcess):
            self._catch_up()
            return list(self._seen_requests)
        with self._state.lock:
            return list(self._state.requests)

    @property
    def messages(self) -> list[dict[str, Any]]:
        """Every accepted message, as Twilio now shows it, oldest first (a copy)."""
        return [
            {k: v for k, v in m.items() if k != "status_callback"} for m in self._messages_with_callbacks()
        ]

    def references(self) -> list[str]:
        """The ``ref`` of the status callback of every accepted message: our message ids, with repeats."""
        urls = [message["status_callback"] or "" for message in self._messages_with_callbacks()]
        return [url.rsplit("ref=", 1)[1] for url in urls if "ref=" in url]

    def fail_next(self, *failures: PlannedFailure) -> None:
        """Answer the next API requests with these failures, one per request, in order."""
        if isinstance(self._serving, _ServingProcess):
            self._serving.control("POST", "failures", [asdict(failure) for failure in failures])
            return
        with self._state.lock:
            self._state.failures.extend(failures)

    def hold_in_queue(self, hold: bool = True) -> None:
        """Keep the messages accepted from now on queued, with no sent date, until ``release_queued()``.

        By default a message is handed to the carrier at once (``sent``, with a ``date_sent``).
        """
        if isinstance(self._serving, _ServingProcess):
            self._serving.control("POST", "hold", {"hold": hold})
            return
        with self._state.lock:
            self._state.hold = hold

    def release_queued(self) -> None:
        """Hand every queued message to the carrier now: ``sent``, with today's ``date_sent``."""
        if isinstance(self._serving, _ServingProcess):
            self._serving.control("POST", "release")
            return
        _release(self._state)

    def start(self) -> Self:
        self._serving.start()
        return self

    def stop(self) -> None:
        """Stop serving; slow answers still waiting are cut short. What it received stays readable."""
        if isinstance(self._serving, _ServingProcess):
            self._catch_up()
        self._serving.stop()
        self._socket.close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def _messages_with_callbacks(self) -> list[dict[str, Any]]:
        if isinstance(self._serving, _ServingProcess):
            self._catch_up()
            return [dict(message) for message in self._seen_messages]
        with self._state.lock:
            return [_with_callback(message, self._state) for message in self._state.messages]

    def _catch_up(self) -> None:
        """Fetch what a separate process holds now (messages change status: all of them; requests grow)."""
        if not isinstance(self._serving, _ServingProcess) or not self._serving.running:
            return
        self._seen_messages = list(self._serving.control("GET", "messages"))
        fresh = self._serving.control("GET", f"requests?after={len(self._seen_requests)}")
        self._seen_requests.extend(RecordedRequest(**item) for item in fresh)


class _ServingThread:
    """The server on an event loop of its own, in a daemon thread of this process."""

    def __init__(self, sock: socket.socket, state: _State) -> None:
        self._socket, self._state = sock, state
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._done: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, name="fake-twilio", daemon=True)

    def start(self) -> None:
        self._thread.start()
        self._ready.wait()
        if not self._thread.is_alive():
            raise RuntimeError("the fake Twilio server did not start")

    def stop(self) -> None:
        if self._loop is not None and self._done is not None:
            self._loop.call_soon_threadsafe(self._done.set)
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        finally:
            self._ready.set()  # also when it failed to start: start() must not wait forever

    async def _serve(self) -> None:
        self._loop, self._done = asyncio.get_running_loop(), asyncio.Event()
        await serve(self._socket, self._state, self._done, self._ready.set)


class _ServingProcess:
    """The server in a child process (``python -m tests.fakes.fake_twilio --fd N``), on the same socket."""

    def __init__(self, sock: socket.socket, account_sid: str, auth_token: str) -> None:
        self._socket = sock
        self._arguments = ["--account-sid", account_sid, "--auth-token", auth_token]
        self._process: subprocess.Popen[bytes] | None = None
        self._connection: http.client.HTTPConnection | None = None
        self._lock = threading.Lock()

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        fd = self._socket.fileno()
        self._process = subprocess.Popen(
            [sys.executable, "-m", "tests.fakes.fake_twilio", "--fd", str(fd), *self._arguments],
            pass_fds=(fd,), cwd=_ROOT, stdout=subprocess.PIPE,
        )
        assert self._process.stdout is not None
        # The child prints its port once it serves (a blocking read: it prints or dies).
        if not self._process.stdout.readline().strip():
            self.stop()
            raise RuntimeError("the fake Twilio process did not start")

    def stop(self) -> None:
        if self._connection is not None:
            self._connection.close()
        if self._process is not None and self._process.poll() is None:
            self._process.send_signal(signal.SIGTERM)
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        if self._process is not None and self._process.stdout is not None:
            self._process.stdout.close()

    def control(self, method: str, path: str, payload: object = None) -> Any:
        """Call a ``/_fake/`` endpoint of the child over one kept-alive connection; its JSON answer."""
        body = None if payload is None else json.dumps(payload).encode()
        with self._lock:
            for attempt in (1, 2):  # the kept-alive connection may have been closed by the server
                if self._connection is None:
                    host, port = self._socket.getsockname()[:2]
                    self._connection = http.client.HTTPConnection(host, port, timeout=STARTUP_SECONDS)
                try:
                    self._connection.request(method, CONTROL_PREFIX + path, body=body)
                    response = self._connection.getresponse()
                    data = response.read()
                    break
                except (ConnectionError, http.client.HTTPException):
                    self._connection.close()
                    self._connection = None
                    if attempt == 2:
                        raise
        if response.status >= 300:
            raise RuntimeError(f"fake Twilio control {method} {path}: HTTP {response.status}")
        return json.loads(data) if data else None


async def serve(
    sock: socket.socket, state: _State, done: asyncio.Event, on_ready: Callable[[], None] | None = None
) -> None:
    """Serve the fake API on ``sock`` until ``done`` is set; slow answers still waiting are cut short."""
    api = _Api(state, done)
    server = web.Server(api, handler_cancellation=False, access_log=None)
    runner = web.ServerRunner(server, shutdown_timeout=0.5)
    await runner.setup()
    site = web.SockSite(runner, sock, shutdown_timeout=0.5)
    await site.start()
    if on_ready is not None:
        on_ready()
    try:
        await done.wait()
    finally:
        await runner.cleanup()


class _Api:
    """The request handler: Twilio's API under ``API_PREFIX``, the fake's own under ``CONTROL_PREFIX``."""

    def __init__(self, state: _State, done: asyncio.Event) -> None:
        self._state, self._done = state, done
        credentials = base64.b64encode(f"{state.account_sid}:{state.auth_token}".encode()).decode()
        self._expected_authorization = f"Basic {credentials}"

    async def __call__(self, request: web.BaseRequest) -> web.StreamResponse:
        url = urlsplit(request.raw_path)
        query = parse_qs(url.query)
        raw = (await request.read()).decode("utf-8")
        if url.path.startswith(CONTROL_PREFIX):
            return self._control(request.method, url.path, query, raw)
        form = {key: values[-1] for key, values in parse_qs(raw, keep_blank_values=True).items()}
        state = self._state
        authorized = request.headers.get("Authorization") == self._expected_authorization
        with state.lock:
            state.requests.append(RecordedRequest(request.method, url.path, query, form, authorized))
        if not url.path.startswith(API_PREFIX):
            return _reply(404, _error(20404, "The requested resource was not found", 404))
        if not authorized:
            return _reply(401, _error(20003, "Authenticate", 401))
        failure = _next_failure(state)
        if failure is not None:
            if await self._stopped_within(failure.delay_seconds):
                return _reply(503, _error(None, "the fake is stopping", 503))
            if failure.status is not None:
                return _reply(failure.status, _error(failure.code, failure.message, failure.status))
        status, payload = _route(state, request.method, url.path, query, form)
        return _reply(status, payload)

    async def _stopped_within(self, seconds: float) -> bool:
        if seconds <= 0:
            return self._done.is_set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._done.wait(), seconds)
        return self._done.is_set()

    def _control(self, method: str, path: str, query: dict[str, list[str]], raw: str) -> web.Response:
        state = self._state
        after = int(query.get("after", ["0"])[-1])
        if path == "/_fake/messages" and method == "GET":
            with state.lock:
                return _reply(200, [_with_callback(message, state) for message in state.messages[after:]])
        if path == "/_fake/requests" and method == "GET":
            with state.lock:
                return _reply(200, [asdict(recorded) for recorded in state.requests[after:]])
        if path == "/_fake/failures" and method == "POST":
            with state.lock:
                state.failures.extend(PlannedFailure(**item) for item in json.loads(raw or "[]"))
            return _reply(200, [])
        if path == "/_fake/hold" and method == "POST":
            with state.lock:
                state.hold = bool(json.loads(raw or "{}").get("hold", True))
            return _reply(200, [])
        if path == "/_fake/release" and method == "POST":
            _release(state)
            return _reply(200, [])
        return _reply(404, _error(20404, f"The requested resource {path} was not found", 404))


def _reply(status: int, payload: object) -> web.Response:
    return web.Response(status=status, body=json.dumps(payload).encode("utf-8"),
                        content_type="application/json", charset="utf-8")


def _release(state: _State) -> None:
    """Hand the queued messages to the carrier: what Twilio does a moment after accepting them."""
    now = format_datetime(datetime.now(UTC).replace(microsecond=0))
    with state.lock:
        for message in state.messages:
            if message["date_sent"] is None:
                message.update(status="sent", date_sent=now, date_updated=now)


def _next_failure(state: _State) -> PlannedFailure | None:
    with state.lock:
        return state.failures.popleft() if state.failures else None


def _snapshot(state: _State) -> list[dict[str, Any]]:
    with state.lock:
        return [dict(message) for message in state.messages]


def _with_callback(message: dict[str, Any], state: _State) -> dict[str, Any]:
    """The message with the status callback URL it was created with (call under ``state.lock``)."""
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
    with state.lock:
        # Twilio hands the message to the carrier a moment later (at once here, unless held):
        # only then does it get a sent date, which the DateSent filters need.
        stored = (
            dict(answer) if state.hold else {**answer, "status": "sent", "date_sent": format_datetime(now)}
        )
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
    parser.add_argument("--fd", type=int, default=None, help="serve this inherited listening socket instead")
    parser.add_argument("--account-sid", default=FAKE_ACCOUNT_SID)
    parser.add_argument("--auth-token", default=FAKE_AUTH_TOKEN)
    args = parser.parse_args(argv)
    if args.fd is not None:
        sock = socket.socket(fileno=args.fd)
    else:
        sock = socket.create_server((args.host, args.port))
    with asyncio.Runner(loop_factory=_fastest_loop()) as runner:
        runner.run(_serve_until_signalled(sock, _State(args.account_sid, args.auth_token)))


def _fastest_loop() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's when installed (it is, with uvicorn), else asyncio's."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


async def _serve_until_signalled(sock: socket.socket, state: _State) -> None:
    done = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, done.set)

    def ready() -> None:
        print(sock.getsockname()[1], flush=True)

    await serve(sock, state, done, ready)


if __name__ == "__main__":
    main()
