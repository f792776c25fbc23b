"""Series of free slots for a care pathway: slot searches on the days the sessions need, then a pure step."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from scheduler.db.engine import Database
from scheduler.domain.pathways import Series, SeriesPosition, Spacing, pathway_series
from scheduler.ports import HolidayCalendar
from scheduler.services.availability import SlotQuery, find_slots
from scheduler.services.paging import cursor_instant, decode_cursor, encode_cursor

ONE_DAY = timedelta(days=1)


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

    A page near the start of the range reads only the slots its first days' series need.
    """
    # A first session's local date is its UTC date give or take a day (zones span UTC-12 to UTC+14).
    begin = query.first if after is None else max(query.first, after[0].astimezone(UTC).date() - ONE_DAY)
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
