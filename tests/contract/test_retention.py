"""RGPD retention: the nightly job erases phones of families whose last appointment is old."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, select

from scheduler.db import outbox
from scheduler.db.engine import Database
from scheduler.db.tables import Appointment, Family, FamilyLink, Interpreter, InterpreterRelease, new_id
from scheduler.french_calendar import FrenchHolidayCalendar
from scheduler.jobs import erase_expired_phones, purge_expired_family_links, purge_interpreter_releases
from scheduler.services import booking
from scheduler.services.notify import MessagePlanner
from scheduler.settings import Settings
from tests.support.clock import FixedClock
from tests.support.databases import DatabaseHandle
from tests.support.seed import appointments_with_due_messages, programme

pytestmark = pytest.mark.anyio
NOW = datetime(2026, 11, 23, 2, 30, tzinfo=UTC)


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


async def _family(db: Database, reference: str, last: datetime | None, created: datetime = NOW) -> None:
    async with db.write() as session:
        await session.execute(insert(Family).values(
            id=new_id(), reference=reference, phone="+33612345678", language="fr", sms_consent=True,
            last_appointment_at=last, created_at=created, updated_at=created))


async def test_phones_are_erased_after_the_retention_and_kept_before(db: Database) -> None:
    await _family(db, "OLD", NOW - timedelta(days=91))
    await _family(db, "RECENT", NOW - timedelta(days=89))
    await _family(db, "UPCOMING", NOW + timedelta(days=5))
    await _family(db, "NEVER-BOOKED", None)
    await _family(db, "NEVER-BOOKED-LONG-AGO", None, created=NOW - timedelta(days=120))
    await erase_expired_phones(JobContext(db, FixedClock(NOW), Settings.from_env({})))  # type: ignore[arg-type]
    async with db.read() as session:
        rows = {
            row.reference: (row.phone, row.sms_consent)
            for row in (await session.execute(select(Family))).scalars()
        }
    assert rows == {
        "OLD": (None, False),
        "RECENT": ("+33612345678", True),
        "UPCOMING": ("+33612345678", True),
        "NEVER-BOOKED": ("+33612345678", True),
        "NEVER-BOOKED-LONG-AGO": (None, False),
    }


async def test_expired_family_links_are_deleted_and_live_ones_kept(db: Database) -> None:
    prog = await programme(db)
    message_ids = await appointments_with_due_messages(db, prog, 3, NOW - timedelta(days=20), NOW)
    async with db.read() as session:
        appointment_ids = sorted((await session.execute(
            select(outbox.TABLE.c.appointment_id).where(outbox.TABLE.c.id.in_(message_ids)))).scalars())
    expiries = {"expired": NOW - timedelta(seconds=1), "revoked-and-expired": NOW - timedelta(days=3),
                "live": NOW + timedelta(days=1)}
    async with db.write() as session:
        for (name, expires_at), appointment_id in zip(expiries.items(), appointment_ids, strict=True):
            await session.execute(insert(FamilyLink).values(
                token_hash=name, appointment_id=appointment_id, expires_at=expires_at, created_at=NOW,
                revoked_at=NOW - timedelta(days=5) if name.startswith("revoked") else None))
    await purge_expired_family_links(JobContext(db, FixedClock(NOW), Settings.from_env({})))  # type: ignore[arg-type]
    async with db.read() as session:
        left = set((await session.execute(select(FamilyLink.token_hash))).scalars())
    assert left == {"live"}


async def test_retention_counts_from_the_family_s_latest_appointment_whatever_the_booking_order(
    db: Database,
) -> None:
    # Wednesdays 09:00-12:00 in Paris; 2026-12-02 and 2026-12-16 are Wednesdays, 2026-12-09 too.
    prog = await programme(db, weekday=3)
    family = booking.FamilyData("PRE-RETENTION", "+33612345678", "fr", True)

    async def book(start: str) -> None:
        request = booking.BookingRequest(prog.service_id, datetime.fromisoformat(start), family,
                                         staff_id=prog.staff_id)
        async with db.write() as session:
            await booking.book(session, FrenchHolidayCalendar(), MessagePlanner(None), request, NOW)

    async def last_appointment() -> datetime | None:
        async with db.read() as session:
            found: datetime | None = (await session.execute(
                select(Family.last_appointment_at).where(Family.reference == "PRE-RETENTION"))).scalar_one()
        return found

    await book("2026-12-09T10:00:00+01:00")
    assert await last_appointment() == datetime(2026, 12, 9, 9, 0, tzinfo=UTC)
    await book("2026-12-16T09:00:00+01:00")
    assert await last_appointment() == datetime(2026, 12, 16, 8, 0, tzinfo=UTC)
    await book("2026-12-02T11:00:00+01:00")  # earlier than the latest: the clock does not go back
    assert await last_appointment() == datetime(2026, 12, 16, 8, 0, tzinfo=UTC)


async def test_interpreter_releases_go_once_their_feeds_no_longer_show_them(db: Database) -> None:
    prog = await programme(db)
    message_ids = await appointments_with_due_messages(db, prog, 2, NOW + timedelta(days=3), NOW)
    async with db.write() as session:
        booked = (await session.execute(
            select(Appointment.id, Appointment.staff_hold_id, Appointment.starts_at, Appointment.ends_at)
            .join(outbox.TABLE, outbox.TABLE.c.appointment_id == Appointment.id)
            .where(outbox.TABLE.c.id.in_(message_ids)).order_by(Appointment.id))).all()
        await session.execute(insert(Interpreter).values(id="int-1", name="Interprète", languages=["ar"],
                                                         created_at=NOW))
        for (appointment_id, hold_id, starts_at, ends_at), days_ago in zip(booked, (31, 29), strict=True):
            await session.execute(insert(InterpreterRelease).values(
                id=new_id(), appointment_id=appointment_id, interpreter_id="int-1", starts_at=starts_at,
                ends_at=ends_at, site_id=prog.site_id, staff_hold_id=hold_id, sequence=1,
                released_at=NOW - timedelta(days=days_ago)))
    await purge_interpreter_releases(JobContext(db, FixedClock(NOW), Settings.from_env({})))  # type: ignore[arg-type]
    async with db.read() as session:
        left = (await session.execute(select(InterpreterRelease.released_at))).scalars().all()
    assert left == [NOW - timedelta(days=29)]


async def test_the_numbers_appointments_were_booked_with_are_erased_with_their_familys(db: Database) -> None:
    prog = await programme(db)
    old = await appointments_with_due_messages(db, prog, 1, NOW - timedelta(days=200), NOW)
    recent = await appointments_with_due_messages(db, prog, 1, NOW - timedelta(days=10), NOW)
    async with db.write() as session:
        for message_ids, last in ((old, NOW - timedelta(days=200)), (recent, NOW - timedelta(days=10))):
            appointment_id = (await session.execute(select(outbox.TABLE.c.appointment_id).where(
                outbox.TABLE.c.id.in_(message_ids)))).scalar_one()
            appointment = await session.get(Appointment, appointment_id)
            assert appointment is not None
            appointment.phone = "+33698765432"
            family = await session.get(Family, appointment.family_id)
            assert family is not None
            family.last_appointment_at = last
    await erase_expired_phones(JobContext(db, FixedClock(NOW), Settings.from_env({})))  # type: ignore[arg-type]
    async with db.read() as session:
        phones = sorted((await session.execute(select(Appointment.starts_at, Appointment.phone))).all())
    assert [phone for _, phone in phones] == [None, "+33698765432"]
