"""Setting up a programme through the public API, the way an administrator's tool would."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import holidays
import httpx

PROBLEM = "application/problem+json"
OVERSEAS = {"Indian/Reunion": "974", "America/Cayenne": "973", "America/Guadeloupe": "971"}


@dataclass(frozen=True, slots=True)
class Programme:
    """Ids of one staff member's weekly rule for one service at one site."""

    site_id: str
    staff_id: str
    service_id: str
    rule_id: str
    zone: str


def created(response: httpx.Response) -> dict[str, Any]:
    """The body of a 201, or a failure that shows the problem."""
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def unique(prefix: str) -> str:
    """A name nobody else in the test run uses."""
    return f"{prefix}-{secrets.token_hex(4)}"


def programme(
    client: httpx.Client,
    *,
    weekday: int = 3,
    start: str = "09:00",
    end: str = "12:00",
    duration: int = 60,
    capacity: int = 1,
    min_notice: int = 0,
    horizon_days: int = 365,
    zone: str = "Europe/Paris",
    kind: str = "office",
    school_zone: str | None = None,
    follows_school_calendar: bool = False,
    valid_from: str = "2026-01-01",
) -> Programme:
    """A site, a staff member, a service and one weekly rule, all new."""
    site = created(client.post("/v1/sites", json={
        "name": unique("site"), "kind": kind, "address": "1 rue de la Paix", "timezone": zone,
        "school_zone": school_zone, "public_label": "Accueil"}))
    staff = created(client.post("/v1/staff", json={"name": unique("staff"), "role": "psychologist"}))
    service = created(client.post("/v1/services", json={
        "name": unique("service"), "duration_minutes": duration, "capacity": capacity,
        "min_notice_minutes": min_notice, "horizon_days": horizon_days}))
    rule = created(client.post("/v1/availability-rules", json={
        "staff_id": staff["id"], "site_id": site["id"], "service_ids": [service["id"]], "weekday": weekday,
        "start_time": start, "end_time": end, "valid_from": valid_from,
        "follows_school_calendar": follows_school_calendar}))
    return Programme(site["id"], staff["id"], service["id"], rule["id"], zone)


def upcoming(weekday: int, *, weeks_ahead: int = 1, zone: str = "Europe/Paris") -> date:
    """The date of ``weekday`` (1 = Monday) at least ``weeks_ahead`` weeks from today in ``zone``.

    Public holidays are skipped (the next week is taken), so tests do not depend on the day
    they run; the holidays come from the ``holidays`` library directly, not from our code.
    """
    start = datetime.now(ZoneInfo(zone)).date() + timedelta(days=7 * weeks_ahead)
    day = start + timedelta(days=(weekday - start.isoweekday()) % 7)
    closed = holidays.France(years=range(day.year, day.year + 2), subdiv=OVERSEAS.get(zone))
    while day in closed:
        day += timedelta(days=7)
    return day


def at(day: date, hhmm: str, zone: str = "Europe/Paris") -> str:
    """ISO 8601 with offset of a wall time on a day in a zone."""
    return datetime.combine(day, time.fromisoformat(hhmm), ZoneInfo(zone)).isoformat()


def family(reference: str | None = None, **overrides: Any) -> dict[str, Any]:
    """A family as a booking sends it."""
    return {"reference": reference or unique("PRE-2026"), "phone": "06 12 34 56 78", "language": "fr",
            "sms_consent": True, **overrides}


def booking(prog: Programme, start: str, **overrides: Any) -> dict[str, Any]:
    """A booking body for a programme's service."""
    return {"service_id": prog.service_id, "start": start, "family": family(), **overrides}


def slot_starts(client: httpx.Client, prog: Programme, first: date, last: date | None = None) -> list[str]:
    """The start of every free slot of the programme's service on those dates."""
    response = client.get("/v1/slots", params={
        "service_id": prog.service_id, "from": first.isoformat(), "to": (last or first).isoformat(),
        "staff_id": prog.staff_id})
    assert response.status_code == 200, response.text
    return [item["start"] for item in response.json()["items"]]
