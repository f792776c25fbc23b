"""Ports of the scheduling core: the clocks and the holiday calendar (protocols), and the system clocks."""

from __future__ import annotations

import time
from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Protocol

from scheduler.domain.calendars import ClosedDays


class Clock(Protocol):
    """Where "now" comes from."""

    def now(self) -> datetime:
        """The current instant, aware."""
        ...


class SystemClock:
    """The machine's clock, in UTC."""

    def now(self) -> datetime:
        """The current instant, aware UTC."""
        return datetime.now(UTC)


class MonotonicClock(Protocol):
    """Where elapsed time comes from (cache expiries, rate windows, batching): never goes back."""

    def __call__(self) -> float:
        """Seconds from an arbitrary origin."""
        ...


def system_monotonic() -> float:
    """The machine's monotonic clock (``time.monotonic``): the default ``MonotonicClock``."""
    return time.monotonic()


class HolidayCalendar(Protocol):
    """Turns calendar keys and school zones into the closed days of a range of years."""

    def closed_days(
        self, calendars: Iterable[str], zones: Iterable[str], first: date, last: date
    ) -> ClosedDays:
        """Public holidays of each calendar and school holidays of each zone between two dates."""
        ...
