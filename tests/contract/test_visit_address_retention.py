"""A home visit's address is the family's data: the retention job erases it with the family's phone."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from scheduler.db.engine import Database
from scheduler.db.tables import Appointment, Family
from scheduler.french_calendar import FrenchHolidayCalendar
from scheduler.jobs import erase_expired_phones
from scheduler.services import booking
from scheduler.services.notify import MessagePlanner
from scheduler.settings import Settings
from tests.support.clock import FixedClock
from tests.support.databases import DatabaseHandle
from tests.support.seed import programme

pytestmark = pytest.mark.anyio
BOOKED_AT = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
# Wednesdays 09:00-12:00 in Paris: 2026-12-02 and 2026-12-09.
EARLY, LATER = "2026-12-02T09:00:00+01:00", "2026-12-09T09:00:00+01:00"


@dataclass
class JobContext:
    """What the job reads of the app's services."""

    db: Database
    clock: FixedClock
    settings: Settings


@pytest.fixture
async def db(database: DatabaseHandle) -> AsyncIterator[Database]:
    handle = Database.from_url(database.url)
    yield handle
    await handle.dispose()


async def _book_home_visit(db: Database, service_id: str, reference: str, start: str) -> None:
    family = booking.FamilyData(reference, "+33612345678", "fr", True)
    request = booking.BookingRequest(service_id, datetime.fromisoformat(start), family,
                                     visit_address=f"12 rue des Lilas ({reference})")
    async with db.write() as session:
        await booking.book(session, FrenchHolidayCalendar(), MessagePlanner(None), request, BOOKED_AT)


async def _addresses(db: Database) -> dict[str, str | None]:
    async with db.read() as session:
        rows = await session.execute(select(Family.reference, Appointment.visit_address)
                                     .join(Family, Family.id == Appointment.family_id))  # type: ignore[arg-type]
    return {reference: address for reference, address in rows.all()}


async def test_a_home_visit_address_goes_with_the_familys_phone_and_not_before(db: Database) -> None:
    prog = await programme(db, site_kind="home")
    await _book_home_visit(db, prog.service_id, "PRE-GONE", EARLY)
    await _book_home_visit(db, prog.service_id, "PRE-KEPT", LATER)
    # Ninety days after the first visit, and one day less than that after the second.
    now = datetime(2026, 12, 2, 8, 0, tzinfo=UTC) + timedelta(days=91)
    settings = Settings.from_env({})
    assert settings.retention_days == 90
    await erase_expired_phones(JobContext(db, FixedClock(now), settings))  # type: ignore[arg-type]
    assert await _addresses(db) == {"PRE-GONE": None, "PRE-KEPT": "12 rue des Lilas (PRE-KEPT)"}
