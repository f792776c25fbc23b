"""The Twilio adapter: the official 9.x client, used asynchronously, errors translated once."""

from __future__ import annotations

import base64
import json
import logging
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from urllib.parse import urlencode, urlsplit, urlunsplit

import httpx
from twilio.base.exceptions import TwilioException, TwilioRestException  # type: ignore[import-untyped]
from twilio.http import AsyncHttpClient  # type: ignore[import-untyped]
from twilio.http.response import Response  # type: ignore[import-untyped]
from twilio.rest import Client  # type: ignore[import-untyped]
from twilio.rest.api.v2010.account.message import MessageInstance, MessageList  # type: ignore[import-untyped]

from notifications.senders.base import (
    OutgoingSms,
    PermanentSmsError,
    SendResult,
    SmsError,
    TransientSmsError,
)

DEFAULT_TIMEOUT_SECONDS = 10.0
"""Total time allowed for one API call; a timed-out send may still have been accepted."""
LOOKUP_LIMIT = 200
"""Messages to one number examined by a lookup; a family gets a handful a month."""
LOOKUP_PAGE_SIZE = 50
"""Messages per page of a lookup: most lookups stop at the first page (newest first)."""

logger = logging.getLogger("creneau.sms.twilio")
# A Messaging Service SID, as opposed to an alphanumeric sender ID (which may well start with "MG").
_MESSAGING_SERVICE_SID = re.compile(r"^MG[0-9a-fA-F]{32}$")

# Twilio error codes whose meaning is known, and what each says about retrying.
# Sources: twilio.com/docs/api/errors/<code>; see also LIBRARIES.md 6.3.
TWILIO_ERROR_KINDS: Mapping[int, tuple[type[SmsError], str]] = {
    20003: (PermanentSmsError, "authentication failed"),
    20404: (PermanentSmsError, "resource not found"),
    20429: (TransientSmsError, "too many requests"),
    20500: (TransientSmsError, "Twilio internal error"),
    20503: (TransientSmsError, "Twilio service unavailable"),
    21211: (PermanentSmsError, "invalid 'To' number"),
    21408: (PermanentSmsError, "sending to this region is not enabled"),
    21602: (PermanentSmsError, "message body is required"),
    21606: (PermanentSmsError, "the 'From' number cannot send SMS"),
    21610: (PermanentSmsError, "recipient has unsubscribed (STOP)"),
    21611: (TransientSmsError, "sender queue is full"),
    21612: (PermanentSmsError, "'To'/'From' combination cannot be routed"),
    21614: (PermanentSmsError, "'To' number cannot receive SMS"),
    21617: (PermanentSmsError, "message body is too long"),
    21635: (PermanentSmsError, "'To' number is a landline"),
    30001: (TransientSmsError, "queue overflow"),
    30003: (TransientSmsError, "destination handset unreachable"),
    30005: (PermanentSmsError, "unknown destination handset"),
    30006: (PermanentSmsError, "landline or unreachable carrier"),
}


class _HttpxTwilioClient(AsyncHttpClient):  # type: ignore[misc]  # twilio is untyped
    """The twilio client's async HTTP calls through httpx, pointed at another base URL if asked.

    twilio's own async client is built on aiohttp (and aiohttp-retry): 13 MB more in every worker
    for a second HTTP stack beside httpx, which the service already uses. Twilio's client calls
    ``request`` with the method, URL, query, form, headers and basic credentials, and reads the
    status, text and headers back (``twilio.http.response.Response``), as from its own client.
    Unlike the stock async client, the default timeout applies, nothing is logged but the method,
    path and status (a query string can hold the recipient's number), and no proxy is taken from
    the environment.
    """

    def __init__(self, api_base: str | None, timeout: float) -> None:
        super().__init__(logging.getLogger("creneau.sms.twilio.http"), True, timeout)
        self._base = urlsplit(api_base) if api_base else None
        self._client = httpx.AsyncClient(timeout=timeout, follow_redirects=False, trust_env=False)

    async def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> Response:
        """Send the request to the configured base, with the default timeout when none is given."""
        if timeout is not None and timeout <= 0:
            raise ValueError(timeout)
        if auth is not None:
            headers = {**(headers or {}), "Authorization": _basic_auth(*auth)}
        body = _form_body(data, headers)
        logger.debug("Twilio %s %s", method.upper(), urlsplit(url).path)
        answer = await self._client.request(
            method.upper(), self._rebase(url), params=params,  # type: ignore[arg-type]
            content=body if isinstance(body, bytes) else None,
            data=body if isinstance(body, dict) else None,
            headers=headers, timeout=timeout if timeout is not None else self.timeout,
            follow_redirects=allow_redirects,
        )
        logger.debug("Twilio answered %s", answer.status_code)
        return Response(answer.status_code, answer.text, answer.headers)

    def _rebase(self, url: str) -> str:
        if self._base is None:
            return url
        parts = urlsplit(url)
        return urlunsplit((self._base.scheme, self._base.netloc, parts.path, parts.query, ""))

    async def close(self) -> None:
        """Close the connection pool."""
        await self._client.aclose()


class TwilioSmsSender:
    """Sends SMS through Twilio's Messages API (2010-04-01)."""

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        sender: str,
        api_base: str | None = None,
        status_callback_url: str | None = None,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
    ) -> None:
        """Configure the sender; no connection is opened until the first call.

        Args:
            account_sid: The account SID (``AC...``).
            auth_token: The account's auth token.
            sender: A Messaging Service SID (``MG...``), an alphanumeric sender ID or a number.
            api_base: Another base URL than Twilio's (a local fake in tests).
            status_callback_url: Where Twilio posts status changes; ``?ref=<reference>`` is added.
            timeout: Seconds allowed for each API call.

        Raises:
            ValueError: ``api_base`` is not an http(s) URL, or ``timeout`` is not positive.
        """
        if api_base is not None and not _is_http_url(api_base):
            raise ValueError(f"the Twilio API base must be an http(s) URL, not {api_base!r}")
        if timeout <= 0:
            raise ValueError(f"the Twilio timeout must be positive, not {timeout}")
        self._account_sid = account_sid
        self._auth_token = auth_token
        self._sender = sender
        self._api_base = api_base
        self._status_callback_url = status_callback_url
        self._timeout = timeout
        self._http: _HttpxTwilioClient | None = None
        self._messages: MessageList | None = None

    async def send(self, message: OutgoingSms) -> SendResult:
        """Create the message at Twilio.

        Raises:
            TransientSmsError: Timeout, connection error, HTTP 5xx/429 or a retryable Twilio code.
            PermanentSmsError: A Twilio code or HTTP status that retrying cannot fix.
        """
        try:
            created = await self._message_list().create_async(
                to=message.to,
                body=message.body,
                status_callback=self._callback_for(message.reference),
                **self._sender_argument(),
            )
        except _VENDOR_ERRORS as exc:
            raise _translate(exc) from exc
        return _result(created)

    async def lookup(self, message: OutgoingSms, since: datetime) -> SendResult | None:
        """Find a message to the same number, from our sender, with the same body, accepted at or after
        ``since``.

        Listed by recipient (and sender) with no ``DateSent`` filter: a message Twilio accepted
        but still holds (``accepted``, ``queued``, ``scheduled``) has no sent date yet, and any
        ``DateSent`` filter leaves it out, which would have it sent twice. Twilio's list shows
        neither the status callback nor its ``?ref=``, so the reference cannot be matched there:
        recipient, sender and body (the body names the event and the time) are, plus the
        acceptance date (to the second, so ``since`` is truncated to the second).
        """
        since_second = since.astimezone(UTC).replace(microsecond=0)
        try:
            candidates = await self._message_list().stream_async(
                to=message.to, **self._lookup_filter(), limit=LOOKUP_LIMIT, page_size=LOOKUP_PAGE_SIZE
            )
            async for candidate in candidates:
                if self._is_ours(candidate) and candidate.body == message.body \
                        and _accepted_at(candidate) >= since_second:
                    return _result(candidate)
        except _VENDOR_ERRORS as exc:
            raise _translate(exc) from exc
        return None

    def _lookup_filter(self) -> dict[str, str]:
        # A Messaging Service picks the sender from its pool (none until then): filter on the
        # service in the answer instead (_is_ours).
        return {} if _MESSAGING_SERVICE_SID.match(self._sender) else {"from_": self._sender}

    def _is_ours(self, candidate: MessageInstance) -> bool:
        if _MESSAGING_SERVICE_SID.match(self._sender):
            return bool(candidate.messaging_service_sid == self._sender)
        return bool(candidate.from_ == self._sender)

    async def aclose(self) -> None:
        """Close the HTTP session; the sender can be used again afterwards (a new one opens)."""
        if self._http is not None:
            await self._http.close()
        self._http, self._messages = None, None

    def _message_list(self) -> MessageList:
        # Built on first use, in the running event loop.
        if self._messages is None:
            self._http = _HttpxTwilioClient(self._api_base, self._timeout)
            client = Client(self._account_sid, self._auth_token, http_client=self._http)
            self._messages = client.api.v2010.account.messages
        return self._messages

    def _sender_argument(self) -> dict[str, str]:
        if _MESSAGING_SERVICE_SID.match(self._sender):
            return {"messaging_service_sid": self._sender}
        return {"from_": self._sender}

    def _callback_for(self, reference: str) -> str | None:
        if self._status_callback_url is None:
            return None
        separator = "&" if urlsplit(self._status_callback_url).query else "?"
        return f"{self._status_callback_url}{separator}{urlencode({'ref': reference})}"


# Everything the client can raise for a failed call; anything else is a bug and propagates.
_VENDOR_ERRORS = (TwilioException, TimeoutError, httpx.TransportError)


def _is_http_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in {"http", "https"} and bool(parts.netloc)


def _form_body(data: Mapping[str, object] | None, headers: Mapping[str, str] | None) -> object:
    """The form encoded as twilio's clients send it (``urlencode(..., doseq=True)``), when sent as a form."""
    content_type = (headers or {}).get("Content-Type", "")
    if not data or content_type != "application/x-www-form-urlencoded":
        return data
    return urlencode(list(data.items()), doseq=True).encode("utf-8")


def _basic_auth(login: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{login}:{password}".encode()).decode("ascii")


def _translate(exc: BaseException) -> SmsError:
    """The one place a vendor exception becomes a transient or permanent SMS error.

    The message never repeats Twilio's, which can quote the recipient's number.
    """
    if isinstance(exc, TwilioRestException):
        return _translate_answer(exc.status, exc.code)
    if isinstance(exc, TwilioException):
        return _translate_page_failure(exc)
    if isinstance(exc, (TimeoutError, httpx.TimeoutException)):
        return TransientSmsError("Twilio did not answer in time", code="timeout")
    return TransientSmsError(f"cannot reach Twilio ({type(exc).__name__})", code="connection")


def _translate_answer(status: int, twilio_code: int | None) -> SmsError:
    """An error answer: by its Twilio code when the table knows it, else by its HTTP status."""
    if twilio_code is not None and twilio_code in TWILIO_ERROR_KINDS:
        kind, meaning = TWILIO_ERROR_KINDS[twilio_code]
        return kind(f"Twilio error {twilio_code}: {meaning}", code=str(twilio_code))
    code = str(twilio_code) if twilio_code is not None else f"http-{status}"
    if status == 429 or status >= 500:
        return TransientSmsError(f"Twilio answered HTTP {status}", code=code)
    return PermanentSmsError(f"Twilio refused the request (HTTP {status})", code=code)


def _translate_page_failure(exc: TwilioException) -> SmsError:
    """Listing raises a bare ``TwilioException("Unable to fetch page", response)``, not a REST error."""
    response = exc.args[1] if len(exc.args) > 1 else None
    if not isinstance(response, Response):
        return PermanentSmsError(f"Twilio client error ({type(exc).__name__})", code="client")
    try:
        twilio_code = json.loads(response.text).get("code")
    except (ValueError, AttributeError):
        twilio_code = None
    return _translate_answer(response.status_code, twilio_code if isinstance(twilio_code, int) else None)


def _accepted_at(message: MessageInstance) -> datetime:
    """When Twilio accepted the message (its creation date), in UTC."""
    stamp = message.date_created or message.date_sent
    return stamp.astimezone(UTC) if stamp is not None else datetime.min.replace(tzinfo=UTC)


def _result(message: MessageInstance) -> SendResult:
    return SendResult(
        provider_id=str(message.sid),
        status=str(message.status),
        segments=int(message.num_segments) if message.num_segments else None,
    )
