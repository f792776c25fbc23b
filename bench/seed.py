"""The benchmark dataset: the demo town, one busy staff member, and a pool of bookable slots.

The busy staff member (weekday rules 09:00-17:00, 30-minute slots, ~250 bookings over 8 weeks)
is what the slot search reads. Booking needs thousands of *distinct* free slots without making
each booking costlier than a real one, so a team of booking staff members gets the same
30-minute weekday rules over a year; their slot starts are computed here (weekdays minus French
public holidays), checked against the API for one staff member, then shuffled.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import holidays
import httpx

from scheduler.db.engine import Database
from scheduler.demo import fill_if_empty
from scheduler.ports import SystemClock
from tests.support.api import created, family, unique

PARIS = ZoneInfo("Europe/Paris")
WEEKDAYS = (1, 2, 3, 4, 5)
DAY_START, DAY_END = time(9, 0), time(17, 0)
SLOT_MINUTES = 30
WINDOW_DAYS = 91  # /v1/slots accepts `to` at most 92 days after `from`
HORIZON_DAYS = 365
SEED = 20261123


@dataclass(frozen=True, slots=True)
class Dataset:
    """What the measurements use."""

    site_id: str
    service_id: str
    busy_staff_id: str
    busy_bookings: int
    busy_free_slots: int
    booking_staff: list[str]
    bookable: list[tuple[str, str]]  # (staff id, ISO start), shuffled
    first: date
    last: date


def fill_demo(url: str) -> bool:
    """The demo programmes of a small town, written straight into the database (ORM)."""

    async def fill() -> bool:
        db = Database.from_url(url)
        try:
            return await fill_if_empty(db, SystemClock().now())
        finally:
            await db.dispose()

    return asyncio.run(fill())


def site_and_service(client: httpx.Client) -> tuple[str, str]:
    """A new office and a 30-minute individual service bookable a year ahead."""
    site = created(
        client.post(
            "/v1/sites",
            json={
                "name": unique("bench-site"),
                "kind": "office",
                "address": "1 rue du Banc",
                "timezone": "Europe/Paris",
                "school_zone": None,
                "public_label": "Accueil",
            },
        )
    )
    service = created(client.post("/v1/services", json={
        "name": unique("bench-service"), "duration_minutes": SLOT_MINUTES, "capacity": 1,
        "min_notice_minutes": 0, "horizon_days": HORIZON_DAYS}))
    return site["id"], service["id"]


def weekday_staff(client: httpx.Client, site_id: str, service_id: str, valid_from: date) -> str:
    """A new staff member working every weekday 09:00-17:00 for the service."""
    staff = created(client.post("/v1/staff", json={"name": unique("bench-staff"), "role": "psychologist"}))
    for weekday in WEEKDAYS:
        created(client.post("/v1/availability-rules", json={
            "staff_id": staff["id"], "site_id": site_id, "service_ids": [service_id], "weekday": weekday,
            "start_time": DAY_START.strftime("%H:%M"), "end_time": DAY_END.strftime("%H:%M"),
            "valid_from": valid_from.isoformat(), "follows_school_calendar": False}))
    return str(staff["id"])


def api_free_starts(
    client: httpx.Client, service_id: str, staff_id: str, first: date, last: date
) -> list[str]:
    """Free slot starts of one staff member between two dates, from the API (cursor pages)."""
    starts: list[str] = []
    window_start = first
    while window_start <= last:
        window_end = min(last, window_start + timedelta(days=WINDOW_DAYS))
        params: dict[str, Any] = {
            "service_id": service_id,
            "staff_id": staff_id,
            "from": window_start.isoformat(),
            "to": window_end.isoformat(),
            "limit": 500,
        }
        for _page in range(100):  # bounded
            response = client.get("/v1/slots", params=params)
            response.raise_for_status()
            page = response.json()
            starts += [item["start"] for item in page["items"]]
            if not page["next_cursor"]:
                break
            params["cursor"] = page["next_cursor"]
        window_start = window_end + timedelta(days=1)
    return starts


def local_starts(first: date, last: date) -> list[str]:
    """The weekday 30-minute starts the rules give, minus public holidays, computed here."""
    closed = holidays.France(years=range(first.year, last.year + 1), categories=("public",))
    starts = []
    day = first
    while day <= last:
        if day.isoweekday() in WEEKDAYS and day not in closed:
            moment = datetime.combine(day, DAY_START, PARIS)
            end = datetime.combine(day, DAY_END, PARIS)
            while moment + timedelta(minutes=SLOT_MINUTES) <= end:
                starts.append(moment.isoformat())
                moment += timedelta(minutes=SLOT_MINUTES)
        day += timedelta(days=1)
    return starts


def book_all(client: httpx.Client, service_id: str, staff_id: str, starts: list[str]) -> int:
    """Book each start through the API (no SMS consent: no outbox to drain later)."""
    for index, start in enumerate(starts):
        response = client.post("/v1/appointments", json={
            "service_id": service_id, "staff_id": staff_id, "start": start,
            "family": family(f"SEED-{index:05d}", sms_consent=False)})
        if response.status_code != 201:
            raise RuntimeError(f"seed booking refused: {response.status_code} {response.text[:500]}")
    return len(starts)


def build(client: httpx.Client, *, bookings: int, booking_staff: int, weeks: int = 8) -> Dataset:
    """The busy staff member with ``bookings`` over ``weeks``, and the booking team's free slots."""
    rng = random.Random(SEED)
    today = datetime.now(PARIS).date()
    first, last = today + timedelta(days=1), today + timedelta(days=7 * weeks)
    site_id, service_id = site_and_service(client)
    busy = weekday_staff(client, site_id, service_id, today)
    free = api_free_starts(client, service_id, busy, first, last)
    booked = book_all(client, service_id, busy, rng.sample(free, min(bookings, len(free))))
    remaining = len(api_free_starts(client, service_id, busy, first, last))
    team = [weekday_staff(client, site_id, service_id, today) for _ in range(booking_staff)]
    year = local_starts(first, today + timedelta(days=HORIZON_DAYS - 1))
    check_local_starts(client, service_id, team[0], year, first)
    bookable = [(staff, start) for staff in team for start in year]
    rng.shuffle(bookable)  # spread over staff and weeks, as real traffic is
    return Dataset(site_id, service_id, busy, booked, remaining, team, bookable, first, last)


def check_local_starts(
    client: httpx.Client, service_id: str, staff_id: str, starts: list[str], first: date
) -> None:
    """The locally computed starts match the API's over the first 92 days."""
    last = first + timedelta(days=WINDOW_DAYS)
    api = api_free_starts(client, service_id, staff_id, first, last)
    mine = [start for start in starts if date.fromisoformat(start[:10]) <= last]
    if api != mine:
        missing, extra = sorted(set(api) - set(mine))[:5], sorted(set(mine) - set(api))[:5]
        raise RuntimeError(f"local slot starts differ from the API: missing {missing}, extra {extra}")
