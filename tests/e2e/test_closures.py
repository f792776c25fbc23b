"""When plans change, through a real server texting via the fake Twilio: a school closed for a
strike, a worker's absence over booked appointments, and rules every other week or overlapping."""

from __future__ import annotations

import time
from datetime import date, timedelta
from typing import Any

import holidays
import httpx
import pytest

from tests.fakes.fake_twilio import FakeTwilio
from tests.support.api import (
    PROBLEM,
    Programme,
    at,
    booking,
    created,
    family,
    programme,
    slot_starts,
    upcoming,
)
from tests.support.family_page import LINK, Booked, book_and_read_link, unique_mobile
from tests.support.server import RunningServer

pytestmark = pytest.mark.e2e
WAIT_SECONDS = 30.0


def _second_site(client: httpx.Client, prog: Programme, start: str, end: str) -> Programme:
    """The same worker and service at another site, on the same weekday (Wednesday)."""
    site = created(client.post("/v1/sites", json={
        "name": "Centre social", "kind": "office", "address": "12 rue des Lilas", "timezone": "Europe/Paris",
        "public_label": "Centre social"}))
    rule = created(client.post("/v1/availability-rules", json={
        "staff_id": prog.staff_id, "site_id": site["id"], "service_ids": [prog.service_id], "weekday": 3,
        "start_time": start, "end_time": end, "valid_from": "2026-01-01"}))
    return Programme(site["id"], prog.staff_id, prog.service_id, rule["id"], prog.zone)


def _whole_day(day: date) -> dict[str, str]:
    return {"start": at(day, "00:00"), "end": at(day + timedelta(days=1), "00:00")}


def _status(client: httpx.Client, appointment_id: str) -> str:
    return str(client.get(f"/v1/appointments/{appointment_id}").json()["status"])


def _texts_to(fake: FakeTwilio, number: str) -> list[str]:
    return [str(message["body"]) for message in fake.messages if message["to"] == number]


def _wait_for_texts(fake: FakeTwilio, number: str, count: int) -> list[str]:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        found = _texts_to(fake, number)
        if len(found) >= count:
            return found
        time.sleep(0.1)
    raise AssertionError(f"{count} texts expected, {len(_texts_to(fake, number))} arrived")


def _e164(booked: Booked, fake: FakeTwilio) -> str:
    return next(str(m["to"]) for m in fake.messages if m["body"] == booked.sms)


def _without_consent(client: httpx.Client, prog: Programme, start: str) -> tuple[dict[str, Any], str]:
    national, e164 = unique_mobile()
    body = booking(prog, start, family=family(phone=national, sms_consent=False))
    return created(client.post("/v1/appointments", json=body)), e164


def test_a_strike_closure_with_cancel_affected_cancels_that_school_that_day_and_texts_each_family_once(
    sms_server: RunningServer, fake_twilio: FakeTwilio
) -> None:
    with sms_server.client() as client:
        school = programme(client, start="09:00", end="12:00")
        elsewhere = _second_site(client, school, "14:00", "17:00")
        strike_day = upcoming(3, weeks_ahead=3)
        at_nine = book_and_read_link(client, fake_twilio, school, "09:00", weeks=3)
        at_ten = book_and_read_link(client, fake_twilio, school, "10:00", weeks=3)
        silent, silent_number = _without_consent(client, school, at(strike_day, "11:00"))
        afternoon = book_and_read_link(client, fake_twilio, elsewhere, "14:00", weeks=3)
        next_week = book_and_read_link(client, fake_twilio, school, "09:00", weeks=4)

        closure = created(client.post("/v1/closures", json={
            "site_id": school.site_id, **_whole_day(strike_day), "reason": "grève", "cancel_affected": True}))

        listed = closure["affected_appointments"]
        assert [item["id"] for item in listed] == [at_nine.id, at_ten.id, silent["id"]]
        assert listed[0] == {"id": at_nine.id, "start": at(strike_day, "09:00"),
                             "staff_id": school.staff_id, "site_id": school.site_id}
        for cancelled in (at_nine.id, at_ten.id, silent["id"]):
            assert _status(client, cancelled) == "cancelled"
            history = client.get(f"/v1/appointments/{cancelled}/events").json()["items"]
            assert history[-1]["type"] == "appointment.cancelled"
            assert history[-1]["actor"]["kind"] == "staff"
            assert history[-1]["data"]["appointment"]["cancelled_by"] == "staff"
        for kept in (afternoon.id, next_week.id):
            assert _status(client, kept) == "booked"
        # Nothing freed elsewhere: the other site's afternoon is still taken, the school offers nothing.
        afternoon_left = [at(strike_day, "15:00"), at(strike_day, "16:00")]
        assert slot_starts(client, elsewhere, strike_day) == afternoon_left  # all of the worker's that day
        day = strike_day.isoformat()
        at_school = {"service_id": school.service_id, "site_id": school.site_id, "from": day, "to": day}
        assert client.get("/v1/slots", params=at_school).json()["items"] == []
        refused = client.post("/v1/appointments", json=booking(school, at(strike_day, "10:00")))
        assert (refused.status_code, refused.json()["code"]) == (409, "slot-unavailable")

        for booked in (at_nine, at_ten):
            number = _e164(booked, fake_twilio)
            confirmation, notice = _wait_for_texts(fake_twilio, number, 2)
            assert confirmation == booked.sms and "annulé" in notice
            found = LINK.search(notice)
            assert found is not None, notice
            page = httpx.get(found.group(0), timeout=30)
            assert page.status_code == 200
        time.sleep(1.5)
        for booked in (at_nine, at_ten):
            assert len(_texts_to(fake_twilio, _e164(booked, fake_twilio))) == 2  # once each, no repeat
        for booked in (afternoon, next_week):
            assert len(_texts_to(fake_twilio, _e164(booked, fake_twilio))) == 1  # the confirmation only
        assert _texts_to(fake_twilio, silent_number) == []
        # Once cancelled, the closure falls on nothing more.
        assert client.get(f"/v1/closures/{closure['id']}").json()["affected_appointments"] == []


def test_without_cancel_affected_a_closure_lists_the_appointments_and_changes_nothing(
    sms_server: RunningServer, fake_twilio: FakeTwilio
) -> None:
    with sms_server.client() as client:
        school = programme(client)
        day = upcoming(3, weeks_ahead=5)
        booked = book_and_read_link(client, fake_twilio, school, "10:00", weeks=5)
        closure = created(client.post("/v1/closures", json={"site_id": school.site_id, **_whole_day(day)}))
        assert [item["id"] for item in closure["affected_appointments"]] == [booked.id]
        assert _status(client, booked.id) == "booked"
        read = client.get(f"/v1/closures/{closure['id']}").json()
        assert [item["id"] for item in read["affected_appointments"]] == [booked.id]
        listed = client.get("/v1/closures", params={"site_id": school.site_id}).json()["items"]
        assert [item["id"] for item in listed] == [closure["id"]]
        assert slot_starts(client, school, day) == []  # but no new booking there meanwhile
        time.sleep(1.5)
        assert len(_texts_to(fake_twilio, _e164(booked, fake_twilio))) == 1
        # Staff then decide: a PATCH with cancel_affected cancels them.
        patched = client.patch(f"/v1/closures/{closure['id']}", json={"cancel_affected": True})
        assert patched.status_code == 200, patched.text
        assert [item["id"] for item in patched.json()["affected_appointments"]] == [booked.id]
        assert _status(client, booked.id) == "cancelled"
        assert client.delete(f"/v1/closures/{closure['id']}").status_code == 204
        assert slot_starts(client, school, day)[:1] == [at(day, "09:00")]


def test_an_absence_widened_over_booked_appointments_lists_them_and_cancels_on_request(
    sms_server: RunningServer, fake_twilio: FakeTwilio
) -> None:
    with sms_server.client() as client:
        prog = programme(client)
        day = upcoming(3, weeks_ahead=6)
        morning = book_and_read_link(client, fake_twilio, prog, "09:00", weeks=6)
        later = book_and_read_link(client, fake_twilio, prog, "11:00", weeks=6)
        absence = created(client.post("/v1/absences", json={
            "staff_id": prog.staff_id, "start": at(day, "08:00"), "end": at(day, "10:00")}))
        assert [item["id"] for item in absence["affected_appointments"]] == [morning.id]
        read = client.get(f"/v1/absences/{absence['id']}").json()
        assert [item["id"] for item in read["affected_appointments"]] == [morning.id]
        widened = client.patch(f"/v1/absences/{absence['id']}", json={"end": at(day, "12:00"),
                                                                      "cancel_affected": True})
        assert widened.status_code == 200, widened.text
        assert [item["id"] for item in widened.json()["affected_appointments"]] == [morning.id, later.id]
        assert (_status(client, morning.id), _status(client, later.id)) == ("cancelled", "cancelled")
        for booked in (morning, later):
            assert "annulé" in _wait_for_texts(fake_twilio, _e164(booked, fake_twilio), 2)[1]


def test_an_unknown_site_cannot_be_closed(server: RunningServer) -> None:
    with server.client() as client:
        day = upcoming(3)
        response = client.post("/v1/closures", json={"site_id": "nope", **_whole_day(day)})
        assert response.status_code == 404 and response.headers["content-type"].startswith(PROBLEM)
        backwards = client.post("/v1/closures", json={"site_id": "nope", "start": at(day, "10:00"),
                                                      "end": at(day, "09:00")})
        assert backwards.status_code == 422


def test_an_every_other_week_rule_offers_slots_one_week_in_two(server: RunningServer) -> None:
    with server.client() as client:
        first = upcoming(3, weeks_ahead=2)
        prog = programme(client, start="09:00", end="10:00", valid_from=first.isoformat())
        every_other = client.patch(f"/v1/availability-rules/{prog.rule_id}", json={"every_weeks": 2})
        assert every_other.status_code == 200, every_other.text
        assert client.get(f"/v1/availability-rules/{prog.rule_id}").json()["every_weeks"] == 2
        found = slot_starts(client, prog, first, first + timedelta(days=34))
        weeks = [first + timedelta(weeks=n) for n in (0, 2, 4)]
        assert found == [at(day, "09:00") for day in weeks if day in _open_days(weeks)]


def _open_days(days: list[date]) -> set[date]:
    closed = holidays.France(years={day.year for day in days})
    return {day for day in days if day not in closed}


def _rule(prog: Programme, site_id: str, **fields: Any) -> dict[str, Any]:
    return {"staff_id": prog.staff_id, "site_id": site_id, "service_ids": [prog.service_id], "weekday": 3,
            "start_time": "09:00", "end_time": "12:00", "valid_from": "2026-01-07", **fields}


def test_two_rules_of_one_worker_at_two_schools_at_the_same_hours_are_refused(server: RunningServer) -> None:
    with server.client() as client:
        prog = programme(client, valid_from="2026-01-07")
        other = _second_site(client, prog, "14:00", "17:00")
        clash = client.post("/v1/availability-rules", json=_rule(prog, other.site_id, start_time="11:00",
                                                                    end_time="13:00"))
        assert clash.status_code == 422 and clash.headers["content-type"].startswith(PROBLEM)
        assert (clash.json()["code"], clash.json()["other_rule_id"]) == ("rule-overlap", prog.rule_id)
        assert clash.json()["first_meeting"] == "2026-01-07"
        # Every other week, on the weeks the weekly rule leaves free: still refused (it is weekly).
        assert client.post("/v1/availability-rules", json=_rule(prog, other.site_id, every_weeks=2,
                                                               valid_from="2026-01-14")).status_code == 422
        # The first rule ends; a rule after it is accepted, and widening the first one back is refused.
        assert client.patch(f"/v1/availability-rules/{prog.rule_id}",
                            json={"valid_until": "2026-06-30"}).status_code == 200
        later = created(client.post("/v1/availability-rules", json=_rule(prog, other.site_id,
                                                                        valid_from="2026-07-01")))
        widened = client.patch(f"/v1/availability-rules/{prog.rule_id}", json={"valid_until": None})
        assert (widened.status_code, widened.json()["other_rule_id"]) == (422, later["id"])
        # Touching hours do not meet: the coordinator plans the travel between schools.
        assert client.post("/v1/availability-rules", json=_rule(prog, other.site_id, start_time="12:00",
                                                                end_time="13:00")).status_code == 201


def test_every_other_week_rules_on_opposite_weeks_share_the_hours(server: RunningServer) -> None:
    with server.client() as client:
        prog = programme(client, valid_from="2026-01-07")
        every_other = client.patch(f"/v1/availability-rules/{prog.rule_id}", json={"every_weeks": 2})
        assert every_other.status_code == 200, every_other.text
        other = _second_site(client, prog, "14:00", "17:00")
        opposite = client.post("/v1/availability-rules", json=_rule(prog, other.site_id, every_weeks=2,
                                                                    valid_from="2026-01-14"))
        assert opposite.status_code == 201, opposite.text
        same = client.post("/v1/availability-rules", json=_rule(prog, other.site_id, every_weeks=2,
                                                                valid_from="2026-01-21"))
        assert (same.status_code, same.json()["code"]) == (422, "rule-overlap")


def test_an_interpreters_absence_lists_the_appointments_they_are_booked_on(server: RunningServer) -> None:
    with server.client() as client:
        prog = programme(client)
        interpreter = created(client.post("/v1/interpreters", json={"name": "Interprète", "languages": ["kk"],
                                                                    "mode": "on_site"}))
        created(client.post("/v1/availability-rules", json={
            "interpreter_id": interpreter["id"], "weekday": 3, "start_time": "09:00", "end_time": "12:00",
            "valid_from": "2026-01-01"}))
        day = upcoming(3, weeks_ahead=2)
        with_interpreter = created(client.post("/v1/appointments", json=booking(
            prog, at(day, "09:00"), interpreter_language="kk")))
        created(client.post("/v1/appointments", json=booking(prog, at(day, "10:00"))))
        absence = created(client.post("/v1/absences", json={
            "interpreter_id": interpreter["id"], **_whole_day(day)}))
        assert [item["id"] for item in absence["affected_appointments"]] == [with_interpreter["id"]]
        assert _status(client, with_interpreter["id"]) == "booked"
        # The interpreter's own rules may not overlap either.
        clash = client.post("/v1/availability-rules", json={
            "interpreter_id": interpreter["id"], "weekday": 3, "start_time": "11:00", "end_time": "13:00",
            "valid_from": "2026-06-01"})
        assert (clash.status_code, clash.json()["code"]) == (422, "rule-overlap")
