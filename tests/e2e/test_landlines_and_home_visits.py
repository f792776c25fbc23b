"""A family with only a landline is booked and never texted; a home visit's address reaches its worker only.

Through a real server texting a local fake Twilio, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from typing import Any

import httpx

from tests.fakes.fake_twilio import FakeTwilio
from tests.support.api import PROBLEM, at, booking, created, family, programme, upcoming
from tests.support.ical import parsed_events, unfolded
from tests.support.server import RunningServer

WAIT_SECONDS = 30.0
VISIT_ADDRESS = "12 rue des Lilas, 93200 Saint-Denis"


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


def _unique(prefix: str, e164_prefix: str) -> tuple[str, str]:
    """A random number of a French block: national form and E.164."""
    digits = f"{secrets.randbelow(10**6):06d}"
    return f"{prefix} {digits[:2]} {digits[2:4]} {digits[4:]}", f"{e164_prefix}{digits}"


def _messages(client: httpx.Client, appointment_id: str) -> dict[str, Any]:
    response = client.get(f"/v1/appointments/{appointment_id}/messages")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


# --- landlines ---------------------------------------------------------------------------------


def test_a_landline_family_is_booked_and_never_texted(
    sms_server: RunningServer, fake_twilio: FakeTwilio
) -> None:
    landline, landline_e164 = _unique("01 43", "+33143")
    mobile, mobile_e164 = _unique("06 12", "+33612")
    with sms_server.client() as client:
        prog = programme(client)
        day = upcoming(3, weeks_ahead=2)
        response = client.post("/v1/appointments", json=booking(prog, at(day, "09:00"),
                                                                 family=family(phone=landline)))
        appointment = created(response)
        assert appointment["family"]["phone"] == landline_e164
        assert appointment["status"] == "booked"
        # A mobile family booked after it is texted: the dispatcher has run past the landline's booking.
        other = created(client.post("/v1/appointments", json=booking(prog, at(day, "10:00"),
                                                                     family=family(phone=mobile))))
        _wait_for(lambda: _sent_to(fake_twilio, mobile_e164), "the mobile family's confirmation")
        time.sleep(1)
        assert _sent_to(fake_twilio, landline_e164) == []

        messages = _messages(client, appointment["id"])
        assert (messages["items"], messages["family_not_texted"]) == ([], "landline")
        assert _messages(client, other["id"])["family_not_texted"] is None
        assert client.get(f"/v1/appointments/{appointment['id']}").json()["family"]["phone"] == landline_e164


def test_a_family_without_consent_is_told_apart_from_a_landline(sms_server: RunningServer) -> None:
    mobile, _ = _unique("06 12", "+33612")
    with sms_server.client() as client:
        prog = programme(client)
        appointment = created(client.post("/v1/appointments", json=booking(
            prog, at(upcoming(3, weeks_ahead=3), "09:00"), family=family(phone=mobile, sms_consent=False))))
        assert _messages(client, appointment["id"])["family_not_texted"] == "no-consent"


def test_a_number_that_is_no_phone_at_all_is_still_refused(sms_server: RunningServer) -> None:
    with sms_server.client() as client:
        prog = programme(client)
        response = client.post("/v1/appointments", json=booking(prog, at(upcoming(3), "11:00"),
                                                                 family=family(phone="01 23")))
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "invalid-phone"


# --- home visits -------------------------------------------------------------------------------


def _feed_text(client: httpx.Client, owner: str, owner_id: str, privacy: str) -> str:
    feed = created(client.post(f"/v1/{owner}/{owner_id}/feeds", json={"privacy": privacy}))
    response = httpx.get(feed["url"], timeout=30)
    assert response.status_code == 200, response.text
    parsed_events(response.content)  # both parsers read it
    return unfolded(response.content)


def test_a_home_visit_needs_its_address_and_only_a_home_visit_takes_one(sms_server: RunningServer) -> None:
    with sms_server.client() as client:
        home, office = programme(client, kind="home"), programme(client)
        start = at(upcoming(3), "09:00")
        missing = client.post("/v1/appointments", json=booking(home, start))
        misplaced = client.post("/v1/appointments", json=booking(office, start, visit_address=VISIT_ADDRESS))
    for response in (missing, misplaced):
        assert response.status_code == 422, response.text
        assert response.headers["content-type"].startswith(PROBLEM)
        assert response.json()["code"] == "validation-error"
        assert [error["field"] for error in response.json()["errors"]] == ["visit_address"]


def test_a_home_visit_shows_its_address_to_the_worker_and_says_at_home_to_the_family(
    sms_server: RunningServer, fake_twilio: FakeTwilio
) -> None:
    mobile, mobile_e164 = _unique("06 12", "+33612")
    with sms_server.client() as client:
        home = programme(client, kind="home")
        appointment = created(client.post("/v1/appointments", json=booking(
            home, at(upcoming(3), "10:00"), family=family(phone=mobile), visit_address=VISIT_ADDRESS)))
        assert appointment["visit_address"] == VISIT_ADDRESS
        assert client.get(f"/v1/appointments/{appointment['id']}").json()["visit_address"] == VISIT_ADDRESS

        for privacy in ("full", "standard"):
            assert f"LOCATION:visite à domicile : {VISIT_ADDRESS.replace(',', chr(92) + ',')}" in _feed_text(
                client, "staff", home.staff_id, privacy)
        assert "Lilas" not in _feed_text(client, "staff", home.staff_id, "busy")
        site_standard = _feed_text(client, "sites", home.site_id, "standard")
        assert "LOCATION:visite à domicile\r\n" in site_standard
        assert "Lilas" not in site_standard
        assert "Lilas" in _feed_text(client, "sites", home.site_id, "full")

    body = _wait_for(lambda: _sent_to(fake_twilio, mobile_e164), "the home visit's confirmation")[0]["body"]
    assert "à votre domicile" in body
    assert "Lilas" not in body and "Accueil" not in body


def test_a_home_visit_moved_within_its_home_site_keeps_its_address(sms_server: RunningServer) -> None:
    with sms_server.client() as client:
        home = programme(client, kind="home")
        day = upcoming(3, weeks_ahead=2)
        appointment = created(client.post("/v1/appointments", json=booking(
            home, at(day, "09:00"), visit_address=VISIT_ADDRESS)))
        moved = client.post(f"/v1/appointments/{appointment['id']}/reschedule",
                            json={"start": at(day, "11:00")})
    assert moved.status_code == 200, moved.text
    assert moved.json()["visit_address"] == VISIT_ADDRESS
