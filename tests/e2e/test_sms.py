"""SMS through a real server and the real twilio client, against a local fake Twilio HTTP server."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import select

from scheduler.db import outbox
from scheduler.db.engine import Database
from tests.fakes.fake_twilio import FakeTwilio, PlannedFailure, send_status_callback, twilio_signature
from tests.support.api import Programme, at, booking, created, family, programme, slot_starts, upcoming
from tests.support.family_page import LINK
from tests.support.server import RunningServer

WAIT_SECONDS = 30.0


def _wait_for(condition: Callable[[], Any], what: str) -> Any:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _sent_to(fake: FakeTwilio, number: str) -> list[dict[str, Any]]:
    return [message for message in fake.messages if message["to"] == number]


def _messages(client: httpx.Client, appointment_id: str) -> list[dict[str, Any]]:
    response = client.get(f"/v1/appointments/{appointment_id}/messages")
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def _unique_mobile() -> tuple[str, str]:
    """A random number in the 06 12 block (all valid mobiles), national and E.164."""
    digits = f"{secrets.randbelow(10**6):06d}"
    return f"06 12 {digits[:2]} {digits[2:4]} {digits[4:]}", f"+33612{digits}"


def _book(
    client: httpx.Client, prog: Programme, hhmm: str, weeks: int = 1, **family_fields: Any
) -> tuple[dict[str, Any], str]:
    national, e164 = _unique_mobile()
    body = booking(
        prog, at(upcoming(3, weeks_ahead=weeks), hhmm), family=family(phone=national, **family_fields)
    )
    return created(client.post("/v1/appointments", json=body)), e164


def test_booking_sends_one_neutral_confirmation_and_queues_reminders(
    sms_server: RunningServer, fake_twilio: FakeTwilio
) -> None:
    with sms_server.client() as client:
        prog = programme(client)
        appointment, number = _book(client, prog, "10:00", weeks=3)
        sent = _wait_for(lambda: _sent_to(fake_twilio, number), "the confirmation")
        assert len(sent) == 1
        body = sent[0]["body"]
        assert body.startswith("Rendez-vous le ") and "10h00" in body and "Accueil" in body
        for word in ("psycholog", "social", "PRE", "écoute", "staff"):
            assert word.lower() not in body.lower()
        messages = _wait_for(
            lambda: (
                [m for m in _messages(client, appointment["id"]) if m["status"] == "sent"]
                and _messages(client, appointment["id"])
            ),
            "the message list",
        )
        kinds = {m["kind"]: m for m in messages}
        assert kinds["booked"]["status"] == "sent"
        assert kinds["booked"]["to"].startswith("+33 6") and number[-8:-2] not in kinds["booked"]["to"]
        assert kinds["booked"]["segments"] == 1
        assert kinds["reminder-2880@0"]["status"] == "pending"
        # A text still to send shows the number it will go to, masked; times are in the site's zone.
        assert kinds["reminder-2880@0"]["to"] == kinds["booked"]["to"]
        for shown in (kinds["reminder-2880@0"]["due_at"], kinds["booked"]["sent_at"]):
            moment = datetime.fromisoformat(shown)
            assert moment.utcoffset() == moment.astimezone(ZoneInfo("Europe/Paris")).utcoffset()
        assert number not in str(messages)
        time.sleep(1)
        assert len(_sent_to(fake_twilio, number)) == 1


def test_no_consent_means_no_message_at_all(sms_server: RunningServer, fake_twilio: FakeTwilio) -> None:
    with sms_server.client() as client:
        prog = programme(client)
        appointment, number = _book(client, prog, "09:00", sms_consent=False)
        assert _messages(client, appointment["id"]) == []
        time.sleep(1.5)
        assert _sent_to(fake_twilio, number) == []


def test_the_family_language_picks_the_texts(sms_server: RunningServer, fake_twilio: FakeTwilio) -> None:
    with sms_server.client() as client:
        prog = programme(client)
        _, number = _book(client, prog, "11:00", language="ar")
        body = _wait_for(lambda: _sent_to(fake_twilio, number), "the Arabic confirmation")[0]["body"]
        assert any("\u0600" <= char <= "\u06ff" for char in body)


def test_cancelling_sends_a_notice_and_cancels_the_reminders(
    sms_server: RunningServer, fake_twilio: FakeTwilio
) -> None:
    with sms_server.client() as client:
        prog = programme(client)
        appointment, number = _book(client, prog, "09:00", weeks=3)
        _wait_for(lambda: _sent_to(fake_twilio, number), "the confirmation")
        client.post(f"/v1/appointments/{appointment['id']}/cancel")
        client.post(f"/v1/appointments/{appointment['id']}/cancel")
        notices = _wait_for(lambda: len(_sent_to(fake_twilio, number)) >= 2 and _sent_to(fake_twilio, number),
                            "the cancellation notice")
        assert "annulé" in notices[1]["body"]
        statuses = {m["kind"]: m["status"] for m in _messages(client, appointment["id"])}
        assert statuses["reminder-2880@0"] == "cancelled"
        time.sleep(1)
        assert len(_sent_to(fake_twilio, number)) == 2


def test_moving_sends_a_change_notice_and_re_times_reminders(
    sms_server: RunningServer, fake_twilio: FakeTwilio
) -> None:
    with sms_server.client() as client:
        prog = programme(client)
        appointment, number = _book(client, prog, "09:00", weeks=3)
        _wait_for(lambda: _sent_to(fake_twilio, number), "the confirmation")
        new_start = at(upcoming(3, weeks_ahead=4), "11:00")
        assert (
            client.post(
                f"/v1/appointments/{appointment['id']}/reschedule", json={"start": new_start}
            ).status_code
            == 200
        )
        notices = _wait_for(lambda: len(_sent_to(fake_twilio, number)) >= 2 and _sent_to(fake_twilio, number),
                            "the change notice")
        assert "déplacé" in notices[1]["body"] and "11h00" in notices[1]["body"]
        statuses = {m["kind"]: m["status"] for m in _messages(client, appointment["id"])}
        assert statuses["reminder-2880@0"] == "cancelled" and statuses["reminder-2880@1"] == "pending"


def test_a_permanent_twilio_error_is_recorded_and_not_retried(
    sms_server: RunningServer, fake_twilio: FakeTwilio
) -> None:
    with sms_server.client() as client:
        prog = programme(client)
        fake_twilio.fail_next(
            PlannedFailure.twilio(21610, message="Attempt to send to unsubscribed recipient")
        )
        appointment, number = _book(client, prog, "10:00", weeks=2)
        failed = _wait_for(
            lambda: [m for m in _messages(client, appointment["id"]) if m["status"] == "failed"],
            "the failure",
        )
        assert failed[0]["kind"] == "booked" and failed[0]["error_code"] == "21610"
        time.sleep(1)
        assert _sent_to(fake_twilio, number) == []
        history = client.get(f"/v1/appointments/{appointment['id']}/events").json()["items"]
    [event] = [event for event in history if event["type"] == "message.failed"]
    assert event["data"] == {"message": {"id": failed[0]["id"], "kind": "booked", "error_code": "21610"}}
    assert event["actor"]["kind"] == "system" and number[-8:] not in str(event)


def _callback_url(server: RunningServer, message_id: str) -> str:
    return f"{server.base_url}/webhooks/twilio/status?ref={message_id}"


def test_status_callbacks_move_forward_only_and_need_a_signature(
    sms_server: RunningServer, fake_twilio: FakeTwilio
) -> None:
    with sms_server.client() as client:
        prog = programme(client)
        appointment, number = _book(client, prog, "11:00", weeks=2)
        sent = _wait_for(lambda: _sent_to(fake_twilio, number), "the confirmation")[0]
        booked = next(m for m in _messages(client, appointment["id"]) if m["kind"] == "booked")
        url = _callback_url(sms_server, booked["id"])
        token = fake_twilio.auth_token
        for status in ("delivered", "sent", "delivered"):
            assert (
                send_status_callback(url, {"MessageSid": sent["sid"], "MessageStatus": status}, token) == 204
            )
        after = next(m for m in _messages(client, appointment["id"]) if m["kind"] == "booked")
        assert (after["status"], after["provider_status"]) == ("delivered", "delivered")
        forged = send_status_callback(
            url, {"MessageSid": sent["sid"], "MessageStatus": "failed"}, "wrong-token"
        )
        assert forged == 403
        unsigned = httpx.post(url, data={"MessageSid": sent["sid"], "MessageStatus": "failed"})
        assert (unsigned.status_code, unsigned.json()["code"]) == (403, "forbidden")
        assert (
            next(m for m in _messages(client, appointment["id"]) if m["kind"] == "booked")["status"]
            == "delivered"
        )
        history = client.get(f"/v1/appointments/{appointment['id']}/events").json()["items"]
    assert "message.failed" not in [event["type"] for event in history]  # delivered; forgeries refused


def test_a_text_the_network_could_not_deliver_is_a_message_failed_event(
    sms_server: RunningServer, fake_twilio: FakeTwilio
) -> None:
    with sms_server.client() as client:
        prog = programme(client)
        appointment, number = _book(client, prog, "09:00", weeks=2)
        sent = _wait_for(lambda: _sent_to(fake_twilio, number), "the confirmation")[0]
        booked = next(m for m in _messages(client, appointment["id"]) if m["kind"] == "booked")
        url = _callback_url(sms_server, booked["id"])
        for _ in range(2):  # Twilio may call twice: one event
            assert send_status_callback(url, {"MessageSid": sent["sid"], "MessageStatus": "undelivered",
                                              "ErrorCode": "30003"}, fake_twilio.auth_token) == 204
        history = client.get(f"/v1/appointments/{appointment['id']}/events").json()["items"]
    failed = [event for event in history if event["type"] == "message.failed"]
    assert [event["data"] for event in failed] == [
        {"message": {"id": booked["id"], "kind": "booked", "error_code": "30003"}}]
    assert number[-8:] not in str(history)


def _reply(server: RunningServer, token: str, sender: str, text: str) -> httpx.Response:
    url = f"{server.base_url}/webhooks/twilio/inbound"
    params = {"MessageSid": "SM" + secrets.token_hex(16), "From": sender, "To": "CRENEAU", "Body": text}
    return httpx.post(url, data=params, headers={"X-Twilio-Signature": twilio_signature(url, params, token)})


def test_replies_confirm_cancel_and_stop(sms_server: RunningServer, fake_twilio: FakeTwilio) -> None:
    with sms_server.client() as client:
        prog = programme(client)
        token = fake_twilio.auth_token
        appointment, number = _book(client, prog, "09:00", weeks=2)
        assert _reply(sms_server, token, number, " oui ! ").status_code == 200
        assert client.get(f"/v1/appointments/{appointment['id']}").json()["status"] == "confirmed"
        assert _reply(sms_server, token, number, "Annuler").status_code == 200
        cancelled = client.get(f"/v1/appointments/{appointment['id']}").json()
        assert (cancelled["status"], cancelled["cancelled_by"]) == ("cancelled", "family")
        history = client.get(f"/v1/appointments/{appointment['id']}/events").json()["items"]
        assert [(event["type"], event["actor"]["kind"]) for event in history] == [
            ("appointment.booked", "api-key"), ("appointment.confirmed", "family"),
            ("appointment.cancelled", "family")]
        assert at(upcoming(3, weeks_ahead=2), "09:00") in slot_starts(
            client, prog, upcoming(3, weeks_ahead=2)
        )
        other, other_number = _book(client, prog, "10:00", weeks=3)
        assert _reply(sms_server, token, other_number, "STOP").status_code == 200
        statuses = {m["kind"]: m["status"] for m in _messages(client, other["id"])}
        assert statuses["reminder-2880@0"] == "cancelled"
        assert client.get(f"/v1/appointments/{other['id']}").json()["family"]["sms_consent"] is False
        assert _reply(sms_server, token, "+33699999999", "OUI").status_code == 200  # unknown: ignored
        assert _reply(sms_server, "wrong", number, "OUI").status_code == 403


def test_the_interpreter_is_texted_in_french_when_booked_and_cancelled(
    sms_server: RunningServer, fake_twilio: FakeTwilio
) -> None:
    with sms_server.client() as client:
        prog = programme(client)
        _, interpreter_phone = _unique_mobile()
        interpreter = created(client.post("/v1/interpreters", json={"name": "I", "languages": ["wo"],
                                                                    "phone": interpreter_phone}))
        created(client.post("/v1/availability-rules", json={"interpreter_id": interpreter["id"], "weekday": 3,
                                                            "start_time": "09:00", "end_time": "12:00",
                                                            "valid_from": "2026-01-01"}))
        appointment, _ = _book(client, prog, "10:00", weeks=3, language="tr")
        assert appointment["interpreter"] is None
        national, e164 = _unique_mobile()
        body = booking(prog, at(upcoming(3, weeks_ahead=3), "11:00"), interpreter_language="wo",
                       family=family(phone=national, language="tr"))
        with_interpreter = created(client.post("/v1/appointments", json=body))
        texts = _wait_for(lambda: _sent_to(fake_twilio, interpreter_phone), "the interpreter's SMS")
        assert texts[0]["body"].startswith("Interprétariat réservé le ")
        assert "11h00" in texts[0]["body"] and "/r/" not in texts[0]["body"]
        family_text = _wait_for(lambda: _sent_to(fake_twilio, e164), "the family's SMS")[0]["body"]
        assert not family_text.startswith("Interprétariat")
        client.post(f"/v1/appointments/{with_interpreter['id']}/cancel")
        both = _wait_for(lambda: len(_sent_to(fake_twilio, interpreter_phone)) >= 2
                         and _sent_to(fake_twilio, interpreter_phone), "the interpreter's cancellation")
        assert both[1]["body"].startswith("Interprétariat du ") and "annulé" in both[1]["body"]
        kinds = {(m["recipient"], m["kind"]) for m in _messages(client, with_interpreter["id"])}
        assert {("interpreter", "booked"), ("interpreter", "cancelled"), ("family", "booked")} <= kinds


def test_an_interpreter_working_by_phone_is_told_how_not_where(
    sms_server: RunningServer, fake_twilio: FakeTwilio
) -> None:
    with sms_server.client() as client:
        prog = programme(client)
        _, interpreter_phone = _unique_mobile()
        interpreter = created(
            client.post(
                "/v1/interpreters",
                json={"name": "I", "languages": ["ln"], "mode": "phone", "phone": interpreter_phone},
            )
        )
        created(client.post("/v1/availability-rules", json={"interpreter_id": interpreter["id"], "weekday": 3,
                                                            "start_time": "09:00", "end_time": "12:00",
                                                            "valid_from": "2026-01-01"}))
        created(client.post("/v1/appointments", json=booking(prog, at(upcoming(3, weeks_ahead=5), "09:00"),
                                                             interpreter_language="ln")))
        [text] = _wait_for(lambda: _sent_to(fake_twilio, interpreter_phone), "the interpreter's SMS")
    assert (
        text["body"].startswith("Interprétariat réservé le ") and ": Accueil, par téléphone." in text["body"]
    )
    assert "rue de la Paix" not in text["body"]


def test_an_interpreter_replaced_by_a_move_or_an_agency_is_told_and_the_new_one_is_booked(
    sms_server: RunningServer, fake_twilio: FakeTwilio
) -> None:
    def pool_interpreter(client: httpx.Client, end: str) -> tuple[str, str]:
        _, phone = _unique_mobile()
        made = created(
            client.post("/v1/interpreters", json={"name": "I", "languages": ["ff"], "phone": phone})
        )
        created(client.post("/v1/availability-rules", json={"interpreter_id": made["id"], "weekday": 3,
                                                            "start_time": "09:00", "end_time": end,
                                                            "valid_from": "2026-01-01"}))
        return made["id"], phone

    with sms_server.client() as client:
        prog = programme(client)
        day = upcoming(3, weeks_ahead=4)
        first_id, first_phone = pool_interpreter(client, "10:00")  # free for 09:00 only
        made = created(client.post("/v1/appointments", json=booking(prog, at(day, "09:00"),
                                                                    interpreter_language="ff")))
        assert made["interpreter"]["interpreter_id"] == first_id
        _wait_for(lambda: _sent_to(fake_twilio, first_phone), "the first interpreter's booking")
        second_id, second_phone = pool_interpreter(client, "12:00")
        moved = client.post(f"/v1/appointments/{made['id']}/reschedule", json={"start": at(day, "11:00")})
        assert moved.status_code == 200, moved.text
        assert moved.json()["interpreter"]["interpreter_id"] == second_id
        told = _wait_for(
            lambda: len(_sent_to(fake_twilio, first_phone)) >= 2 and _sent_to(fake_twilio, first_phone),
            "the first interpreter's cancellation",
        )
        # The first interpreter hears of the time they were booked for, not of the new one.
        assert told[1]["body"].startswith("Interprétariat du ") and "annulé" in told[1]["body"]
        assert "9h00" in told[1]["body"] and "11h00" not in told[1]["body"]
        booked = _wait_for(lambda: _sent_to(fake_twilio, second_phone), "the second interpreter's booking")
        assert booked[0]["body"].startswith("Interprétariat réservé le ") and "11h00" in booked[0]["body"]
        # An agency takes over: the pool's interpreter is released and told, once.
        attached = client.post(f"/v1/appointments/{made['id']}/interpreter", json={
            "language": "ff", "agency": "ISM Interprétariat", "reference": "ISM-2026-0077"})
        assert attached.status_code == 200, attached.text
        released = _wait_for(lambda: len(_sent_to(fake_twilio, second_phone)) >= 2
                             and _sent_to(fake_twilio, second_phone), "the second interpreter's cancellation")
        assert "annulé" in released[1]["body"] and "11h00" in released[1]["body"]
        kinds = [(m["recipient"], m["kind"], m["status"]) for m in _messages(client, made["id"])
                 if m["recipient"] == "interpreter" and m["status"] != "cancelled"]
        assert sorted(kind for _, kind, _ in kinds) == ["booked", "booked@1", "cancelled@1", "cancelled@2"]
    assert len(_sent_to(fake_twilio, first_phone)) == 2 and len(_sent_to(fake_twilio, second_phone)) == 2


def test_the_outbox_keeps_the_text_without_the_family_s_link(
    sms_server: RunningServer, fake_twilio: FakeTwilio
) -> None:
    with sms_server.client() as client:
        appointment, number = _book(client, programme(client), "09:00", weeks=5)
        sent = _wait_for(lambda: _sent_to(fake_twilio, number), "the confirmation")[0]["body"]
    link = LINK.search(sent)
    assert link is not None, sent

    async def stored_bodies() -> list[str]:
        db = Database.from_url(sms_server.database.url)
        try:
            async with db.read() as session:
                rows = await session.execute(select(outbox.TABLE.c.body).where(
                    outbox.TABLE.c.appointment_id == appointment["id"], outbox.TABLE.c.body.is_not(None)))
                return list(rows.scalars())
        finally:
            await db.dispose()

    bodies = asyncio.run(stored_bodies())
    # The token is only ever stored hashed: the recorded text holds a mark, filled in again to resend.
    assert bodies == [sent.replace(link.group(0), "{link}")]
