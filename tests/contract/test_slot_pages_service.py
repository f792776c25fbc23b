"""Pages of free slots through the service: following the cursor gives exactly the whole search, in order.

``find_slot_page`` walks the window in growing stretches; here on a real database of each kind,
with staff members in two zones and a booking in the way.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import insert, select

from scheduler.db.engine import Database
from scheduler.db.tables import AvailabilityRule, HoldRecord, RuleService, new_id
from scheduler.domain.slots import Slot
from scheduler.french_calendar import FrenchHolidayCalendar
from scheduler.services.availability import SlotPage, SlotQuery, find_slot_page, find_slots
from tests.support.databases import DatabaseHandle
from tests.support.seed import programme


def position(slot: Slot) -> tuple[datetime, str]:
    return slot.interval.start, slot.resource_id


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
