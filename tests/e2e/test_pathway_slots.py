"""Series of free slots for care pathways, through a real server on both databases."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import holidays
import httpx

from tests.support.api import PROBLEM, Programme, at, created, programme, slot_starts
from tests.support.server import RunningServer

PARIS = ZoneInfo("Europe/Paris")
WEEK = timedelta(days=7)


def _holidays(first: date) -> set[date]:
    return set(holidays.France(years=range(first.year, first.year + 3)))


def _quiet_wednesday() -> date:
    """A Wednesday at least a week ahead whose next three Wednesdays are working days too."""
    day = datetime.now(PARIS).date() + WEEK
    day += timedelta(days=(3 - day.isoweekday()) % 7)
    closed = _holidays(day)
    while any(day + k * WEEK in closed for k in range(4)):
        day += WEEK
    return day


def _weekday_holiday() -> date:
    """A public holiday on a weekday, at least two weeks ahead, with working days around it.

    The week before, the day after and the next week's two days are working days, so that only
    the holiday itself breaks a weekly series (read from the ``holidays`` library, not our code).
    """
    today = datetime.now(PARIS).date()
    closed = _holidays(today)
    for day in sorted(closed):
        if day < today + 2 * WEEK or day.isoweekday() > 5:
            continue
        if not any(day + timedelta(days=k) in closed for k in (-7, 1, 7, 8)):
            return day
    raise AssertionError("no weekday holiday in the next three years")


def _series(client: httpx.Client, prog: Programme, first: date, last: date | None = None,
            **params: Any) -> httpx.Response:
    return client.get("/v1/pathway-slots", params={
        "service_id": prog.service_id, "staff_id": prog.staff_id, "sessions": 3, "every_days": 7,
        "from": first.isoformat(), "to": (last or first).isoformat(), **params})


def _starts(response: httpx.Response) -> list[list[str]]:
    assert response.status_code == 200, response.text
    return [item["starts"] for item in response.json()["items"]]


def test_weekly_series_skip_an_absence_on_the_second_week(server: RunningServer) -> None:
    wednesday = _quiet_wednesday()
    with server.client() as client:
        prog = programme(client, weekday=3, start="14:00", end="16:00")
        before = _starts(_series(client, prog, wednesday))
        created(client.post("/v1/absences", json={
            "staff_id": prog.staff_id, "start": at(wednesday + WEEK, "14:00"),
            "end": at(wednesday + WEEK, "15:00"), "reason": "formation"}))
        after = _series(client, prog, wednesday)
        single = set(slot_starts(client, prog, wednesday, wednesday + 2 * WEEK))

    weeks = [wednesday + k * WEEK for k in range(3)]
    assert before == [[at(day, "14:00") for day in weeks], [at(day, "15:00") for day in weeks]]
    assert _starts(after) == [[at(day, "15:00") for day in weeks]]
    assert after.json()["items"][0]["staff_id"] == prog.staff_id
    assert after.json()["items"][0]["site_id"] == prog.site_id
    assert {start for series in _starts(after) for start in series} <= single


def test_a_holiday_breaks_the_weekly_series_and_a_days_tolerance_moves_it(server: RunningServer) -> None:
    holiday = _weekday_holiday()
    next_day = holiday + timedelta(days=1)
    with server.client() as client:
        prog = programme(client, weekday=holiday.isoweekday(), start="14:00", end="15:00")
        created(client.post("/v1/availability-rules", json={
            "staff_id": prog.staff_id, "site_id": prog.site_id, "service_ids": [prog.service_id],
            "weekday": next_day.isoweekday(), "start_time": "14:00", "end_time": "15:00",
            "valid_from": "2026-01-01"}))
        strict = _starts(_series(client, prog, holiday - WEEK))
        tolerant = _starts(_series(client, prog, holiday - WEEK, tolerance_days=1))
        single = set(slot_starts(client, prog, holiday - WEEK, holiday + 2 * WEEK))

    assert strict == []
    # The holiday's session moves to the next day (8 days on), the third comes back to the
    # holiday's weekday (6 days on): each within 7 ± 1 days of the one before.
    assert tolerant == [[at(holiday - WEEK, "14:00"), at(next_day, "14:00"), at(holiday + WEEK, "14:00")]]
    assert at(holiday, "14:00") not in single
    assert set(tolerant[0]) <= single


def test_series_come_in_pages_that_follow_each_other(server: RunningServer) -> None:
    wednesday = _quiet_wednesday()
    with server.client() as client:
        prog = programme(client, weekday=3, start="09:00", end="12:00")
        whole = _starts(_series(client, prog, wednesday))
        first = _series(client, prog, wednesday, limit=2)
        cursor = first.json()["next_cursor"]
        rest = _series(client, prog, wednesday, limit=2, cursor=cursor)

    assert [series[0] for series in whole] == [at(wednesday, hhmm) for hhmm in ("09:00", "10:00", "11:00")]
    assert cursor is not None
    assert _starts(first) + _starts(rest) == whole
    assert rest.json()["next_cursor"] is None


def test_bad_searches_are_refused_with_a_problem(server: RunningServer) -> None:
    wednesday = _quiet_wednesday()
    with server.client() as client:
        prog = programme(client)
        answers = {
            "one session": _series(client, prog, wednesday, sessions=1),
            "seven sessions": _series(client, prog, wednesday, sessions=7),
            "no spacing": _series(client, prog, wednesday, every_days=0),
            "tolerance as wide as spacing": _series(client, prog, wednesday, every_days=3, tolerance_days=3),
            "tolerance too wide": _series(client, prog, wednesday, every_days=14, tolerance_days=4),
            "range too long": _series(client, prog, wednesday, wednesday + timedelta(days=93)),
            "range backwards": _series(client, prog, wednesday, wednesday - timedelta(days=1)),
            "forged cursor": _series(client, prog, wednesday, cursor="bm90LWEtY3Vyc29y"),
        }
        unknown = client.get("/v1/pathway-slots", params={
            "service_id": "nope", "sessions": 3, "every_days": 7, "from": wednesday.isoformat(),
            "to": wednesday.isoformat()})

    for name, response in answers.items():
        assert (response.status_code, response.json()["code"]) == (422, "validation-error"), name
        assert response.headers["content-type"].startswith(PROBLEM), name
    assert (unknown.status_code, unknown.json()["code"]) == (404, "not-found")


def test_a_search_without_staff_member_pages_through_the_same_series(server: RunningServer) -> None:
    # Without staff_id or site_id the search reads growing stretches of first days (one day, two,
    # four...); with staff_id, the whole range at once. Both give the same series.
    wednesday = _quiet_wednesday()
    first, last = wednesday - timedelta(days=3), wednesday + timedelta(days=12)
    with server.client() as client:
        prog = programme(client, weekday=3, start="09:00", end="11:00")
        whole = _starts(_series(client, prog, first, last))
        paged: list[list[str]] = []
        cursor = None
        while True:
            response = client.get("/v1/pathway-slots", params={
                "service_id": prog.service_id, "sessions": 3, "every_days": 7, "from": first.isoformat(),
                "to": last.isoformat(), "limit": 1, **({"cursor": cursor} if cursor else {})})
            paged += _starts(response)
            cursor = response.json()["next_cursor"]
            if cursor is None:
                break

    assert [series[0] for series in whole] == [at(day, hhmm) for day in (wednesday, wednesday + WEEK)
                                               for hhmm in ("09:00", "10:00")]
    assert paged == whole


def test_every_session_needs_a_free_interpreter(server: RunningServer) -> None:
    wednesday = _quiet_wednesday()
    with server.client() as client:
        prog = programme(client, weekday=3, start="09:00", end="11:00")
        interpreter = created(client.post("/v1/interpreters", json={
            "name": "Interprète", "languages": ["ps"], "mode": "on_site"}))
        created(client.post("/v1/availability-rules", json={
            "interpreter_id": interpreter["id"], "weekday": 3, "start_time": "09:00", "end_time": "12:00",
            "valid_from": "2026-01-01"}))
        before = _starts(_series(client, prog, wednesday, interpreter_language="ps"))
        created(client.post("/v1/absences", json={
            "interpreter_id": interpreter["id"], "start": at(wednesday + WEEK, "09:00"),
            "end": at(wednesday + WEEK, "10:00"), "reason": None}))
        after = _starts(_series(client, prog, wednesday, interpreter_language="ps"))
        without = _starts(_series(client, prog, wednesday))

    weeks = [wednesday + k * WEEK for k in range(3)]
    assert before == [[at(day, "09:00") for day in weeks], [at(day, "10:00") for day in weeks]]
    assert after == [[at(day, "10:00") for day in weeks]]
    assert without == before
