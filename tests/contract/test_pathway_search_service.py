"""The series search through the service, on a real database of each kind, against the single-slot search.

``find_pathway_page`` reads département-wide searches in batches of first sessions, only at the hours
their later sessions may fall on. Whatever the batch size, following its pages must give exactly
the series a brute-force search (tests/unit/test_pathways.py) finds among the free slots the
single-slot search ``find_slots`` returns, and each session must be a slot ``find_slots`` returns
for that staff member on that day.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from unittest import mock

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert

from scheduler.db.engine import Database
from scheduler.db.tables import AvailabilityRule, HoldRecord, RuleService, Service, Site, Staff, new_id
from scheduler.domain.intervals import resolve_local
from scheduler.domain.pathways import Series, Spacing
from scheduler.domain.slots import Slot
from scheduler.domain.zones import zone
from scheduler.french_calendar import FrenchHolidayCalendar
from scheduler.services import pathway_slots
from scheduler.services.availability import SlotQuery, find_slots
from scheduler.services.pathway_slots import PathwayQuery, find_pathway_page
from tests.support.databases import DatabaseHandle
from tests.unit.test_pathways import brute_force, flat

EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
NOW = datetime(2027, 3, 1, 8, 0, tzinfo=UTC)
FIRST_DAY = date(2027, 3, 22)  # the Paris clocks change on Sunday 28 March; Easter Monday is 29 March
ZONES = ("Europe/Paris", "Europe/Paris", "Indian/Reunion")
WALLS = (time(8), time(9), time(9, 30), time(14))


@dataclass(frozen=True)
class Rule:
    """A weekly rule of a generated programme: staff member, site (by index), weekday and hours."""

    staff: int
    site: int
    weekday: int
    start: time
    hours: int
    every_weeks: int
    school: bool


@dataclass(frozen=True)
class Programme:
    """A small random programme, its bookings and one search of it."""

    duration: int
    rules: list[Rule]
    bookings: list[tuple[int, int, int]]  # (staff, day offset, hour local to Paris)
    spacing: Spacing
    first: date
    last: date
    limit: int
    min_batch: int


@st.composite
def programmes(draw: st.DrawFn) -> Programme:
    """A few staff members at a few sites, weekly rules, bookings in the way, and a series search."""
    rules = draw(st.lists(st.builds(
        Rule, st.integers(0, 3), st.integers(0, len(ZONES) - 1), st.integers(1, 6), st.sampled_from(WALLS),
        st.integers(1, 4), st.sampled_from([1, 1, 2]), st.booleans()), min_size=1, max_size=6))
    bookings = draw(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 40), st.integers(8, 17)),
                             max_size=12, unique=True))
    every = draw(st.sampled_from([1, 2, 7, 7, 14]))
    spacing = Spacing(draw(st.integers(2, 4)), every, draw(st.integers(0, min(2, every - 1))))
    first = FIRST_DAY + timedelta(days=draw(st.integers(0, 10)))
    return Programme(draw(st.sampled_from([30, 45, 60])), rules, bookings, spacing, first,
                     first + timedelta(days=draw(st.integers(0, 12))), draw(st.integers(1, 6)),
                     draw(st.sampled_from([1, 2, 32])))


async def seed(db: Database, programme: Programme) -> tuple[str, list[str]]:
    """The programme's rows under a new service (so examples sharing the database do not meet)."""
    service_id = new_id()
    sites = [new_id() for _ in ZONES]
    staff = [new_id() for _ in range(4)]
    async with db.write() as session:
        await session.execute(insert(Service).values(
            id=service_id, name="Entretien", duration_minutes=programme.duration, capacity=1,
            min_notice_minutes=0, horizon_days=730, created_at=EPOCH))
        for site_id, zone_name in zip(sites, ZONES, strict=True):
            await session.execute(insert(Site).values(
                id=site_id, name="Site", kind="school", address="1 rue de la Paix", timezone=zone_name,
                public_label="Accueil", school_zone="C", created_at=EPOCH))
        for staff_id in staff:
            await session.execute(insert(Staff).values(id=staff_id, name="Psy", role="psychologist",
                                                       created_at=EPOCH))
        for rule in programme.rules:
            rule_id = new_id()
            end = (datetime.combine(FIRST_DAY, rule.start) + timedelta(hours=rule.hours)).time()
            await session.execute(insert(AvailabilityRule).values(
                id=rule_id, staff_id=staff[rule.staff], site_id=sites[rule.site], weekday=rule.weekday,
                start_time=rule.start, end_time=end, valid_from=date(2027, 3, 1),
                every_weeks=rule.every_weeks, follows_school_calendar=rule.school, created_at=EPOCH))
            await session.execute(insert(RuleService).values(rule_id=rule_id, service_id=service_id))
        for who, offset, hour in programme.bookings:
            start = resolve_local(FIRST_DAY + timedelta(days=offset), time(hour), zone("Europe/Paris"))
            await session.execute(insert(HoldRecord).values(
                id=new_id(), resource_id=staff[who], resource_kind="staff", service_id=service_id,
                starts_at=start.astimezone(UTC), ends_at=(start + timedelta(minutes=60)).astimezone(UTC),
                capacity=1, taken=1))
    return service_id, staff


async def search_and_expect(url: str, programme: Programme
                            ) -> tuple[list[Series], list[tuple[str, ...]], bool]:
    """Every page of the département-wide search, the brute force's series, and whether each session is
    a slot the single-slot search gives for its staff member."""
    db, calendar = Database.from_url(url), FrenchHolidayCalendar()
    try:
        service_id, _staff = await seed(db, programme)
        query = PathwayQuery(service_id, programme.first, programme.last, programme.spacing)
        pages: list[Series] = []
        cursor = None
        with mock.patch.object(pathway_slots, "MIN_BATCH", programme.min_batch):
            while True:
                page = await find_pathway_page(db, calendar, NOW, query, cursor, programme.limit)
                pages += page.series
                if page.next_cursor is None:
                    break
                cursor = page.next_cursor
        spacing = programme.spacing
        later = (spacing.sessions - 1) * (spacing.every_days + spacing.tolerance_days)
        reach = programme.last + timedelta(days=later)
        async with db.read() as session:
            slots = await find_slots(session, calendar, SlotQuery(service_id, programme.first, reach), NOW)
            alone: dict[tuple[str, date], list[Slot]] = {}
            for series in pages:
                for one in series.slots:
                    key = (series.staff_id, one.start.date())
                    if key not in alone:
                        alone[key] = await find_slots(
                            session, calendar, SlotQuery(service_id, key[1], key[1], key[0]), NOW)
            own = all(one in alone[series.staff_id, one.start.date()]
                      for series in pages for one in series.slots)
    finally:
        await db.dispose()
    return pages, brute_force(slots, spacing, programme.first, programme.last), own


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(programmes())
def test_pages_of_the_search_are_the_brute_force_series_of_the_single_slot_search(
    module_database: DatabaseHandle, programme: Programme
) -> None:
    pages, expected, own = asyncio.run(search_and_expect(module_database.url, programme))

    assert flat(pages) == expected
    assert own
