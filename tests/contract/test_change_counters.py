"""Change counters (migration 0016): each kind of write raises the counters its caches and feeds
read, in its own transaction, on both databases; a rolled-back write raises nothing."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, event, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from scheduler.db import counters, holds
from scheduler.db.engine import Database
from scheduler.db.tables import (
    Absence,
    Appointment,
    ChangeCounter,
    Closure,
    Family,
    Feed,
    HoldRecord,
    Interpreter,
    Opening,
    Site,
    new_id,
)
from scheduler.domain.intervals import Interval
from scheduler.french_calendar import FrenchHolidayCalendar
from scheduler.services.availability import LoadedSearches, SlotQuery, find_slot_page
from tests.support.databases import DatabaseHandle
from tests.support.seed import SeededProgramme, programme

NOW = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
START = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)

Write = Callable[[AsyncSession], Awaitable[Any]]


async def all_counters(db: Database) -> dict[str, int]:
    async with db.read() as session:
        rows = await session.execute(select(ChangeCounter.key, ChangeCounter.seq))  # type: ignore[call-overload]
        return {key: seq for key, seq in rows.all()}


async def raised_by(db: Database, write: Write) -> set[str]:
    """The keys whose counter went up when ``write`` committed (none ever goes down)."""
    before = await all_counters(db)
    async with db.write() as session:
        await write(session)
    after = await all_counters(db)
    assert all(after[key] >= before.get(key, 0) for key in after) and set(before) <= set(after)
    return {key for key, seq in after.items() if seq != before.get(key)}


def run(*statements: Any) -> Write:
    """A write that executes ``statements`` in order."""
    async def write(session: AsyncSession) -> None:
        for statement in statements:
            await session.execute(statement)
    return write


def hold(prog: SeededProgramme, start: datetime, hold_id: str) -> Any:
    return insert(HoldRecord).values(id=hold_id, resource_id=prog.staff_id, resource_kind="staff",
                                     service_id=prog.service_id, starts_at=start,
                                     ends_at=start + timedelta(hours=1), capacity=1, taken=1)


def appointment(prog: SeededProgramme, start: datetime, hold_id: str, family_id: str, **extra: Any) -> Any:
    return insert(Appointment).values(
        id=extra.pop("id", new_id()), status="booked", service_id=prog.service_id, staff_id=prog.staff_id,
        site_id=prog.site_id, family_id=family_id, starts_at=start, ends_at=start + timedelta(hours=1),
        staff_hold_id=hold_id, sequence=0, created_at=NOW, updated_at=NOW, **extra)


@pytest.mark.anyio
async def test_each_write_raises_the_counters_that_depend_on_it(module_database: DatabaseHandle) -> None:
    db = Database.from_url(module_database.url)
    try:
        before = await all_counters(db)
        prog = await programme(db)
        staff, site = counters.key("staff", prog.staff_id), counters.key("site", prog.site_id)
        service = counters.key("service", prog.service_id)
        seeded = {key for key, seq in (await all_counters(db)).items() if seq != before.get(key)}
        assert seeded == {staff, site, service, counters.RULES, counters.CATALOGUE}

        family_id, hold_id, appointment_id = new_id(), new_id(), new_id()

        async def new_family(session: AsyncSession) -> None:
            await session.execute(insert(Family).values(id=family_id, reference=f"F-{family_id[:8]}",
                                                        created_at=NOW, updated_at=NOW))

        assert await raised_by(db, new_family) == set()
        assert await raised_by(db, run(hold(prog, START, hold_id))) == {staff}

        async def book(session: AsyncSession) -> None:
            await session.execute(appointment(prog, START, hold_id, family_id, id=appointment_id))

        assert await raised_by(db, book) == {staff, site, service}
        shown = col(Appointment.id) == appointment_id
        assert await raised_by(db, run(update(Appointment).where(shown).values(sms_sent=1))) \
            == set(), "an SMS count is bookkeeping, shown nowhere"
        cancel = update(Appointment).where(shown).values(status="cancelled", sequence=1)
        assert await raised_by(db, run(cancel)) == {staff, site, service}

        interpreter_id = new_id()
        interpreter = counters.key("interpreter", interpreter_id)
        assert await raised_by(db, run(insert(Interpreter).values(
            id=interpreter_id, name="I", languages=["ar"], created_at=NOW))) == {interpreter, counters.RULES}
        assert await raised_by(db, run(insert(Absence).values(
            id=new_id(), staff_id=prog.staff_id, start=START, end=START + timedelta(days=1),
            created_at=NOW))) == {staff, counters.RULES}
        assert await raised_by(db, run(insert(Closure).values(
            id=new_id(), site_id=prog.site_id, start=START, end=START + timedelta(days=1),
            created_at=NOW))) == {site, counters.RULES}
        assert await raised_by(db, run(insert(Opening).values(
            id=new_id(), staff_id=prog.staff_id, site_id=prog.site_id, service_ids=[prog.service_id],
            start=START, end=START + timedelta(hours=2), created_at=NOW))) == {staff, site, counters.RULES}
        rename = update(Site).where(col(Site.id) == prog.site_id).values(name="Renamed")
        assert await raised_by(db, run(rename)) == {site, counters.RULES, counters.CATALOGUE}

        family = col(Family.id) == family_id
        assert await raised_by(db, run(update(Family).where(family).values(phone="+33612345678"))) \
            == set()
        assert await raised_by(db, run(update(Family).where(family).values(reference="NEW-REF"))) \
            == {counters.CATALOGUE}

        # A pathway's sessions number each other: changing one raises the owners of all of them.
        pathway, other_hold = new_id(), new_id()
        later = START + timedelta(days=7)

        async def pathway_sessions(session: AsyncSession) -> None:
            await session.execute(hold(prog, later, other_hold))
            await session.execute(appointment(prog, later, other_hold, family_id, pathway_id=pathway,
                                              interpreter_id=interpreter_id, interpreter_language="ar"))
            await session.execute(update(Appointment).where(shown).values(pathway_id=pathway))

        assert await raised_by(db, pathway_sessions) == {staff, site, service, interpreter}
        assert await raised_by(db, run(update(Appointment).where(shown).values(note="n"))) \
            == {staff, site, service, interpreter}

        feed_id = new_id()
        assert await raised_by(db, run(insert(Feed).values(
            id=feed_id, token_hash=new_id() + new_id(), owner_kind="staff", owner_id=prog.staff_id,
            privacy="full", created_at=NOW))) == set()
        one_feed = col(Feed.id) == feed_id
        assert await raised_by(db, run(update(Feed).where(one_feed).values(last_fetched_at=NOW))) \
            == set(), "a fetch is bookkeeping"
        assert await raised_by(db, run(update(Feed).where(one_feed).values(revoked_at=NOW))) \
            == {staff}
        assert await raised_by(db, run(delete(HoldRecord).where(
            col(HoldRecord.id) == new_id()))) == set()

        # A write rolled back raises nothing.
        before = await all_counters(db)
        with pytest.raises(LookupError):
            async with db.write() as session:
                await session.execute(hold(prog, START + timedelta(days=14), new_id()))
                raise LookupError("the booking fails after its hold")
        assert await all_counters(db) == before

        async with db.read() as session:
            seen = await counters.read(session, [staff, "staff:unknown", site])
        assert seen.seqs == (before[staff], 0, before[site]) and seen.changed[0] > 0 and seen.changed[1] == 0
    finally:
        await db.dispose()


@pytest.mark.anyio
async def test_a_loaded_search_is_reused_until_its_rules_change_through_another_instance(
    module_database: DatabaseHandle,
) -> None:
    reader, writer = Database.from_url(module_database.url), Database.from_url(module_database.url)
    try:
        prog = await programme(writer)  # Wednesdays 09:00-12:00 Paris, one-hour slots
        searches, calendar = LoadedSearches(), FrenchHolidayCalendar()
        query = SlotQuery(prog.service_id, START.date(), START.date())
        selects: list[str] = []

        def note(_connection: object, _cursor: object, statement: str, *_: object) -> None:
            if statement.lstrip().upper().startswith("SELECT"):
                selects.append(statement)

        event.listen(reader.engine.sync_engine, "before_cursor_execute", note)

        async def starts() -> list[str]:
            selects.clear()
            async with reader.read(snapshot=True) as session:
                page = await find_slot_page(session, calendar, query, NOW, None, 100, searches=searches)
            return [slot.interval.start.strftime("%H:%M") for slot in page.slots]

        assert await starts() == ["08:00", "09:00", "10:00"] and searches.loads == 1  # UTC
        assert await starts() == ["08:00", "09:00", "10:00"] and searches.loads == 1
        # The rules' counter and the holds, in one statement (one round trip).
        assert len(selects) == 1 and "change_counter" in selects[0] and "FROM hold" in selects[0]

        async with writer.write() as session:  # another instance: this one's caches are not told
            await session.execute(insert(Absence).values(
                id=new_id(), staff_id=prog.staff_id, start=START, end=START + timedelta(hours=1),
                created_at=NOW))
        assert await starts() == ["08:00", "10:00"] and searches.loads == 2

        async with writer.write() as session:  # a booking: holds are read fresh, the search kept
            await session.execute(hold(prog, START + timedelta(hours=1), new_id()))
        assert await starts() == ["08:00"] and searches.loads == 2
    finally:
        await reader.dispose()
        await writer.dispose()


@pytest.mark.anyio
async def test_a_counter_and_the_holds_read_in_one_statement_are_those_read_apart(
    module_database: DatabaseHandle,
) -> None:
    db = Database.from_url(module_database.url)
    try:
        prog, other = await programme(db), await programme(db)
        window = Interval(START, START + timedelta(hours=3))
        async with db.write() as session:
            await session.execute(hold(prog, START + timedelta(hours=1), new_id()))  # inside the window
            await session.execute(hold(prog, START + timedelta(hours=4), new_id()))  # after it
            await session.execute(hold(other, START + timedelta(hours=1), new_id()))  # another staff member
        async with db.read(snapshot=True) as session:
            staff = [prog.staff_id]
            seq, rows = await holds.blocking_holds_and_counter(session, counters.RULES, staff, window)
            apart = (await counters.read(session, [counters.RULES])).seqs[0]
            apart_rows = await holds.blocking_holds(session, [prog.staff_id], window)
            never, none = await holds.blocking_holds_and_counter(session, "staff:unknown", [], window)
        assert seq == apart > 0
        assert [holds.as_hold(row) for row in rows] == [holds.as_hold(row) for row in apart_rows]
        assert [holds.as_hold(row).interval.start for row in rows] == [START + timedelta(hours=1)]
        assert (never, none) == (0, [])
    finally:
        await db.dispose()
