"""Replies kept for staff: a family's SMS that is not OUI/ANNULER/STOP can be read back, masked."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from tests.fakes.fake_twilio import FakeTwilio, twilio_signature
from tests.support.api import PROBLEM, at, booking, created, family, programme, upcoming
from tests.support.family_page import unique_mobile
from tests.support.server import RunningServer


def _reply(server: RunningServer, token: str, sender: str, text: str) -> None:
    url = f"{server.base_url}/webhooks/twilio/inbound"
    params = {"MessageSid": "SM" + secrets.token_hex(16), "From": sender, "To": "CRENEAU", "Body": text}
    response = httpx.post(
        url, data=params, headers={"X-Twilio-Signature": twilio_signature(url, params, token)}
    )
    assert response.status_code == 200, response.text


def _items(client: httpx.Client, path: str, **params: Any) -> list[dict[str, Any]]:
    response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def test_a_free_text_reply_is_kept_for_staff_with_the_number_masked(
    sms_server: RunningServer, fake_twilio: FakeTwilio
) -> None:
    with sms_server.client() as client:
        prog = programme(client)
        national, e164 = unique_mobile()
        appointment = created(client.post("/v1/appointments", json=booking(
            prog, at(upcoming(3, weeks_ahead=2), "09:00"), family=family(phone=national))))
        sent_at = datetime.now(ZoneInfo("Europe/Paris"))
        _reply(sms_server, fake_twilio.auth_token, e164, "Bonjour, je serai en retard de 10 minutes")
        _reply(sms_server, fake_twilio.auth_token, e164, "OUI")  # acted upon, not kept
        replies = _items(client, f"/v1/appointments/{appointment['id']}/replies")
        assert [(r["appointment_id"], r["text"]) for r in replies] == [
            (appointment["id"], "Bonjour, je serai en retard de 10 minutes")]
        kept = replies[0]
        assert kept["sender"].startswith("+33 6") and kept["sender"].endswith(e164[-2:])
        received = datetime.fromisoformat(kept["received_at"])
        assert received.utcoffset() == sent_at.utcoffset() and abs(received - sent_at) < timedelta(minutes=1)
        today = sent_at.date().isoformat()
        listed = _items(client, "/v1/replies", **{"from": today, "to": today, "limit": 500})
        assert kept in listed
        for response in (client.get(f"/v1/appointments/{appointment['id']}/replies"),
                         client.get("/v1/replies", params={"from": today, "to": today})):
            assert (
                e164 not in response.text and e164[3:] not in response.text and national not in response.text
            )


def test_replies_are_paged_and_filtered_by_date(sms_server: RunningServer, fake_twilio: FakeTwilio) -> None:
    with sms_server.client() as client:
        prog = programme(client)
        national, e164 = unique_mobile()
        appointment = created(client.post("/v1/appointments", json=booking(
            prog, at(upcoming(3, weeks_ahead=3), "10:00"), family=family(phone=national))))
        texts = [f"message {n}" for n in range(3)]
        for text in texts:
            _reply(sms_server, fake_twilio.auth_token, e164, text)
        path = f"/v1/appointments/{appointment['id']}/replies"
        first = client.get(path, params={"limit": 2}).json()
        second = client.get(path, params={"limit": 2, "cursor": first["next_cursor"]}).json()
        assert [r["text"] for r in first["items"] + second["items"]] == texts
        assert second["next_cursor"] is None
        yesterday = (datetime.now(ZoneInfo("Europe/Paris")).date() - timedelta(days=1)).isoformat()
        assert _items(client, "/v1/replies", **{"from": yesterday, "to": yesterday}) == []


def test_bad_reply_queries_are_problems(sms_server: RunningServer) -> None:
    with sms_server.client() as client:
        for response, status, code in (
            (client.get("/v1/appointments/nope/replies"), 404, "not-found"),
            (
                client.get("/v1/replies", params={"from": "2026-12-10", "to": "2026-12-01"}),
                422,
                "validation-error",
            ),
            (client.get("/v1/replies", params={"from": "10/12/2026"}), 422, "validation-error"),
            (client.get("/v1/replies", params={"cursor": "not-ours"}), 422, "validation-error"),
            (client.get("/v1/replies", params={"limit": "501"}), 422, "validation-error"),
        ):
            assert (response.status_code, response.json()["code"]) == (status, code), response.text
            assert response.headers["content-type"].startswith(PROBLEM)
