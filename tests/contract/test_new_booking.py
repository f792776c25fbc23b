"""A booking's writes in two statements on PostgreSQL (``scheduler.db.new_booking``, migration 0018).

Checked against what the statement-per-step path does on the same database: the candidate a
place is taken on (skipping a resource an overlapping block holds, and a full block), the
refusals that write no appointment, and the webhook endpoints an event is queued for, which the
statement decides in SQL and ``events.record`` in Python. SQLite keeps the statement-per-step
path, so these tests are of PostgreSQL only.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from scheduler.db import counters, holds, new_booking
from scheduler.db import events as event_store
from scheduler.db import families as family_store
from scheduler.db.engine import Database
from scheduler.db.event_tables import WebhookDelivery, WebhookEndpoint
from scheduler.db.new_booking import Refused, Taken
from scheduler.db.tables import Absence, ApiKey, Appointment, Family, HoldRecord, Service, Staff, new_id
from scheduler.domain.events import APPOINTMENT_BOOKED, APPOINTMENT_CANCELLED, EVENT_TYPES, SYSTEM, Event
from scheduler.domain.intervals import Interval
from scheduler.services.booking import APPOINTMENT_COLUMNS
from tests.support.databases import DatabaseHandle, temporary_postgres
from tests.support.seed import SeededProgramme, programme

NOW = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
Outcome = Taken | Refused
START = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
END = START + timedelta(hours=1)


@pytest.fixture(scope="module", params=["postgresql"])
def postgres(request: pytest.FixtureRequest) -> Iterator[DatabaseHandle]:
    with temporary_postgres() as handle:
        yield handle


@pytest.fixture
async def db(postgres: DatabaseHandle) -> AsyncIterator[Database]:
    handle = Database.from_url(postgres.url)
    yield handle
    await handle.dispose()


async def second_staff(db: Database) -> str:
    staff_id = new_id()
    async with db.write() as session:
        await session.execute(insert(Staff).values(id=staff_id, name="Other", role="social_worker",
                                                   created_at=NOW))
    return staff_id


async def other_service(db: Database) -> str:
    service_id = new_id()
    async with db.write() as session:
        await session.execute(insert(Service).values(
            id=service_id, name="Other", duration_minutes=90, capacity=1, min_notice_minutes=0,
            horizon_days=730, created_at=NOW))
    return service_id


def block(resource_id: str, service_id: str, start: datetime, end: datetime, taken: int,
          capacity: int = 1) -> Any:
    return insert(HoldRecord).values(id=new_id(), resource_id=resource_id, resource_kind="staff",
                                     service_id=service_id, starts_at=start, ends_at=end, capacity=capacity,
                                     taken=taken)


def appointment_values(prog: SeededProgramme, **extra: Any) -> dict[str, Any]:
    values = {"id": new_id(), "status": "booked", "service_id": prog.service_id, "phone": None,
              "starts_at": START, "ends_at": END, "sequence": 0, "created_at": NOW, "updated_at": NOW,
              "sms_sent": 0, "sms_segments": 0} | extra
    return {name: values.get(name) for name in APPOINTMENT_COLUMNS if name not in new_booking.FROM_CTES}


async def take_in(session: AsyncSession, prog: SeededProgramme, candidates: list[tuple[str, str]],
                  values: dict[str, Any], reference: str, rules_seen: int | None = None) -> Outcome:
    return await new_booking.take(
        session, candidates,
        {"service_id": prog.service_id, "starts_at": values["starts_at"], "ends_at": values["ends_at"],
         "capacity": 1},
        {"id": new_id(), "reference": reference, "phone": "+33612345678", "language": "fr",
         "sms_consent": True, "updated_at": NOW},
        values, rules_seen,
    )


async def families(db: Database) -> int:
    async with db.read() as session:
        return int((await session.execute(select(func.count()).select_from(Family))).scalar_one())


async def take(
    db: Database, prog: SeededProgramme, candidates: list[tuple[str, str]], reference: str | None = None,
    rules_seen: int | None = None, **appointment: Any,
) -> tuple[Outcome, list[Any]]:
    """``new_booking.take`` committed, and the appointments then in the database."""
    values = appointment_values(prog, **appointment)
    async with db.write() as session:
        reference = reference or f"ref-{values['id']}"
        taken = await take_in(session, prog, candidates, values, reference, rules_seen)
    async with db.read() as session:
        written = select(Appointment).where(col(Appointment.id) == values["id"])
        return taken, list((await session.execute(written)).scalars())


@pytest.mark.anyio
async def test_the_first_free_candidate_is_taken_past_an_overlapping_and_a_full_block(
    db: Database,
) -> None:
    prog = await programme(db)
    busy, full, free = prog.staff_id, await second_staff(db), await second_staff(db)
    longer = await other_service(db)
    async with db.write() as session:
        # ``busy`` holds another service's block that overlaps (the exclusion constraint refuses
        # a second one); ``full``'s block of this very slot has no place left.
        await session.execute(block(busy, longer, START - timedelta(minutes=30), END, 1))
        await session.execute(block(full, prog.service_id, START, END, 1))
    candidates = [(busy, prog.site_id), (full, prog.site_id), (free, prog.site_id)]
    taken, rows = await take(db, prog, candidates)
    assert isinstance(taken, Taken) and (taken.place, taken.written) == (2, True)
    [row] = rows
    assert (row.staff_id, row.site_id, row.family_id, row.staff_hold_id) == (
        free, prog.site_id, taken.family_id, taken.hold_id)
    async with db.read() as session:
        held = select(HoldRecord).where(col(HoldRecord.id) == taken.hold_id)
        hold = (await session.execute(held)).scalar_one()
    assert (hold.resource_id, hold.taken, hold.starts_at, hold.ends_at) == (free, 1, START, END)
    assert (taken.family_phone, taken.family_consent) == ("+33612345678", True)


@pytest.mark.anyio
async def test_nothing_free_or_a_visit_address_at_a_site_writes_no_appointment(
    db: Database,
) -> None:
    prog = await programme(db)
    async with db.write() as session:
        await session.execute(block(prog.staff_id, prog.service_id, START, END, 1))
    reference_before = await families(db)
    taken, rows = await take(db, prog, [(prog.staff_id, prog.site_id)])
    assert (taken, rows) == (Refused(stale=False), [])
    assert await families(db) == reference_before  # no place: the family is not even written

    other = await programme(db)  # free, but an office: it takes no visit address
    refused, rows = await take(db, other, [(other.staff_id, other.site_id)], visit_address="2 rue Haute")
    assert isinstance(refused, Taken) and (refused.place, refused.written, rows) == (0, False, [])


@pytest.mark.anyio
async def test_a_booking_takes_its_place_before_it_locks_the_family_as_a_move_does(
    db: Database,
) -> None:
    # A move takes its new place, then locks the family's row (``booking.reschedule``). A booking
    # of the same family at that very time, done the other way round, would hold the family's
    # lock while waiting for the place: each would wait on the other until PostgreSQL killed one.
    prog = await programme(db)
    first, _ = await take(db, prog, [(prog.staff_id, prog.site_id)], reference="famille-1")
    assert isinstance(first, Taken)
    later = START + timedelta(hours=1)
    async with db.write() as moving:
        moved_to = await holds.acquire(moving, prog.staff_id, "staff", prog.service_id,
                                       Interval(later, later + timedelta(hours=1)), 1)
        assert moved_to is not None

        async def book_same_time() -> Outcome:
            async with db.write() as booking:
                values = appointment_values(prog, starts_at=later, ends_at=later + timedelta(hours=1))
                return await take_in(booking, prog, [(prog.staff_id, prog.site_id)], values, "famille-1")

        other = asyncio.create_task(book_same_time())
        await asyncio.sleep(0.3)
        assert not other.done()  # it waits for the move's place...
        # ...without the family's lock, which the move takes now.
        await asyncio.wait_for(family_store.lock(moving, first.family_id), 5)
    # The move got the place: nothing written.
    assert await asyncio.wait_for(other, 5) == Refused(stale=False)


@pytest.mark.anyio
async def test_nothing_is_taken_once_the_rules_moved_past_those_the_candidates_came_from(
    db: Database,
) -> None:
    prog = await programme(db)
    async with db.read() as session:
        seen = (await counters.read(session, [counters.RULES])).seqs[0]
    holds_before, families_before = await count(db, HoldRecord), await families(db)
    async with db.write() as session:  # an absence: a change to the rules, from anywhere
        await session.execute(insert(Absence).values(id=new_id(), staff_id=prog.staff_id, start=START,
                                                     end=END, created_at=NOW))
    stale, rows = await take(db, prog, [(prog.staff_id, prog.site_id)], rules_seen=seen)
    assert (stale, rows) == (Refused(stale=True), [])
    assert (await count(db, HoldRecord), await families(db)) == (holds_before, families_before)

    async with db.read() as session:
        now_seen = (await counters.read(session, [counters.RULES])).seqs[0]
    later = START + timedelta(hours=1)  # the database does not check rules: that is the caller's part
    fresh, rows = await take(db, prog, [(prog.staff_id, prog.site_id)], rules_seen=now_seen,
                             starts_at=later, ends_at=later + timedelta(hours=1))
    assert isinstance(fresh, Taken) and len(rows) == 1


async def count(db: Database, table: Any) -> int:
    async with db.read() as session:
        return int((await session.execute(select(func.count()).select_from(table))).scalar_one())


async def key(db: Database, sites: list[str] | None) -> str:
    key_id = new_id()
    async with db.write() as session:
        await session.execute(insert(ApiKey).values(
            id=key_id, name="partner", scopes=["appointments:write"], key_hash=new_id() + new_id(),
            created_at=NOW, site_ids=sites))
    return key_id


async def endpoint(db: Database, key_id: str, wanted: list[str], disabled: bool = False) -> str:
    endpoint_id = new_id()
    async with db.write() as session:
        await session.execute(insert(WebhookEndpoint).values(
            id=endpoint_id, api_key_id=key_id, url="https://partner.example/hooks", events=wanted,
            disabled=disabled, secret_encrypted="x", created_at=NOW, updated_at=NOW))
    return endpoint_id


async def receivers(db: Database, event_id: str) -> set[str]:
    async with db.read() as session:
        rows = await session.execute(select(col(WebhookDelivery.endpoint_id))
                                     .where(col(WebhookDelivery.event_id) == event_id))
        return set(rows.scalars())


@pytest.mark.anyio
async def test_an_event_goes_to_the_endpoints_events_record_would_queue_it_for(
    db: Database,
) -> None:
    site_a, site_b = new_id(), new_id()
    every_site, only_a, only_b = await key(db, None), await key(db, [site_a]), await key(db, [site_b])
    gone = new_id()  # an endpoint whose key row is not there sees every site, as in Python
    named = (APPOINTMENT_BOOKED, APPOINTMENT_CANCELLED)
    other_type = next(name for name in EVENT_TYPES if name not in named)
    for key_id in (every_site, only_a, only_b, gone):
        for wanted in (["*"], [APPOINTMENT_BOOKED], [other_type], list(named)):
            await endpoint(db, key_id, wanted)
        await endpoint(db, key_id, ["*"], disabled=True)
    checked = 0
    for event_type in (APPOINTMENT_BOOKED, APPOINTMENT_CANCELLED, other_type):
        for site in (site_a, site_b, None):
            def event() -> Event:
                return Event(event_type, NOW, SYSTEM, {"n": 1}, site_id=site)  # noqa: B023 - used at once
            by_python, by_sql = event(), event()
            async with db.write() as session:
                await event_store.record(session, by_python)
            async with db.write() as session:
                await new_booking.after(session, None, [], by_sql)
            expected = await receivers(db, by_python.id)
            assert await receivers(db, by_sql.id) == expected, (event_type, site)
            checked += len(expected)
    assert checked > 0  # the comparison saw deliveries, not only empty sets
