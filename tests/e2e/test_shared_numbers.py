"""One number, several appointments or families: texts go where each booking said, replies act on
what the last text was about, or on nothing when that is unclear.

Through a real server texting through the fake Twilio, on both databases.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import update

from scheduler.db import outbox
from scheduler.db.engine import Database
from tests.fakes.fake_twilio import FakeTwilio, twilio_signature
from tests.support.api import at, booking, created, family, programme, unique, upcoming
from tests.support.family_page import unique_mobile
from tests.support.server import RunningServer

WAIT_SECONDS = 30.0


def _wait_for(condition: Callable[[], Any], what: str) -> Any:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _bodies_to(fake: FakeTwilio, number: str) -> list[str]:
    return [str(message["body"]) for message in fake.messages if message["to"] == number]


def _book(
    client: httpx.Client, prog: Any, weeks: int, hhmm: str, reference: str, phone: str
) -> dict[str, Any]:
    start = at(upcoming(3, weeks_ahead=weeks), hhmm)
    body = booking(prog, start, family=family(reference=reference, phone=phone))
    return created(client.post("/v1/appointments", json=body))


def _reply(server: RunningServer, token: str, sender: str, text: str) -> None:
    url = f"{server.base_url}/webhooks/twilio/inbound"
    params = {"MessageSid": "SM" + secrets.token_hex(16), "From": sender, "To": "CRENEAU", "Body": text}
    signature = {"X-Twilio-Signature": twilio_signature(url, params, token)}
    response = httpx.post(url, data=params, headers=signature)
    assert response.status_code == 200, response.text


def _status(client: httpx.Client, appointment: dict[str, Any]) -> str:
    status: str = client.get(f"/v1/appointments/{appointment['id']}").json()["status"]
    return status


def _backdate_texts(server: RunningServer, appointment_id: str, days: int) -> None:
    """The appointment's texts left ``days`` earlier (as if booked then)."""
    async def run() -> None:
        db = Database.from_url(server.database.url)
        try:
            async with db.write() as session:
                earlier = datetime.now().astimezone() - timedelta(days=days)
                texts = outbox.TABLE.c.appointment_id == appointment_id
                await session.execute(
                    update(outbox.TABLE).where(texts).values(sent_at=earlier, updated_at=earlier))
        finally:
            await db.dispose()
    asyncio.run(run())


def test_a_booking_with_another_number_does_not_redirect_the_familys_other_texts(
    sms_server: RunningServer, fake_twilio: FakeTwilio
) -> None:
    with sms_server.client() as client:
        prog = programme(client)
        reference = unique("PRE-2026")
        (first_national, first), (second_national, second) = unique_mobile(), unique_mobile()
        earlier = _book(client, prog, 2, "09:00", reference, first_national)
        _wait_for(lambda: _bodies_to(fake_twilio, first), "the first booking's text")
        later = _book(client, prog, 3, "09:00", reference, second_national)
        _wait_for(lambda: _bodies_to(fake_twilio, second), "the second booking's text")
        assert client.post(f"/v1/appointments/{earlier['id']}/cancel").status_code == 200
        cancelled = _wait_for(
            lambda: len(_bodies_to(fake_twilio, first)) >= 2 and _bodies_to(fake_twilio, first),
            "the cancellation at the number the appointment was booked with")
        assert "annulé" in cancelled[1]
        assert len(_bodies_to(fake_twilio, second)) == 1
        assert client.get(f"/v1/appointments/{earlier['id']}").json()["family"]["phone"] == first
        assert client.get(f"/v1/appointments/{later['id']}").json()["family"]["phone"] == second


def test_a_reply_to_a_number_two_families_share_acts_on_nothing_and_is_kept(
    sms_server: RunningServer, fake_twilio: FakeTwilio
) -> None:
    with sms_server.client() as client:
        prog = programme(client)
        national, shared = unique_mobile()
        elder = _book(client, prog, 2, "10:00", unique("PRE-2026"), national)
        _wait_for(lambda: _bodies_to(fake_twilio, shared), "the first family's text")
        sibling = _book(client, prog, 3, "10:00", unique("PRE-2026"), national)
        _wait_for(lambda: len(_bodies_to(fake_twilio, shared)) >= 2, "the second family's text")
        _reply(sms_server, fake_twilio.auth_token, shared, "ANNULER")
        assert (_status(client, elder), _status(client, sibling)) == ("booked", "booked")
        today = datetime.now().astimezone().date().isoformat()
        kept = client.get("/v1/replies", params={"from": today, "to": today, "limit": 500}).json()["items"]
        assert [reply["text"] for reply in kept if reply["sender"].endswith(shared[-2:])
                and reply["text"] == "ANNULER"], "the unclear reply is kept for staff"


def test_a_reply_acts_on_the_appointment_the_last_text_was_about(
    sms_server: RunningServer, fake_twilio: FakeTwilio
) -> None:
    with sms_server.client() as client:
        prog = programme(client)
        national, shared = unique_mobile()
        elder = _book(client, prog, 2, "11:00", unique("PRE-2026"), national)
        _wait_for(lambda: _bodies_to(fake_twilio, shared), "the first family's text")
        _backdate_texts(sms_server, elder["id"], days=3)
        sibling = _book(client, prog, 3, "11:00", unique("PRE-2026"), national)
        _wait_for(lambda: len(_bodies_to(fake_twilio, shared)) >= 2, "the second family's text")
        _reply(sms_server, fake_twilio.auth_token, shared, "ANNULER")
        assert (_status(client, elder), _status(client, sibling)) == ("booked", "cancelled")


def test_stop_from_a_shared_number_stops_every_family_behind_it(
    sms_server: RunningServer, fake_twilio: FakeTwilio
) -> None:
    with sms_server.client() as client:
        prog = programme(client)
        national, shared = unique_mobile()
        one = _book(client, prog, 2, "09:00", unique("PRE-2026"), national)
        other = _book(client, prog, 4, "09:00", unique("PRE-2026"), national)
        _reply(sms_server, fake_twilio.auth_token, shared, "STOP")
        for appointment in (one, other):
            answer = client.get(f"/v1/appointments/{appointment['id']}").json()
            assert answer["family"]["sms_consent"] is False


def test_a_familys_number_changes_on_purpose_for_its_appointments_to_come(
    sms_server: RunningServer, fake_twilio: FakeTwilio
) -> None:
    with sms_server.client() as client:
        prog = programme(client)
        reference = unique("PRE-2026")
        (old_national, old), (new_national, new) = unique_mobile(), unique_mobile()
        appointment = _book(client, prog, 4, "11:00", reference, old_national)
        _wait_for(lambda: _bodies_to(fake_twilio, old), "the booking's text")
        changed = client.patch(f"/v1/families/{reference}", json={"phone": new_national})
        assert changed.status_code == 200, changed.text
        assert changed.json()["phone"] == new
        assert client.get(f"/v1/appointments/{appointment['id']}").json()["family"]["phone"] == new
        assert client.post(f"/v1/appointments/{appointment['id']}/cancel").status_code == 200
        cancelled = _wait_for(lambda: _bodies_to(fake_twilio, new), "the cancellation at the new number")
        assert "annulé" in cancelled[0] and len(_bodies_to(fake_twilio, old)) == 1
        unknown = client.patch(f"/v1/families/{unique('PRE-NONE')}", json={"phone": new_national})
        assert (unknown.status_code, unknown.json()["code"]) == (404, "not-found")


def test_a_number_that_answered_stop_is_not_texted_for_a_family_booked_later(
    sms_server: RunningServer, fake_twilio: FakeTwilio
) -> None:
    with sms_server.client() as client:
        prog = programme(client)
        national, number = unique_mobile()
        _book(client, prog, 2, "09:00", unique("PRE-2026"), national)
        _wait_for(lambda: _bodies_to(fake_twilio, number), "the first family's text")
        _reply(sms_server, fake_twilio.auth_token, number, "STOP")
        later = _book(client, prog, 5, "09:00", unique("PRE-2026"), national)

        def booked_notice() -> dict[str, Any] | None:
            messages = client.get(f"/v1/appointments/{later['id']}/messages").json()["items"]
            found = [m for m in messages if m["recipient"] == "family" and m["kind"] == "booked"
                     and m["status"] not in ("pending", "sending")]
            return found[0] if found else None

        notice = _wait_for(booked_notice, "the later booking's notice to be decided")
        assert (notice["status"], notice["error_code"]) == ("cancelled", "no-consent")
        assert len(_bodies_to(fake_twilio, number)) == 1
