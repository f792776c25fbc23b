"""Family page tests: a server texting through the fake Twilio, and links read back from the SMS."""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.fakes.fake_twilio import FakeTwilio
from tests.support.api import Programme, at, booking, created, family, programme, upcoming
from tests.support.databases import DatabaseHandle
from tests.support.server import RunningServer, start_server

WAIT_SECONDS = 30.0
LINK = re.compile(r"https?://[^\s/]+/r/[0-9A-Za-z]{12}\b")
FORM_KEY = re.compile(r'name="csrf" value="([0-9a-f]+)"')
SITE_PHONE = "01 43 94 33 00"
BRING = "Le carnet de santé de l'enfant"


@dataclass(frozen=True, slots=True)
class Booked:
    """An appointment booked through the API and the page link its family received by SMS."""

    appointment: dict[str, Any]
    start: str
    link: str
    sms: str

    @property
    def id(self) -> str:
        return str(self.appointment["id"])

    @property
    def path(self) -> str:
        """``/r/<token>``: the link without its host."""
        return "/r/" + self.link.rsplit("/r/", 1)[1]


def twilio_env(fake: FakeTwilio, **extra: str) -> dict[str, str]:
    """A server that really texts, through the fake Twilio, at any hour."""
    return {
        "CRENEAU_SMS_BACKEND": "twilio",
        "TWILIO_ACCOUNT_SID": fake.account_sid,
        "TWILIO_AUTH_TOKEN": fake.auth_token,
        "CRENEAU_TWILIO_SENDER": "CRENEAU",
        "CRENEAU_TWILIO_API_BASE": fake.base_url,
        "CRENEAU_DISPATCH_INTERVAL_SECONDS": "0.3",
        "CRENEAU_SMS_RATE_PER_SECOND": "500",
        # Quiet hours are proven with a fixed clock elsewhere; off here so tests pass at any hour.
        "CRENEAU_QUIET_HOURS": "",
        **extra,
    }


@contextmanager
def texting_server(
    database: DatabaseHandle, fake: FakeTwilio, folder: Path, **extra: str
) -> Iterator[RunningServer]:
    """A real server process texting through ``fake``.

    Servers sharing a database must share ``CRENEAU_SECRET_KEY`` (pass it in ``extra``): any of
    their dispatchers may write a link that another one's page must recognise.
    """
    with start_server(
        database, folder, admin_key=secrets.token_urlsafe(24), extra_env=twilio_env(fake, **extra)
    ) as running:
        yield running


def public_programme(client: httpx.Client, **options: Any) -> Programme:
    """A programme whose site has a phone and whose service says what to bring."""
    prog = programme(client, **options)
    assert client.patch(f"/v1/sites/{prog.site_id}", json={"phone": SITE_PHONE}).status_code == 200
    assert client.patch(f"/v1/services/{prog.service_id}", json={"bring": BRING}).status_code == 200
    return prog


def unique_mobile() -> tuple[str, str]:
    """A French mobile number nobody else in the run uses: national and E.164 forms.

    Always 06 1x: 0690-0697 are overseas mobiles (0696/0697 Martinique: +596).
    """
    digits = f"1{secrets.randbelow(10**7):07d}"
    return f"06 {digits[:2]} {digits[2:4]} {digits[4:6]} {digits[6:]}", f"+336{digits}"


def book_and_read_link(
    client: httpx.Client, fake: FakeTwilio, prog: Programme, hhmm: str, *, weeks: int = 1, **fields: Any
) -> Booked:
    """Book through the API, wait for the confirmation SMS at the fake Twilio, take its link."""
    national, e164 = unique_mobile()
    family_fields = {key: value for key, value in fields.items() if key in ("language", "reference")}
    other = {key: value for key, value in fields.items() if key not in family_fields}
    start = at(upcoming(3, weeks_ahead=weeks), hhmm)
    body = booking(prog, start, family=family(phone=national, **family_fields), **other)
    appointment = created(client.post("/v1/appointments", json=body))
    try:
        sms = wait_for_sms(fake, e164)
    except AssertionError as exc:
        outbox = client.get(f"/v1/appointments/{appointment['id']}/messages").json()
        raise AssertionError(f"{exc}; the appointment's messages: {outbox}") from None
    found = LINK.search(sms)
    assert found is not None, f"no page link in the SMS: {sms!r}"
    return Booked(appointment, start, found.group(0), sms)


def wait_for_sms(fake: FakeTwilio, number: str) -> str:
    """The body of the first SMS the fake Twilio accepted for ``number``."""
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        sent = [message for message in fake.messages if message["to"] == number]
        if sent:
            return str(sent[0]["body"])
        time.sleep(0.1)
    raise AssertionError(f"no SMS reached the fake Twilio for {number[:-4]}****")


def form_key(page: str) -> str:
    """The CSRF value of a page's forms."""
    found = FORM_KEY.search(page)
    assert found is not None, "the page has no form"
    return found.group(1)
