"""Appointment figures checked against the test's own tally of what it did through the API.

The test books, cancels (one early, one less than 24 h before), records outcomes and imports
last year's appointments, on both databases, then compares every cell of the report with a
count it keeps itself. Its appointments cross a month boundary that UTC and local time place
differently (1 April 00:30 in Paris, after the spring change, is still 31 March in UTC; 02:00
in La Réunion too), and the SMS are counted from what the memory backend actually accepted.
"""

from __future__ import annotations

import csv
import io
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from notifications.segments import count_segments
from tests.api.conftest import InProcess
from tests.support.api import PROBLEM, Programme, created, family, programme

FIGURES = ("booked", "attended", "no_show", "cancelled", "cancelled_late", "families", "first_appointments",
           "with_interpreter", "home_visits", "sms_sent", "sms_segments",
           "waitlist_refills")  # no waiting list here: none (tests/api/test_waitlist.py counts one)
PERIOD = {"from": "2026-01-01", "to": "2026-04-30"}
SETTLE_SECONDS = 20.0


@dataclass
class Done:
    """One appointment as the test made it, with what the report must say of it."""

    id: str
    site_id: str
    month: str
    weekday: int
    reference: str
    language: str
    status: str = "booked"
    late: bool = False
    first: bool = False
    home: bool = False
    phone: str | None = None


@dataclass
class Scenario:
    """The programmes and every appointment, in the order they happened."""

    paris: Programme
    reunion: Programme
    home: Programme
    done: list[Done] = field(default_factory=list)

    def by_id(self, ident: str) -> Done:
        return next(item for item in self.done if item.id == ident)


def _book(app: InProcess, prog: Programme, start: str, reference: str, phone: str, language: str,
          home: bool = False) -> str:
    visit = {"visit_address": "3 rue des Lilas, 71000 Mâcon"} if home else {}
    body = created(app.client.post("/v1/appointments", json={
        "service_id": prog.service_id, "staff_id": prog.staff_id, "start": start,
        "family": family(reference, phone=phone, language=language), **visit}))
    return str(body["id"])


def _imported(external_id: str, prog: Programme, start: str, end: str, status: str, reference: str,
              language: str = "fr") -> dict[str, Any]:
    return {"external_id": external_id, "service_id": prog.service_id, "staff_id": prog.staff_id,
            "site_id": prog.site_id, "start": start, "end": end, "status": status,
            "family": {"reference": reference, "language": language}}


def _scenario(app: InProcess) -> Scenario:
    client = app.client
    scenario = Scenario(
        paris=programme(client, weekday=3, start="00:00", end="02:00", duration=30),
        reunion=programme(client, weekday=3, start="00:00", end="03:00", duration=30, zone="Indian/Reunion"),
        home=programme(client, weekday=3, start="09:00", end="12:00", duration=60, kind="home"),
    )
    done = scenario.done
    phones = iter(f"06 12 34 56 {n:02d}" for n in range(10, 99))

    def book(prog: Programme, start: str, ref: str, month: str, weekday: int, language: str = "fr") -> Done:
        phone = next(phones)
        ident = _book(app, prog, start, ref, phone, language, home=prog is scenario.home)
        item = Done(ident, prog.site_id, month, weekday, ref, language, home=prog is scenario.home,
                    phone=phone)
        done.append(item)
        return item

    # Wednesday 1 April in Paris (UTC+2 since 29 March) and in La Réunion: Tuesday 31 March in UTC.
    a1 = book(scenario.paris, "2026-04-01T00:30:00+02:00", "F1", "2026-04", 3)
    a2 = book(scenario.paris, "2026-04-01T01:00:00+02:00", "F2", "2026-04", 3)
    a3 = book(scenario.paris, "2026-04-01T00:00:00+02:00", "F3", "2026-04", 3)
    a4 = book(scenario.reunion, "2026-04-01T02:00:00+04:00", "F4", "2026-04", 3, language="ar")
    a5 = book(scenario.home, "2026-03-04T10:00:00+01:00", "F1", "2026-03", 3)
    a6 = book(scenario.home, "2026-03-11T10:00:00+01:00", "F5", "2026-03", 3)
    assert client.post(f"/v1/appointments/{a3.id}/cancel").status_code == 200
    a3.status = "cancelled"
    _settle(app, scenario)

    imports = [
        _imported("old-1", scenario.paris, "2026-01-13T10:00:00+01:00", "2026-01-13T10:30:00+01:00",
                  "attended", "F2"),
        _imported("old-2", scenario.paris, "2026-01-13T11:00:00+01:00", "2026-01-13T11:30:00+01:00",
                  "no_show", "F6", "tr"),
        _imported("old-3", scenario.reunion, "2026-02-02T09:00:00+04:00", "2026-02-02T09:30:00+04:00",
                  "cancelled", "F7"),
        # Before the period: F5's first appointment, so its March one is not a first.
        _imported("old-4", scenario.home, "2025-12-15T10:00:00+01:00", "2025-12-15T11:00:00+01:00",
                  "attended", "F5"),
    ]
    answer = client.post("/v1/appointments/import", json={"items": imports})
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"imported": 4, "already_imported": 0}
    again = client.post("/v1/appointments/import", json={"items": imports})
    assert again.json() == {"imported": 0, "already_imported": 4}
    window = {"from": "2026-01-01", "to": "2026-02-28", "limit": 50}
    listed = client.get("/v1/appointments", params=window).json()
    by_start = {item["start"]: item["id"] for item in listed["items"]}
    paris, reunion = scenario.paris.site_id, scenario.reunion.site_id
    for start, site, month, weekday, reference, language, status in (
        ("2026-01-13T10:00:00+01:00", paris, "2026-01", 2, "F2", "fr", "attended"),
        ("2026-01-13T11:00:00+01:00", paris, "2026-01", 2, "F6", "tr", "no_show"),
        ("2026-02-02T09:00:00+04:00", reunion, "2026-02", 1, "F7", "fr", "cancelled"),
    ):
        done.append(Done(by_start[start], site, month, weekday, reference, language, status))

    # Ten hours before its start (22:00 UTC): a late cancellation.
    app.clock.set(datetime(2026, 3, 31, 12, 0, tzinfo=UTC))
    assert client.post(f"/v1/appointments/{a4.id}/cancel").status_code == 200
    a4.status, a4.late = "cancelled", True
    _settle(app, scenario)

    app.clock.set(datetime(2026, 4, 2, 9, 0, tzinfo=UTC))
    for item, outcome in ((a1, "attended"), (a2, "no_show"), (a5, "attended")):
        answer = client.post(f"/v1/appointments/{item.id}/outcome", json={"status": outcome})
        assert answer.status_code == 200, answer.text
        item.status = outcome
    assert a6.status == "booked"
    # First appointments, from what the test did: not cancelled, no earlier one of the family.
    for item, first in ((a5, True), (a1, False), (a2, False), (a6, False), (a3, False), (a4, False)):
        item.first = first
    for item in done[6:]:
        item.first = item.status != "cancelled"  # F2 (January), F6; F7's was cancelled
    return scenario


def _settle(app: InProcess, scenario: Scenario) -> dict[str, list[str]]:
    """Wait until every due SMS was handed over; the message ids of each appointment."""
    deadline = time.monotonic() + SETTLE_SECONDS
    while True:
        app.dispatch()
        messages = {item.id: app.client.get(f"/v1/appointments/{item.id}/messages").json()["items"]
                    for item in scenario.done}
        now = app.clock.now()
        waiting = [m for items in messages.values() for m in items
                   if m["status"] in ("pending", "sending") and datetime.fromisoformat(m["due_at"]) <= now]
        if not waiting:
            return {ident: [m["id"] for m in items] for ident, items in messages.items()}
        assert time.monotonic() < deadline, waiting
        time.sleep(0.2)


def _tally(app: InProcess, scenario: Scenario, key: Any) -> dict[Any, dict[str, int]]:
    """Every figure per group, counted from the test's own records and the SMS backend's list."""
    message_ids = _settle(app, scenario)
    sent = {sms.reference: sms for sms in app.sender.outbox}
    cells: dict[Any, Counter[str]] = defaultdict(Counter)
    families: dict[Any, set[str]] = defaultdict(set)
    for item in scenario.done:
        cell = cells[key(item)]
        cell["booked"] += 1
        cell[item.status] += item.status in ("attended", "no_show", "cancelled")
        cell["cancelled_late"] += item.late
        cell["first_appointments"] += item.first
        cell["home_visits"] += item.home
        mine = [sent[ident] for ident in message_ids[item.id] if ident in sent]
        cell["sms_sent"] += len(mine)
        cell["sms_segments"] += sum(count_segments(sms.body).segments for sms in mine)
        families[key(item)].add(item.reference)
    return {group: {name: cells[group][name] if name != "families" else len(families[group])
                    for name in FIGURES} for group in cells}


def _figures(row: dict[str, Any]) -> dict[str, int]:
    return {name: row[name] for name in FIGURES}


def test_figures_by_site_and_month_match_the_tally_of_what_was_done(app: InProcess) -> None:
    scenario = _scenario(app)
    expected = _tally(app, scenario, lambda item: (item.site_id, item.month))
    body = app.client.get("/v1/stats/appointments", params={**PERIOD, "group_by": "site,month"}).json()
    assert body["group_by"] == ["site", "month"]
    assert (body["from"], body["to"]) == ("2026-01-01", "2026-04-30")
    got = {(row["site_id"], row["month"]): _figures(row) for row in body["rows"]}
    assert got == expected
    assert sum(cell["sms_sent"] for cell in expected.values()) > 0  # the SMS columns were exercised
    totals = _tally(app, scenario, lambda item: "all")["all"]
    assert body["totals"] == totals


def test_figures_by_weekday_and_language_are_local(app: InProcess) -> None:
    scenario = _scenario(app)
    expected = _tally(app, scenario, lambda item: (item.weekday, item.language))
    body = app.client.get("/v1/stats/appointments", params={**PERIOD, "group_by": "weekday,language"}).json()
    assert {(row["weekday"], row["language"]): _figures(row) for row in body["rows"]} == expected


def test_csv_reads_back_as_the_json_rows(app: InProcess) -> None:
    scenario = _scenario(app)
    _settle(app, scenario)
    params = {**PERIOD, "group_by": "site,month"}
    rows = app.client.get("/v1/stats/appointments", params=params).json()["rows"]
    answer = app.client.get("/v1/stats/appointments", params=params, headers={"Accept": "text/csv"})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    assert answer.content.startswith(b"\xef\xbb\xbf")  # the BOM that makes spreadsheets read UTF-8
    read = list(csv.DictReader(io.StringIO(answer.content.decode("utf-8-sig"), newline=""), delimiter=";"))
    assert read == [{name: str(value) for name, value in row.items()} for row in rows]
    assert b"\r\n" in answer.content


def test_grouping_by_an_unknown_dimension_is_a_422(app: InProcess) -> None:
    for group_by in ("site,colour", "site,site"):
        answer = app.client.get("/v1/stats/appointments", params={**PERIOD, "group_by": group_by})
        assert answer.status_code == 422
        assert answer.headers["content-type"].startswith(PROBLEM)


def test_a_future_appointment_cannot_be_imported_and_nothing_is(app: InProcess) -> None:
    prog = programme(app.client)
    items = [
        _imported("ok-1", prog, "2026-02-02T10:00:00+01:00", "2026-02-02T10:30:00+01:00", "attended", "F1"),
        _imported("future", prog, "2026-05-02T10:00:00+02:00", "2026-05-02T10:30:00+02:00", "attended", "F2"),
    ]
    answer = app.client.post("/v1/appointments/import", json={"items": items})
    assert answer.status_code == 422 and answer.json()["code"] == "import-refused"
    assert [error["item"] for error in answer.json()["errors"]] == [1]
    totals = app.client.get("/v1/stats/appointments", params=PERIOD).json()["totals"]
    assert totals["booked"] == 0
