"""Booking care pathways through a real server on both databases, texting through the fake Twilio:
all or nothing, a 20-way race of overlapping pathways of one psychologist, and the texts sent."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections import Counter
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import holidays
import httpx

from tests.fakes.fake_twilio import FakeTwilio
from tests.support.api import Programme, at, created, family, programme
from tests.support.server import RunningServer

PARIS = ZoneInfo("Europe/Paris")
WEEK = timedelta(days=7)
WAIT_SECONDS = 30.0
RACERS = 20
HOURS = ("09:00", "10:00", "11:00", "12:00")


def _wait_for(condition: Callable[[], Any], what: str) -> Any:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _quiet_wednesdays(count: int, weeks_ahead: int) -> list[date]:
    """``count`` consecutive Wednesdays, none a public holiday, the first ``weeks_ahead`` weeks from now."""
    day = datetime.now(PARIS).date() + weeks_ahead * WEEK
    day += timedelta(days=(3 - day.isoweekday()) % 7)
    closed = set(holidays.France(years=range(day.year, day.year + 2)))
    while any(day + k * WEEK in closed for k in range(count)):
        day += WEEK
    return [day + k * WEEK for k in range(count)]


def _mobile() -> tuple[str, str]:
    digits = f"{secrets.randbelow(10**6):06d}"
    return f"06 13 {digits[:2]} {digits[2:4]} {digits[4:]}", f"+33613{digits}"


def _pathway(prog: Programme, reference: str, starts: list[str], phone: str) -> dict[str, Any]:
    who = ["parents", "child", "family", "family"]
    return {
        "service_id": prog.service_id,
        "staff_id": prog.staff_id,
        "family": family(reference, phone=phone),
        "sessions": [{"start": start, "attendees": who[index]} for index, start in enumerate(starts)],
    }


def _feed_cursor(client: httpx.Client) -> str:
    cursor: str | None = None
    while True:
        page = client.get("/v1/events", params={"after": cursor or "", "limit": 500}).json()
        if not page["items"]:
            return str(page["next_cursor"])
        cursor = page["next_cursor"]


def test_a_taken_third_wednesday_leaves_nothing_behind_then_one_text_tells_all(
    sms_server: RunningServer, fake_twilio: FakeTwilio
) -> None:
    weeks = _quiet_wednesdays(3, weeks_ahead=2)
    with sms_server.client() as client:
        prog = programme(client, weekday=3, start="14:00", end="16:00")
        created(client.post("/v1/appointments", json={
            "service_id": prog.service_id, "staff_id": prog.staff_id, "start": at(weeks[2], "14:00"),
            "family": family(sms_consent=False)}))
        time.sleep(0.5)  # the single booking's transaction, and any job's, are over
        cursor = _feed_cursor(client)
        national, number = _mobile()
        body = _pathway(prog, "PRE-E2E-PW1", [at(day, "14:00") for day in weeks], national)

        refused = client.post("/v1/pathways", json=body)
        assert refused.status_code == 409, refused.text
        problem = refused.json()
        assert (problem["code"], problem["failed_session"], problem["next_available"]) == (
            "slot-unavailable", 2, at(weeks[2], "15:00"))
        left = client.get("/v1/appointments", params={"family_reference": "PRE-E2E-PW1"}).json()["items"]
        assert left == []
        time.sleep(2.5)  # the dispatcher runs every second: a queued text would have left by now
        assert [message for message in fake_twilio.messages if message["to"] == number] == []
        assert client.get("/v1/events", params={"after": cursor}).json()["items"] == []

        body["sessions"][2]["start"] = problem["next_available"]
        pathway = created(client.post("/v1/pathways", json=body))
        sent = _wait_for(lambda: [m for m in fake_twilio.messages if m["to"] == number], "the confirmation")
        time.sleep(1.5)
        sent = [m for m in fake_twilio.messages if m["to"] == number]
        assert len(sent) == 1, sent
        text = sent[0]["body"]
        assert text.startswith("Rendez-vous (Accueil, 1 rue de la Paix) : ")
        assert "à 14h00 (parents) ; " in text and "à 14h00 (enfant) ; " in text
        assert "à 15h00 (parents et enfant)." in text
        assert f"{sms_server.base_url}/r/" in text
        types = Counter(event["type"] for event in
                        _wait_for(lambda: client.get("/v1/events", params={"after": cursor}).json()["items"],
                                  "the pathway's events"))
        assert types == {"appointment.booked": 3, "pathway.booked": 1}

        closed = client.post(f"/v1/pathways/{pathway['id']}/close", json={"reason": None})
        assert closed.json()["status"] == "closed"
        notices = _wait_for(lambda: [m for m in fake_twilio.messages if m["to"] == number][1:], "the closing")
        time.sleep(1.5)
        assert len([m for m in fake_twilio.messages if m["to"] == number]) == 2
        assert notices[0]["body"].startswith("Vos rendez-vous (Accueil, 1 rue de la Paix) sont annulés : ")
        assert notices[0]["body"].count(" ; ") == 2


async def _race(server: RunningServer, bodies: list[dict[str, Any]]) -> list[httpx.Response]:
    async with server.async_client() as client:
        return list(await asyncio.gather(*(client.post("/v1/pathways", json=body) for body in bodies)))


def test_twenty_overlapping_pathways_of_one_psychologist_race_and_each_is_whole_or_absent(
    sms_server: RunningServer,
) -> None:
    weeks = _quiet_wednesdays(5, weeks_ahead=9)
    with sms_server.client() as client:
        prog = programme(client, weekday=3, start="09:00", end="13:00")
    # Racer i asks for three weekly sessions at one hour, starting on week 0, 1 or 2: any two racers at
    # the same hour share a week, so exactly one per hour can win.
    bodies = [
        _pathway(prog, f"PRE-RACE-{index:02d}",
                 [at(weeks[(index // 4) % 3 + k], HOURS[index % 4]) for k in range(3)],
                 phone=_mobile()[0])
        for index in range(RACERS)
    ]
    answers = asyncio.run(_race(sms_server, bodies))

    assert sorted(Counter(answer.status_code for answer in answers).items()) == [(201, 4), (409, 16)], [
        answer.text for answer in answers if answer.status_code not in (201, 409)]
    assert {answer.json()["code"] for answer in answers if answer.status_code == 409} <= {
        "slot-unavailable", "family-busy"}
    winners = {answer.json()["id"] for answer in answers if answer.status_code == 201}
    assert len({answer.json()["sessions"][0]["start"][11:16] for answer in answers
                if answer.status_code == 201}) == 4
    with sms_server.client() as client:
        booked = client.get("/v1/appointments", params={
            "staff_id": prog.staff_id, "status": "booked", "limit": 500}).json()["items"]
        for ident in winners:
            assert [item["status"] for item in client.get(f"/v1/pathways/{ident}").json()["sessions"]] == [
                "booked"] * 3
    starts = [item["start"] for item in booked]
    assert len(starts) == len(set(starts)) == 12  # no double booking, every winner whole
    assert Counter(item["pathway_id"] for item in booked) == dict.fromkeys(winners, 3)
