"""A zone's local dates as stretches of constant UTC offset, so a database without time zones can
compute local months and weekdays: local time = UTC + the offset of the stretch an instant falls in.

SQLite knows no time zone and PostgreSQL's would need the zone per row: both instead join each
appointment to the stretch of its site's zone that holds its start, and add that stretch's offset.
The stretches come from ``zoneinfo`` here, so daylight saving time is handled once, in Python.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

# Zones change offset at most a few times a year: a daily step finds every change in a range.
STEP = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class OffsetPeriod:
    """``[starts, ends)`` in UTC, during which ``zone`` is ``offset_minutes`` ahead of UTC."""

    zone: str
    starts: datetime
    ends: datetime
    offset_minutes: int

    def __post_init__(self) -> None:
        if self.starts.utcoffset() is None or self.ends <= self.starts:
            raise ValueError("An offset period is an aware, non-empty interval.")


def local_day_start(day: date, zone: ZoneInfo) -> datetime:
    """The UTC instant at which ``day`` begins in ``zone`` (midnight; no zone we serve skips it)."""
    return datetime.combine(day, time(0), zone).astimezone(UTC)


def offset_periods(zone_name: str, first: date, last: date) -> list[OffsetPeriod]:
    """The stretches of constant offset covering the local days ``first`` to ``last`` in that zone."""
    zone = ZoneInfo(zone_name)
    start, end = local_day_start(first, zone), local_day_start(last + timedelta(days=1), zone)
    periods: list[OffsetPeriod] = []
    period_start, cursor = start, start
    while cursor < end:
        following = min(cursor + STEP, end)
        if _offset(following, zone) != _offset(cursor, zone):
            change = _change_between(cursor, following, zone)
            if change < end:  # a change exactly at the end belongs to the next day
                periods.append(OffsetPeriod(zone_name, period_start, change, _offset(period_start, zone)))
                period_start = change
        cursor = following
    periods.append(OffsetPeriod(zone_name, period_start, end, _offset(period_start, zone)))
    return periods


def _offset(instant: datetime, zone: ZoneInfo) -> int:
    offset = instant.astimezone(zone).utcoffset()
    assert offset is not None  # a ZoneInfo always has one
    return int(offset.total_seconds() // 60)


def _change_between(before: datetime, after: datetime, zone: ZoneInfo) -> datetime:
    """The first second at which the offset differs from ``before``'s (bisection; changes fall on seconds)."""
    reference = _offset(before, zone)
    low, high = before, after
    while high - low > timedelta(seconds=1):
        middle = low + (high - low) / 2
        middle = middle.replace(microsecond=0)
        if _offset(middle, zone) == reference:
            low = middle
        else:
            high = middle
    return high
