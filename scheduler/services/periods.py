"""Periods the API is asked about in dates, turned into instants once."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from scheduler.domain.zones import PARIS


def start_of(day: date) -> datetime:
    """The instant ``day`` starts in mainland French time."""
    return datetime.combine(day, time(0), PARIS)


def day_bounds(first: date | None, last: date | None) -> tuple[datetime | None, datetime | None]:
    """``[first, last]`` as ``[start, end)`` instants, the dates read in mainland French time (None: open)."""
    return (start_of(first) if first else None, start_of(last + timedelta(days=1)) if last else None)
