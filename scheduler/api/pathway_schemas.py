"""Schemas and query rules of the care pathways' series search (``GET /v1/pathway-slots``)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from pydantic import BaseModel

from scheduler.domain.errors import InvalidInput
from scheduler.domain.pathways import Series, Spacing

MAX_RANGE_DAYS = 92  # of first sessions, as for single slots
MIN_SESSIONS, MAX_SESSIONS = 2, 6  # a pathway is "3 to 4 sessions"; a series of one is a slot
MAX_EVERY_DAYS = 60  # two months between sessions at most
MAX_TOLERANCE_DAYS = 3  # a session moves by half a week at most, and always by less than the spacing


class PathwaySeriesOut(BaseModel):
    """A series of free slots with one staff member at one site: the starts of its sessions."""

    staff_id: str
    site_id: str | None
    starts: list[datetime]

    @classmethod
    def of(cls, series: Series) -> PathwaySeriesOut:
        """The API view of a series, its starts in the site's zone."""
        return cls(staff_id=series.staff_id, site_id=series.site_id,
                   starts=[slot.start for slot in series.slots])


def first_days(first: date, last: date) -> tuple[date, date]:
    """The range of first sessions' dates, or InvalidInput."""
    if last < first:
        raise InvalidInput("`to` is before `from`.")
    if last - first > timedelta(days=MAX_RANGE_DAYS):
        raise InvalidInput(f"`to` is more than {MAX_RANGE_DAYS} days after `from`.")
    return first, last


def spacing(sessions: int, every_days: int, tolerance_days: int) -> Spacing:
    """The spacing asked for, or InvalidInput when the tolerance could put two sessions on one day."""
    if tolerance_days >= every_days:
        raise InvalidInput("`tolerance_days` must be smaller than `every_days`.")
    return Spacing(sessions, every_days, tolerance_days)
