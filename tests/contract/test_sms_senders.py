"""One contract for every SMS sender, plus what only the Twilio and console adapters promise.

The Twilio adapter runs the official client against a real HTTP fake (tests/fakes).
"""

from __future__ import annotations

import base64
import io
import json
import logging
import socket
import urllib.request
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import anyio
import pytest

from notifications.senders.base import (
    OutgoingSms,
    PermanentSmsError,
    SendResult,
    SmsError,
    SmsSender,
    TransientSmsError,
)
from notifications.senders.console import ConsoleSmsSender
from notifications.senders.memory import InMemorySmsSender
from notifications.senders.twilio import LOOKUP_PAGE_SIZE, TwilioSmsSender
from tests.fakes.fake_twilio import FakeTwilio, PlannedFailure

pytestmark = pytest.mark.anyio

MOBILE = "+33612345678"
CLIENT_TIMEOUT = 0.3
SERVICE_SID = "MG" + "0123456789abcdef" * 2
CALLBACK_URL = "https://creneau.example.fr/webhooks/twilio/status"
REMINDER = OutgoingSms(
    to=MOBILE, body="Rappel : rendez-vous le mercredi 25 novembre à 14h00.", reference="msg-001"
)

# The failures every backend must report the same way, as (planned on Twilio, raised in memory).
FAILURES: dict[str, tuple[PlannedFailure, SmsError]] = {
    "http-500": (PlannedFailure.http(500), TransientSmsError("planned", code="http-500")),
    "http-503": (PlannedFailure.http(503), TransientSmsError("planned", code="http-503")),
    "http-429": (PlannedFailure.http(429), TransientSmsError("planned", code="http-429")),
    "timeout": (PlannedFailure.slow(CLIENT_TIMEOUT * 5), TransientSmsError("planned", code="timeout")),
    "21211": (PlannedFailure.twilio(21211), PermanentSmsError("planned", code="21211")),
    "21610": (PlannedFailure.twilio(21610), PermanentSmsError("planned", code="21610")),
    "21614": (PlannedFailure.twilio(21614), PermanentSmsError("planned", code="21614")),
}


@dataclass
class Backend:
    """A sender under contract, with a way to make it fail and to count what it accepted."""

    sender: SmsSender
    fail_next: Callable[[str], None]
    accepted: Callable[[], int]


@pytest.fixture
def fake_twilio() -> Iterator[FakeTwilio]:
    with FakeTwilio() as fake:
        yield fake


def twilio_sender(fake: FakeTwilio, sender: str = "CRENEAU", **options: object) -> TwilioSmsSender:
    settings: dict[str, object] = {"api_base": fake.base_url, "timeout": CLIENT_TIMEOUT, **options}
    return TwilioSmsSender(fake.account_sid, fake.auth_token, sender, **settings)  # type: ignore[arg-type]


@pytest.fixture(params=["memory", "twilio", "twilio-fake-in-own-process"])
async def backend(request: pytest.FixtureRequest) -> AsyncIterator[Backend]:
    if request.param == "memory":
        memory = InMemorySmsSender()
        yield Backend(memory, lambda name: memory.fail_next(FAILURES[name][1]), lambda: len(memory.outbox))
        return
    if request.param == "twilio":
        fake: FakeTwilio = request.getfixturevalue("fake_twilio")
    else:  # the benchmark's fake: the same server, in a process of its own, read over HTTP
        fake = request.getfixturevalue("fake_twilio_in_own_process")
    twilio = twilio_sender(fake)
    yield Backend(twilio, lambda name: fake.fail_next(FAILURES[name][0]), lambda: len(fake.messages))
    await twilio.aclose()


@pytest.fixture
def fake_twilio_in_own_process() -> Iterator[FakeTwilio]:
    with FakeTwilio(separate_process=True) as fake:
        yield fake


async def wait_until(condition: Callable[[], bool], seconds: float = 5.0) -> None:
    with anyio.fail_after(seconds):
        while not condition():
            await anyio.sleep(0.02)


# --- the contract ---------------------------------------------------------------------------


async def test_send_returns_the_providers_answer(backend: Backend) -> None:
    result = await backend.sender.send(REMINDER)
    assert isinstance(result, SendResult)
    assert result.provider_id != ""
    assert result.status == "queued"
    assert result.segments == 1
    assert backend.accepted() == 1


async def test_lookup_finds_a_message_already_sent(backend: Backend) -> None:
    since = datetime.now(UTC)
    sent = await backend.sender.send(REMINDER)
    found = await backend.sender.lookup(REMINDER, since)
    assert found is not None
    assert found.provider_id == sent.provider_id


async def test_lookup_returns_none_for_a_message_never_sent(backend: Backend) -> None:
    since = datetime.now(UTC) - timedelta(minutes=1)
    await backend.sender.send(REMINDER)
    other = OutgoingSms(
        to=MOBILE, body="Votre rendez-vous du mercredi 25 novembre est annulé.", reference="msg-002"
    )
    assert await backend.sender.lookup(other, since) is None


@pytest.mark.parametrize("failure", ["http-500", "http-503", "http-429", "timeout"])
async def test_transient_failures_say_retry(backend: Backend, failure: str) -> None:
    backend.fail_next(failure)
    with pytest.raises(TransientSmsError) as raised:
        await backend.sender.send(REMINDER)
    assert raised.value.code == failure
    # The failure was for that call only.
    assert (await backend.sender.send(REMINDER)).provider_id != ""


@pytest.mark.parametrize("failure", ["21211", "21610", "21614"])
async def test_permanent_failures_carry_the_providers_code(backend: Backend, failure: str) -> None:
    backend.fail_next(failure)
    with pytest.raises(PermanentSmsError) as raised:
        await backend.sender.send(REMINDER)
    assert raised.value.code == failure
    assert backend.accepted() == 0


# --- Twilio only ----------------------------------------------------------------------------


async def test_status_callback_carries_the_reference(fake_twilio: FakeTwilio) -> None:
    sender = twilio_sender(fake_twilio, status_callback_url=CALLBACK_URL)
    await sender.send(OutgoingSms(MOBILE, "Bonjour", reference="01HZX 7&8"))
    await sender.aclose()
    assert fake_twilio.requests[-1].form["StatusCallback"] == f"{CALLBACK_URL}?ref=01HZX+7%268"


async def test_status_callback_url_with_a_query_gets_the_reference_appended(fake_twilio: FakeTwilio) -> None:
    sender = twilio_sender(fake_twilio, status_callback_url=f"{CALLBACK_URL}?site=4")
    await sender.send(REMINDER)
    await sender.aclose()
    assert fake_twilio.requests[-1].form["StatusCallback"] == f"{CALLBACK_URL}?site=4&ref=msg-001"


async def test_no_status_callback_without_a_callback_url(fake_twilio: FakeTwilio) -> None:
    sender = twilio_sender(fake_twilio)
    await sender.send(REMINDER)
    await sender.aclose()
    assert "StatusCallback" not in fake_twilio.requests[-1].form


async def test_messaging_service_sid_is_sent_instead_of_from(fake_twilio: FakeTwilio) -> None:
    sender = twilio_sender(fake_twilio, SERVICE_SID)
    result = await sender.send(REMINDER)
    await sender.aclose()
    form = fake_twilio.requests[-1].form
    assert form["MessagingServiceSid"] == SERVICE_SID
    assert "From" not in form
    assert result.status == "accepted"


@pytest.mark.parametrize("alphanumeric", ["CRENEAU", "MGARAGE"])
async def test_alphanumeric_sender_goes_in_from(fake_twilio: FakeTwilio, alphanumeric: str) -> None:
    sender = twilio_sender(fake_twilio, alphanumeric)
    await sender.send(REMINDER)
    await sender.aclose()
    form = fake_twilio.requests[-1].form
    assert (form["From"], form["To"], form["Body"]) == (alphanumeric, MOBILE, REMINDER.body)
    assert "MessagingServiceSid" not in form
    assert fake_twilio.requests[-1].authorized


async def test_wrong_credentials_are_permanent(fake_twilio: FakeTwilio) -> None:
    sender = TwilioSmsSender(fake_twilio.account_sid, "wrong-token", "CRENEAU", api_base=fake_twilio.base_url)
    with pytest.raises(PermanentSmsError) as raised:
        await sender.send(REMINDER)
    await sender.aclose()
    assert raised.value.code == "20003"


async def test_refusal_never_repeats_the_number(fake_twilio: FakeTwilio) -> None:
    # The fake, like Twilio, quotes the refused number in its message; our error must not.
    sender = twilio_sender(fake_twilio)
    with pytest.raises(PermanentSmsError) as raised:
        await sender.send(OutgoingSms("+33612", "Bonjour", "msg-003"))
    await sender.aclose()
    assert raised.value.code == "21211"
    assert "33612" not in str(raised.value)


@pytest.mark.parametrize(
    ("failure", "kind", "code"),
    [
        pytest.param(
            PlannedFailure.twilio(20429, status=429), TransientSmsError, "20429", id="known-transient-code"
        ),
        pytest.param(PlannedFailure.twilio(21612), PermanentSmsError, "21612", id="unroutable"),
        pytest.param(PlannedFailure.twilio(21999), PermanentSmsError, "21999", id="unknown-code-400"),
        pytest.param(
            PlannedFailure.twilio(29999, status=502), TransientSmsError, "29999", id="unknown-code-502"
        ),
        pytest.param(PlannedFailure.http(404), PermanentSmsError, "http-404", id="bare-404"),
    ],
)
async def test_twilio_errors_are_translated_by_code_then_status(
    fake_twilio: FakeTwilio, failure: PlannedFailure, kind: type[SmsError], code: str
) -> None:
    sender = twilio_sender(fake_twilio)
    fake_twilio.fail_next(failure)
    with pytest.raises(SmsError) as raised:
        await sender.send(REMINDER)
    await sender.aclose()
    assert type(raised.value) is kind
    assert raised.value.code == code
    assert isinstance(raised.value.__cause__, Exception)


async def test_timed_out_send_is_found_by_lookup_before_any_resend(fake_twilio: FakeTwilio) -> None:
    # Twilio accepted the message after the client gave up: a lookup must find it.
    sender = twilio_sender(fake_twilio)
    since = datetime.now(UTC)
    fake_twilio.fail_next(PlannedFailure.slow(CLIENT_TIMEOUT * 3))
    with pytest.raises(TransientSmsError):
        await sender.send(REMINDER)
    await wait_until(lambda: len(fake_twilio.messages) == 1)
    found = await sender.lookup(REMINDER, since)
    await sender.aclose()
    assert found is not None
    assert found.provider_id == fake_twilio.messages[0]["sid"]
    assert found.status == "sent"


async def test_lookup_ignores_messages_sent_before_since(fake_twilio: FakeTwilio) -> None:
    sender = twilio_sender(fake_twilio)
    await sender.send(REMINDER)
    found = await sender.lookup(REMINDER, datetime.now(UTC) + timedelta(seconds=2))
    await sender.aclose()
    assert found is None


async def test_lookup_asks_by_recipient_and_sender_without_a_sent_date(fake_twilio: FakeTwilio) -> None:
    # A DateSent filter would leave out every message Twilio still holds in its queue.
    sender = twilio_sender(fake_twilio)
    await sender.lookup(REMINDER, datetime(2026, 11, 23, 13, 0, 0, 250_000, tzinfo=UTC))
    await sender.aclose()
    query = fake_twilio.requests[-1].query
    assert (query["To"], query["From"], query["PageSize"]) == ([MOBILE], ["CRENEAU"], [str(LOOKUP_PAGE_SIZE)])
    assert not [key for key in query if key.startswith("DateSent")]


@pytest.mark.parametrize("sender_id", ["CRENEAU", SERVICE_SID])
async def test_lookup_finds_a_message_twilio_still_holds_in_its_queue(
    fake_twilio: FakeTwilio, sender_id: str
) -> None:
    sender = twilio_sender(fake_twilio, sender_id)
    since = datetime.now(UTC)
    fake_twilio.hold_in_queue()
    sent = await sender.send(REMINDER)
    [held] = fake_twilio.messages
    assert (held["status"], held["date_sent"]) == (sent.status, None)
    found = await sender.lookup(REMINDER, since)
    await sender.aclose()
    assert found is not None
    assert (found.provider_id, found.status) == (sent.provider_id, sent.status)


async def test_lookup_ignores_a_message_from_another_sender(fake_twilio: FakeTwilio) -> None:
    since = datetime.now(UTC)
    other = twilio_sender(fake_twilio, "AUTRE")
    await other.send(REMINDER)
    await other.aclose()
    sender = twilio_sender(fake_twilio, SERVICE_SID)
    assert await sender.lookup(REMINDER, since) is None
    await sender.aclose()


async def test_lookup_looks_past_the_first_page(fake_twilio: FakeTwilio) -> None:
    sender = twilio_sender(fake_twilio)
    since = datetime.now(UTC)
    await sender.send(REMINDER)
    for number in range(LOOKUP_PAGE_SIZE + 5):  # newer messages to the same number
        await sender.send(OutgoingSms(MOBILE, f"Message {number}", reference=f"other-{number}"))
    found = await sender.lookup(REMINDER, since)
    await sender.aclose()
    assert found is not None
    assert found.provider_id == fake_twilio.messages[0]["sid"]


def _list_sids(fake: FakeTwilio, **filters: str) -> list[str]:
    """The sids the fake's Messages list answers for these filters (a plain HTTP GET, as Twilio's)."""
    url = f"{fake.base_url}/2010-04-01/Accounts/{fake.account_sid}/Messages.json?{urlencode(filters)}"
    credentials = base64.b64encode(f"{fake.account_sid}:{fake.auth_token}".encode()).decode()
    request = urllib.request.Request(url, headers={"Authorization": f"Basic {credentials}"})
    with urllib.request.urlopen(request, timeout=5) as answer:
        return [message["sid"] for message in json.loads(answer.read())["messages"]]


async def test_the_fakes_date_sent_filters_leave_out_queued_messages_as_twilio_does(
    fake_twilio: FakeTwilio,
) -> None:
    sender = twilio_sender(fake_twilio)
    sent = (await sender.send(REMINDER)).provider_id
    fake_twilio.hold_in_queue()
    held = (await sender.send(OutgoingSms("+33698765432", "Bonjour", "msg-004"))).provider_id
    await sender.aclose()
    today = datetime.now(UTC).date().isoformat()
    assert _list_sids(fake_twilio) == [held, sent]
    assert _list_sids(fake_twilio, To=MOBILE) == [sent]
    assert _list_sids(fake_twilio, From="CRENEAU") == [held, sent]
    assert _list_sids(fake_twilio, From="AUTRE") == []
    for date_filter in ("DateSent", "DateSent>", "DateSent<"):
        assert _list_sids(fake_twilio, **{date_filter: today}) == [sent]
    assert _list_sids(fake_twilio, **{"DateSent>": "2999-01-01"}) == []
    fake_twilio.release_queued()
    assert _list_sids(fake_twilio, DateSent=today) == [held, sent]
    assert [m["status"] for m in fake_twilio.messages] == ["sent", "sent"]


async def test_the_fake_in_its_own_process_holds_and_releases_messages(
    fake_twilio_in_own_process: FakeTwilio,
) -> None:
    fake = fake_twilio_in_own_process
    fake.hold_in_queue()
    sender = twilio_sender(fake)
    await sender.send(REMINDER)
    await sender.aclose()
    assert [(m["status"], m["date_sent"]) for m in fake.messages] == [("queued", None)]
    fake.release_queued()
    assert [m["status"] for m in fake.messages] == ["sent"]


async def test_lookup_failure_is_translated(fake_twilio: FakeTwilio) -> None:
    sender = twilio_sender(fake_twilio)
    fake_twilio.fail_next(PlannedFailure.http(503))
    with pytest.raises(TransientSmsError) as raised:
        await sender.lookup(REMINDER, datetime.now(UTC))
    await sender.aclose()
    assert raised.value.code == "http-503"


async def test_unreachable_api_is_transient() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    sender = TwilioSmsSender("AC" + "0" * 32, "token", "CRENEAU", api_base=f"http://127.0.0.1:{closed_port}")
    with pytest.raises(TransientSmsError) as raised:
        await sender.send(REMINDER)
    await sender.aclose()
    assert raised.value.code == "connection"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"api_base": "127.0.0.1:9999"}, "must be an http"),
        ({"api_base": "ftp://127.0.0.1"}, "must be an http"),
        ({"timeout": 0}, "timeout must be positive"),
    ],
)
def test_misconfiguration_fails_at_construction(options: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        TwilioSmsSender("AC" + "0" * 32, "token", "CRENEAU", **options)  # type: ignore[arg-type]


async def test_sender_can_be_used_again_after_aclose(fake_twilio: FakeTwilio) -> None:
    sender = twilio_sender(fake_twilio)
    await sender.send(REMINDER)
    await sender.aclose()
    await sender.send(REMINDER)
    await sender.aclose()
    assert len(fake_twilio.messages) == 2


async def test_the_fake_in_its_own_process_reports_what_it_received(
    fake_twilio_in_own_process: FakeTwilio,
) -> None:
    fake = fake_twilio_in_own_process
    sender = twilio_sender(fake, status_callback_url=CALLBACK_URL)
    await sender.send(REMINDER)
    fake.fail_next(PlannedFailure.twilio(21610))
    with pytest.raises(PermanentSmsError):
        await sender.send(REMINDER)
    await sender.aclose()
    assert [(r.method, r.form["To"], r.authorized) for r in fake.requests] == [("POST", MOBILE, True)] * 2
    assert [m["to"] for m in fake.messages] == [MOBILE]
    assert fake.references() == ["msg-001"]


async def test_twilio_adapter_never_logs_the_number(
    fake_twilio: FakeTwilio, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    sender = twilio_sender(fake_twilio)
    await sender.send(REMINDER)
    await sender.lookup(REMINDER, datetime.now(UTC))
    await sender.aclose()
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("creneau"))
    assert "Twilio GET /2010-04-01/Accounts/" in ours
    assert "612345678" not in ours


# --- console only ---------------------------------------------------------------------------


async def test_console_logs_a_masked_number_never_the_clear_one(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="creneau.sms")
    result = await ConsoleSmsSender().send(REMINDER)
    assert result == SendResult(provider_id="console-msg-001", status="sent", segments=1)
    [record] = [r for r in caplog.records if r.name == "creneau.sms"]
    assert "+33 6•• ••• •78" in record.getMessage()
    assert REMINDER.body in record.getMessage()
    assert "612345678" not in caplog.text


async def test_console_never_logs_the_family_page_token(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="creneau.sms")
    body = "Rendez-vous le mer. 25/11 à 14h00 : Accueil. Pour confirmer ou annuler : https://rdv.exemple.fr/r/Ab3dE5fG7hJk"
    await ConsoleSmsSender().send(OutgoingSms(MOBILE, body, reference="msg-005"))
    [record] = [r for r in caplog.records if r.name == "creneau.sms"]
    assert record.getMessage().endswith("Pour confirmer ou annuler : https://rdv.exemple.fr/r/…")
    assert "Ab3dE5fG7hJk" not in caplog.text


async def test_console_in_demo_mode_shows_the_whole_link_on_its_screen_never_in_the_log(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="creneau.sms")
    screen = io.StringIO()
    body = "Rendez-vous le mer. 25/11 à 14h00 : Accueil. Pour confirmer ou annuler : https://rdv.exemple.fr/r/Ab3dE5fG7hJk"
    await ConsoleSmsSender(screen=screen).send(OutgoingSms(MOBILE, body, reference="msg-006"))
    assert screen.getvalue() == f"  SMS to +33 6•• ••• •78: {body}\n"
    assert "Ab3dE5fG7hJk" not in caplog.text


async def test_console_lookup_finds_nothing() -> None:
    sender = ConsoleSmsSender()
    await sender.send(REMINDER)
    assert await sender.lookup(REMINDER, datetime(2026, 1, 1, tzinfo=UTC)) is None
    await sender.aclose()
