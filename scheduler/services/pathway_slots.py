"""Series of free slots for a care pathway: one slot search over the whole reach, then the pure step."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from scheduler.db.engine import Database
from scheduler.domain.pathways import Series, SeriesPosition, Spacing, pathway_series
from scheduler.ports import HolidayCalendar
from scheduler.services.admin import cursor_instant, decode_cursor, encode_cursor
from scheduler.services.availability import SlotQuery, find_slots


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

    def slot_query(self) -> SlotQuery:
        """The single-slot search that covers every session of every series that may start in range.

        The last session of a series starting on ``last`` falls at most
        ``(sessions - 1) * (every_days + tolerance_days)`` days later. Notice, horizon, holidays,
        absences and interpreters apply to each slot as the single-slot search applies them.
        """
        spacing = self.spacing
        reach = timedelta(days=(spacing.sessions - 1) * (spacing.every_days + spacing.tolerance_days))
        return SlotQuery(self.service_id, self.first, self.last + reach, self.staff_id, self.site_id,
                         self.interpreter_language)


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
        slots = await find_slots(session, calendar, query.slot_query(), now)
    found = pathway_series(slots, query.spacing, query.first, query.last, after=after, limit=limit + 1)
    more = len(found) > limit
    page = found[:limit]
    return PathwayPage(page, _cursor(page[-1].position) if more else None)


def _cursor(position: SeriesPosition) -> str:
    start, staff_id, site_id = position
    return encode_cursor(start.isoformat(), staff_id, site_id)


def _after(cursor: str) -> SeriesPosition:
    """Where the previous page stopped: the position of its last series."""
    start, staff_id, site_id = decode_cursor(cursor, 3)
    return cursor_instant(start), staff_id, site_id
