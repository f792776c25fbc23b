"""Series of free slots for a care pathway: the free slots the sessions may be, then a pure step.

Naming a staff member or a site, the single-slot search reads every day the sessions may fall on.
Across the département, the rules, absences and closures are read once; where first sessions may
start is worked out without a query; then, batch by batch of those starts in order, only their
staff members' holds at the hours their sessions may fall on are read, until the page is full.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from scheduler.db.engine import Database
from scheduler.domain.intervals import Interval
from scheduler.domain.pathways import Series, SeriesPosition, Spacing, pathway_series, session_windows
from scheduler.ports import HolidayCalendar
from scheduler.services.availability import (
    LoadedSearch,
    SlotQuery,
    UnbookedStart,
    ensure_known,
    find_slots,
    load_search,
    slots_within,
    unbooked_starts,
)
from scheduler.services.paging import cursor_instant, decode_cursor, encode_cursor

ONE_DAY = timedelta(days=1)
ONE_TICK = timedelta(microseconds=1)
MIN_BATCH = 32  # first sessions whose staff members' slots are read at once, at the least


@dataclass(frozen=True, slots=True)
class PathwayQuery:
    """What a caller asks for: series whose first session falls on a range of local dates."""

    service_id: str
    first: date
    last: date
    spacing: Spacing
    staff_id: str | None = None
    site_id: str | None = None
    interpreter_language: str | None = None

    def slot_queries(self, first: date, last: date) -> list[SlotQuery]:
        """The single-slot searches covering every session of the series starting from ``first`` to ``last``.

        Session ``k`` (from 0) of such a series falls ``k * every_days`` days after its first day,
        give or take ``k * tolerance_days``: one range of dates per session, those that overlap
        merged. Notice, horizon, holidays, absences and interpreters then apply to each slot as the
        single-slot search applies them.
        """
        every, tolerance = self.spacing.every_days, self.spacing.tolerance_days
        ranges: list[tuple[date, date]] = []
        for k in range(self.spacing.sessions):
            low = first + timedelta(days=k * (every - tolerance))
            high = last + timedelta(days=k * (every + tolerance))
            if ranges and low <= ranges[-1][1] + ONE_DAY:
                ranges[-1] = (ranges[-1][0], max(ranges[-1][1], high))
            else:
                ranges.append((low, high))
        return [SlotQuery(self.service_id, low, high, self.staff_id, self.site_id, self.interpreter_language)
                for low, high in ranges]

    def reach(self, first: date) -> SlotQuery:
        """The single-slot search of every date a series starting from ``first`` on may use."""
        every, tolerance = self.spacing.every_days, self.spacing.tolerance_days
        last = self.last + timedelta(days=(self.spacing.sessions - 1) * (every + tolerance))
        return SlotQuery(self.service_id, first, last, self.staff_id, self.site_id, self.interpreter_language)

    def first_stretch(self) -> timedelta:
        """How many first days the first stretch of the search covers; each next one doubles.

        Naming a staff member or a site narrows the slots enough to read the whole range at once;
        across a whole département, a day of first sessions usually fills a page.
        """
        if self.staff_id or self.site_id:
            return self.last - self.first + ONE_DAY
        return ONE_DAY


@dataclass(frozen=True, slots=True)
class PathwayPage:
    """Up to a page of series, and the cursor of the next page (None on the last)."""

    series: list[Series]
    next_cursor: str | None


async def find_pathway_page(db: Database, calendar: HolidayCalendar, now: datetime, query: PathwayQuery,
                            cursor: str | None, limit: int) -> PathwayPage:
    """The first ``limit`` series after ``cursor``, ordered by first start, staff member, site.

    Raises:
        NotFound: the service (or a staff member or site the query names) does not exist.
        InvalidInput: the cursor is not one this search gave.
    """
    after = _after(cursor) if cursor else None
    async with db.read() as session:
        found = await _series(session, calendar, now, query, after, limit + 1)  # one more: a next page?
    more = len(found) > limit
    page = found[:limit]
    return PathwayPage(page, _cursor(page[-1].position) if more else None)


async def _series(session: AsyncSession, calendar: HolidayCalendar, now: datetime, query: PathwayQuery,
                  after: SeriesPosition | None, wanted: int) -> list[Series]:
    """The first ``wanted`` series after ``after``, over growing stretches of first days.

    A page near the start of the range reads only the slots its first days' series need: across
    the département, only the hours of the staff members who may open them.
    """
    # A first session's local date is its UTC date give or take a day (zones span UTC-12 to UTC+14).
    begin = query.first if after is None else max(query.first, after[0].astimezone(UTC).date() - ONE_DAY)
    if begin > query.last:
        return []
    if query.interpreter_language or query.staff_id or query.site_id:
        return await _series_from_whole_days(session, calendar, now, query, begin, after, wanted)
    search = await load_search(session, calendar, query.reach(begin))
    length = query.first_stretch()
    found: list[Series] = []
    seen_any = False
    while begin <= query.last and len(found) < wanted:
        end = min(begin + length - ONE_DAY, query.last)
        openers = unbooked_starts(search, begin, end, now)
        seen_any = seen_any or bool(openers)
        found += await _stretch_series(session, search, now, query, (begin, end), openers, after,
                                       wanted - len(found))
        begin, length = end + ONE_DAY, length * 2
    if not seen_any:
        await ensure_known(session, query.reach(query.first))
    return found


async def _stretch_series(session: AsyncSession, search: LoadedSearch, now: datetime, query: PathwayQuery,
                          first_days: tuple[date, date], openers: list[UnbookedStart],
                          after: SeriesPosition | None, wanted: int) -> list[Series]:
    """The first ``wanted`` series after ``after`` whose first session falls on ``first_days``.

    ``openers`` are where a first session may be, in order, bookings aside. They are taken in
    batches, earliest first; for each, the free slots of its staff members are read only at its
    first sessions' times and at the times their later sessions may have. Every series opened
    within a batch is then known, and a page reads only the few hours of slots it needs.
    """
    begin, end = first_days
    position = 0 if after is None else bisect_right(openers, after, key=_position)
    found: list[Series] = []
    batch = max(2 * wanted, MIN_BATCH)
    while position < len(openers) and len(found) < wanted:
        upto = min(len(openers), position + batch)
        taken = openers[position:upto]
        staff = {staff_id for _start, staff_id, _site, _zone in taken}
        windows = _merged(session_windows([start.astimezone(zone_) for start, _staff, _site, zone_ in taken],
                                          query.spacing))
        slots = await slots_within(session, search, windows, now, staff)
        page = pathway_series(slots, query.spacing, begin, end, after=after, limit=wanted - len(found))
        if upto < len(openers):
            page = [series for series in page if series.position <= _position(taken[-1])]
            after = _position(taken[-1])
        found += page
        batch = _next_batch(upto - position, len(page), wanted - len(found))
        position = upto
    return found


def _position(opener: UnbookedStart) -> SeriesPosition:
    return opener[0], opener[1], opener[2]


def _next_batch(taken: int, opened: int, wanted: int) -> int:
    """How many first sessions the next batch takes: as many as should open the series still wanted."""
    if opened == 0:
        return taken * 4
    return max(MIN_BATCH, -(-wanted * taken * 5 // (opened * 4)))


def _merged(windows: list[Interval]) -> list[Interval]:
    """The windows with those that overlap or touch made one: each instant read once."""
    merged: list[Interval] = []
    for window in sorted(windows, key=lambda w: w.start):
        if merged and window.start <= merged[-1].end:
            merged[-1] = Interval.of_utc(merged[-1].start, max(merged[-1].end, window.end))
        else:
            merged.append(window)
    return merged


async def _series_from_whole_days(session: AsyncSession, calendar: HolidayCalendar, now: datetime,
                                  query: PathwayQuery, begin: date, after: SeriesPosition | None,
                                  wanted: int) -> list[Series]:
    """As ``_series``, reading every free slot of the days the sessions may fall on.

    One single-slot search per range of days: a search naming a staff member or a site has few
    slots to read (its first stretch is the whole range), and one needing an interpreter checks
    the interpreters' free time as the single-slot search does.
    """
    length = query.first_stretch()
    found: list[Series] = []
    while begin <= query.last and len(found) < wanted:
        end = min(begin + length - ONE_DAY, query.last)
        slots = [slot for slot_query in query.slot_queries(begin, end)
                 for slot in await find_slots(session, calendar, slot_query, now)]
        found += pathway_series(slots, query.spacing, begin, end, after=after, limit=wanted - len(found))
        begin, length = end + ONE_DAY, length * 2
    return found


def _cursor(position: SeriesPosition) -> str:
    start, staff_id, site_id = position
    return encode_cursor(start.isoformat(), staff_id, site_id)


def _after(cursor: str) -> SeriesPosition:
    """Where the previous page stopped: the position of its last series."""
    start, staff_id, site_id = decode_cursor(cursor, 3)
    return cursor_instant(start), staff_id, site_id
