"""Pages of free slots: following the cursor gives exactly the one big list, in order, and the JSON of a page.

The engine's paging (``free_slots(after=, limit=)``) is checked on the same random weeks as the
slot properties; the service's paging (``find_slot_page``, which walks the window in growing
stretches) on a real database, with staff members in two zones and a booking in the way.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import insert, select

from scheduler.api import schemas as s
from scheduler.api.slots import page_json
from scheduler.db.engine import Database
from scheduler.db.tables import AvailabilityRule, HoldRecord, RuleService, new_id
from scheduler.domain.rules import occurrences
from scheduler.domain.slots import ServiceSpec, Slot, free_slots
from scheduler.french_calendar import FrenchHolidayCalendar
from scheduler.services import paging
from scheduler.services.availability import SlotPage, SlotQuery, find_slot_page, find_slots
from tests.support.databases import DatabaseHandle
from tests.support.seed import programme
from tests.unit.test_slots_properties import PROPERTY, Week, weeks


def position(slot: Slot) -> tuple[datetime, str]:
    return slot.interval.start, slot.resource_id


def engine_pages(week: Week, limit: int) -> list[list[Slot]]:
    """Every page of ``limit`` slots, each one resuming after the last slot of the one before."""
    openings = occurrences(week.rules, week.first, week.last, week.closed)
    pages: list[list[Slot]] = []
    after = None
    while True:
        page = free_slots(openings, week.holds, week.busy, week.spec, week.window, week.now, after=after,
                          limit=limit)
        if not page:
            return pages
        pages.append(page)
        after = position(page[-1])


@PROPERTY
@given(weeks(), st.integers(1, 7))
def test_engine_pages_concatenate_to_the_whole_list(week: Week, limit: int) -> None:
    openings = occurrences(week.rules, week.first, week.last, week.closed)
    whole = free_slots(openings, week.holds, week.busy, week.spec, week.window, week.now)

    pages = engine_pages(week, limit)

    assert [slot for page in pages for slot in page] == whole  # in order, no duplicate, nothing skipped
    assert all(len(page) == limit for page in pages[:-1])


# ------------------------------------------------------------------ the service, on a database

WEDNESDAY = date(2026, 12, 2)
NOW = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


async def two_zones(db: Database) -> SlotQuery:
    """A Paris staff member (09:00-12:00) and a La Réunion one (08:00-10:00) offering one 30-minute service.

    In UTC their Wednesdays interleave (04:00-06:00, then 08:00-11:00); one Paris slot is booked.
    """
    paris = await programme(db, start="09:00", end="12:00", duration=30)
    reunion = await programme(db, start="08:00", end="10:00", duration=30, zone="Indian/Reunion")
    async with db.write() as session:
        rule_id = (await session.execute(
            select(AvailabilityRule.id).where(AvailabilityRule.staff_id == reunion.staff_id))).scalar_one()
        await session.execute(insert(RuleService).values(rule_id=rule_id, service_id=paris.service_id))
        booked = datetime(2026, 12, 9, 9, 0, tzinfo=UTC)  # 10:00 in Paris, the second Wednesday
        await session.execute(insert(HoldRecord).values(
            id=new_id(), resource_id=paris.staff_id, resource_kind="staff", service_id=paris.service_id,
            starts_at=booked, ends_at=booked + timedelta(minutes=30), capacity=1, taken=1))
    return SlotQuery(paris.service_id, WEDNESDAY - timedelta(days=2), WEDNESDAY + timedelta(weeks=3))


async def service_pages(db: Database, query: SlotQuery, limit: int) -> list[SlotPage]:
    calendar, pages, after = FrenchHolidayCalendar(), [], None
    while True:
        async with db.read() as session:
            page = await find_slot_page(session, calendar, query, NOW, after, limit)
        pages.append(page)
        if not page.more:
            return pages
        after = position(page.slots[-1])


@pytest.mark.anyio
@pytest.mark.parametrize("limit", [1, 2, 3, 7, 500])
async def test_service_pages_concatenate_to_the_whole_search(database: DatabaseHandle, limit: int) -> None:
    db = Database.from_url(database.url)
    try:
        query = await two_zones(db)
        async with db.read() as session:
            whole = await find_slots(session, FrenchHolidayCalendar(), query, NOW)

        pages = await service_pages(db, query, limit)
    finally:
        await db.dispose()

    assert len(whole) == 4 * (4 + 6) - 1  # four Wednesdays, one slot booked
    assert [slot for page in pages for slot in page.slots] == whole
    assert all(len(page.slots) == limit for page in pages[:-1])
    assert len(pages) == max(1, -(-len(whole) // limit))


# ------------------------------------------------------------------ JSON


HALF_HOUR = ServiceSpec(id="service", duration=timedelta(minutes=30), capacity=1, min_notice=timedelta(0),
                        horizon=timedelta(days=92))


def slot(start: datetime, zone: str, site_id: str | None = "site") -> Slot:
    local = start.astimezone(ZoneInfo(zone))
    return Slot(local, local + timedelta(minutes=30), "service", "staff", site_id, 1)


@pytest.mark.parametrize("more", [False, True])
@pytest.mark.parametrize("zone", ["Europe/Paris", "Indian/Reunion", "America/Cayenne", "UTC", "Europe/London",
                                  "Asia/Kolkata"])
def test_slot_page_json_is_what_pydantic_writes(zone: str, more: bool) -> None:
    slots: Sequence[Slot] = [slot(datetime(2026, 12, 2, 9, 0, tzinfo=UTC), zone),
                             slot(datetime(2026, 7, 1, 9, 0, 5, 120, tzinfo=UTC), zone, site_id=None)]
    page = SlotPage(list(slots), more, HALF_HOUR)
    last = slots[-1]
    cursor = paging.encode_cursor(last.interval.start.isoformat(), last.resource_id) if more else None
    items = [s.SlotOut(start=one.start, end=one.end, service_id=one.service_id, staff_id=one.resource_id,
                       site_id=one.site_id, remaining=one.remaining) for one in slots]

    assert page_json(page) == s.Page[s.SlotOut](items=items, next_cursor=cursor).model_dump_json().encode()


def test_an_empty_page_is_an_empty_list() -> None:
    assert page_json(SlotPage([], False, HALF_HOUR)) == b'{"items":[],"next_cursor":null}'

