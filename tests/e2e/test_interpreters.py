"""Interpreters booked together with appointments, through a real server on both databases."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import holidays
import httpx

from tests.support.api import Programme, at, booking, created, programme, slot_starts, upcoming
from tests.support.server import RunningServer


def _interpreter(client: httpx.Client, languages: list[str], start: str = "09:00", end: str = "12:00",
                 weekday: int = 3, **fields: Any) -> dict[str, Any]:
    made = created(client.post("/v1/interpreters", json={"name": "Interprète", "languages": languages,
                                                         "mode": "on_site", **fields}))
    created(client.post("/v1/availability-rules", json={
        "interpreter_id": made["id"], "weekday": weekday, "start_time": start, "end_time": end,
        "valid_from": "2026-01-01"}))
    return made


def _with_language(client: httpx.Client, prog: Programme, day: str, language: str) -> list[str]:
    response = client.get("/v1/slots", params={"service_id": prog.service_id, "from": day, "to": day,
                                               "interpreter_language": language})
    assert response.status_code == 200, response.text
    return [item["start"] for item in response.json()["items"]]


def test_an_interpreter_is_created_with_normalised_languages_and_phone(server: RunningServer) -> None:
    with server.client() as client:
        made = created(
            client.post(
                "/v1/interpreters",
                json={
                    "name": "M. Haddad",
                    "languages": ["AR", "ber", "fsl"],
                    "mode": "phone",
                    "phone": "06 11 22 33 44",
                },
            )
        )
        assert (made["languages"], made["phone"], made["mode"]) == (
            ["ar", "ber", "fsl"],
            "+33611223344",
            "phone",
        )
        bad = client.post("/v1/interpreters", json={"name": "x", "languages": ["ara"]})
        assert (bad.status_code, bad.json()["code"]) == (422, "validation-error")
        rule = client.post(
            "/v1/availability-rules",
            json={
                "interpreter_id": made["id"],
                "site_id": "x",
                "weekday": 3,
                "start_time": "09:00",
                "end_time": "12:00",
                "valid_from": "2026-01-01",
            },
        )
        assert (rule.status_code, rule.json()["code"]) == (422, "validation-error")


def test_slots_with_a_language_need_a_free_interpreter_for_the_whole_slot(server: RunningServer) -> None:
    with server.client() as client:
        language = "ps"
        prog = programme(client, start="09:00", end="12:00")
        day = upcoming(3, weeks_ahead=2)
        assert _with_language(client, prog, str(day), "ku") == []  # nobody speaks it
        interpreter = _interpreter(client, [language], start="09:30", end="12:00")
        # 09:00-10:00 is not covered whole (the interpreter starts at 09:30).
        assert _with_language(client, prog, str(day), language) == [at(day, "10:00"), at(day, "11:00")]
        created(
            client.post(
                "/v1/absences",
                json={
                    "interpreter_id": interpreter["id"],
                    "start": at(day, "11:30"),
                    "end": at(day, "13:00"),
                },
            )
        )
        assert _with_language(client, prog, str(day), language) == [at(day, "10:00")]
        assert slot_starts(client, prog, day) == [at(day, "09:00"), at(day, "10:00"), at(day, "11:00")]


def test_booking_holds_the_interpreter_and_refuses_a_second_one(server: RunningServer) -> None:
    with server.client() as client:
        language = "uk"
        first, second = programme(client), programme(client)
        interpreter = _interpreter(client, [language])
        day = upcoming(3, weeks_ahead=3)
        made = created(client.post("/v1/appointments", json=booking(first, at(day, "10:00"),
                                                                    interpreter_language=language)))
        assert made["interpreter"] == {"language": language, "interpreter_id": interpreter["id"],
                                       "status": "booked", "agency": None, "reference": None}
        refused = client.post(
            "/v1/appointments", json=booking(second, at(day, "10:00"), interpreter_language=language)
        )
        assert (refused.status_code, refused.json()["code"]) == (409, "interpreter-unavailable")
        assert refused.json()["next_available"][:2] == [at(day, "09:00"), at(day, "11:00")]
        assert refused.json()["detail"].endswith(f"free for the whole appointment at {at(day, '10:00')}.")
        # Both or neither: the second staff member's slot was not kept by the refused booking.
        assert at(day, "10:00") in slot_starts(client, second, day)
        assert _with_language(client, second, str(day), language) == [at(day, "09:00"), at(day, "11:00")]


def test_the_least_booked_interpreter_of_the_week_is_chosen(server: RunningServer) -> None:
    with server.client() as client:
        language = "ta"
        progs = [programme(client) for _ in range(3)]
        busy, idle = _interpreter(client, [language]), _interpreter(client, [language])
        day = upcoming(3, weeks_ahead=4)
        chosen = [created(client.post("/v1/appointments", json=booking(prog, at(day, hhmm),
                                                                       interpreter_language=language)))
                  ["interpreter"]["interpreter_id"] for prog, hhmm in zip(progs, ("09:00", "10:00", "11:00"))]
        # Whoever got the first booking is busier; the next goes to the other; then it alternates.
        assert chosen[1] != chosen[0] and chosen[2] == chosen[0]
        assert set(chosen) == {busy["id"], idle["id"]}


def test_cancel_frees_the_interpreter_and_reschedule_moves_it(server: RunningServer) -> None:
    with server.client() as client:
        language = "ur"
        prog, other = programme(client), programme(client)
        interpreter = _interpreter(client, [language])
        day = upcoming(3, weeks_ahead=5)
        made = created(client.post("/v1/appointments", json=booking(prog, at(day, "09:00"),
                                                                    interpreter_language=language)))
        moved = client.post(f"/v1/appointments/{made['id']}/reschedule", json={"start": at(day, "11:00")})
        assert moved.status_code == 200, moved.text
        assert moved.json()["interpreter"]["interpreter_id"] == interpreter["id"]
        assert _with_language(client, other, str(day), language) == [at(day, "09:00"), at(day, "10:00")]
        cancelled = client.post(f"/v1/appointments/{made['id']}/cancel").json()
        assert cancelled["interpreter"]["status"] == "cancelled"
        assert _with_language(client, other, str(day), language) == [at(day, "09:00"), at(day, "10:00"),
                                                                     at(day, "11:00")]


def test_a_reschedule_that_cannot_keep_an_interpreter_fails_and_changes_nothing(
    server: RunningServer,
) -> None:
    with server.client() as client:
        language = "bn"
        prog, other = programme(client), programme(client)
        _interpreter(client, [language])
        day = upcoming(3, weeks_ahead=6)
        mine = created(client.post("/v1/appointments", json=booking(prog, at(day, "09:00"),
                                                                    interpreter_language=language)))
        created(
            client.post(
                "/v1/appointments", json=booking(other, at(day, "11:00"), interpreter_language=language)
            )
        )
        refused = client.post(f"/v1/appointments/{mine['id']}/reschedule", json={"start": at(day, "11:00")})
        assert (refused.status_code, refused.json()["code"]) == (409, "interpreter-unavailable")
        after = client.get(f"/v1/appointments/{mine['id']}").json()
        assert (after["start"], after["interpreter"]) == (mine["start"], mine["interpreter"])
        assert slot_starts(client, prog, day) == [at(day, "10:00"), at(day, "11:00")]


def test_an_agency_interpreter_can_be_attached_and_is_counted(server: RunningServer) -> None:
    with server.client() as client:
        prog = programme(client)
        day = upcoming(3, weeks_ahead=7)
        made = created(client.post("/v1/appointments", json=booking(prog, at(day, "09:00"))))
        attached = client.post(f"/v1/appointments/{made['id']}/interpreter", json={
            "language": "so", "agency": "ISM Interprétariat", "reference": "ISM-2026-0042"})
        assert attached.status_code == 200, attached.text
        assert attached.json()["interpreter"] == {
            "language": "so",
            "interpreter_id": None,
            "status": "external",
            "agency": "ISM Interprétariat",
            "reference": "ISM-2026-0042",
        }
        month = day.strftime("%Y-%m")
        figures = client.get(
            "/v1/stats/interpreters", params={"from": str(day.replace(day=1)), "to": str(day)}
        )
        assert figures.status_code == 200
        assert {"language": "so", "month": month, "appointments": 1, "external": 1} in figures.json()["items"]


def _next_reunion_only_holiday() -> date:
    """The next public holiday of Réunion that mainland France does not have, at least 8 days ahead.

    Taken from the holidays library directly, not from our code (20 December: abolition of slavery).
    """
    today = datetime.now(ZoneInfo("Europe/Paris")).date()
    years = range(today.year, today.year + 3)
    only_there = sorted(set(holidays.France(years=years, subdiv="974")) - set(holidays.France(years=years)))
    return next(day for day in only_there if day >= today + timedelta(days=8))


def test_an_interpreter_is_off_on_the_public_holidays_of_the_zone_they_work_in(server: RunningServer) -> None:
    holiday = _next_reunion_only_holiday()
    week_before = holiday - timedelta(days=7)
    with server.client() as client:
        # A mainland office, open that day (no holiday in Paris), and an interpreter working from
        # Réunion by phone: 11:00-16:00 there is 08:00-13:00 in Paris in winter.
        prog = programme(client, weekday=holiday.isoweekday(), start="09:00", end="12:00", horizon_days=400)
        _interpreter(client, ["ti"], start="11:00", end="16:00", weekday=holiday.isoweekday(),
                     mode="phone", timezone="Indian/Reunion")
        assert slot_starts(client, prog, holiday) == [
            at(holiday, "09:00"),
            at(holiday, "10:00"),
            at(holiday, "11:00"),
        ]
        assert _with_language(client, prog, str(week_before), "ti") == [
            at(week_before, "09:00"), at(week_before, "10:00"), at(week_before, "11:00")]
        assert _with_language(client, prog, str(holiday), "ti") == []


def test_an_interpreters_rule_cannot_follow_a_school_calendar(server: RunningServer) -> None:
    with server.client() as client:
        made = _interpreter(client, ["ti"])
        body = {"interpreter_id": made["id"], "weekday": 2, "start_time": "09:00", "end_time": "12:00",
                "valid_from": "2026-01-01", "follows_school_calendar": True}
        refused = client.post("/v1/availability-rules", json=body)
        assert (refused.status_code, refused.json()["code"]) == (422, "validation-error")
        rule = created(client.post("/v1/availability-rules", json={**body, "follows_school_calendar": False}))
        patched = client.patch(f"/v1/availability-rules/{rule['id']}", json={"follows_school_calendar": True})
        assert (patched.status_code, patched.json()["code"]) == (422, "validation-error")
        assert client.get(f"/v1/availability-rules/{rule['id']}").json()["follows_school_calendar"] is False
