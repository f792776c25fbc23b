"""Ports of the scheduling core: the clock and the holiday calendar, with their real implementations."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Protocol

import holidays
from vacances_scolaires_france import (  # type: ignore[import-untyped]
    SchoolHolidayDates,
    UnsupportedYearException,
)

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


class HolidayCalendar(Protocol):
    """Turns calendar keys and school zones into the closed days of a range of years."""

    def closed_days(self, calendars: Iterable[str], zones: Iterable[str], first: date, last: date) -> ClosedDays:
        """Public holidays of each calendar and school holidays of each zone between two dates."""
        ...


# Overseas departments have their own public holidays (e.g. 20 December in La Réunion);
# a site in one of these zones uses its department's calendar unless told otherwise.
OVERSEAS_REGIONS = {
    "America/Guadeloupe": "971",
    "America/Martinique": "972",
    "America/Cayenne": "973",
    "Indian/Reunion": "974",
    "Indian/Mayotte": "976",
}


def holiday_calendar_key(region: str | None, timezone: str) -> str:
    """The calendar key of a site: ``FR``, or ``FR-<subdivision>`` (``57``, ``6AE``, ``974``...)."""
    subdivision = region or OVERSEAS_REGIONS.get(timezone)
    return f"FR-{subdivision}" if subdivision else "FR"


class FrenchHolidayCalendar:
    """French public holidays (``holidays``) and school holidays (``vacances-scolaires-france``).

    Both libraries compute or bundle their data offline, so this does no I/O; results are
    cached per calendar and year.
    """

    def closed_days(self, calendars: Iterable[str], zones: Iterable[str], first: date, last: date) -> ClosedDays:
        """See ``HolidayCalendar``."""
        years = range(first.year, last.year + 1)
        public = {key: frozenset().union(*(_public(key, y) for y in years)) for key in set(calendars)}
        school = {zone: frozenset().union(*(_school(zone, y) for y in years)) for zone in set(zones)}
        return ClosedDays(public=public, school=school)


@lru_cache(maxsize=256)
def _public(key: str, year: int) -> frozenset[date]:
    subdivision = key.partition("-")[2] or None
    found = holidays.country_holidays("FR", subdiv=subdivision, years=year, categories=("public",))
    return frozenset(found.keys())


@lru_cache(maxsize=64)
def _school(zone: str, year: int) -> frozenset[date]:
    bundled = SchoolHolidayDates()
    try:
        published = frozenset(bundled.holidays_for_year_and_zone(year, zone).keys())
    except UnsupportedYearException:
        # Official dates are published about two years ahead; past them, fall back to the
        # rule-based dates of the ``holidays`` library (extrapolated, so admins may add absences).
        return _extrapolated_school(zone, year)
    # The bundled CSV runs to 31 December of its last year but its holidays stop with the last
    # published summer (2028: no Toussaint, no Christmas); without this, the rest of that year
    # would silently count as school time. Extrapolate only the days after the last published one.
    last_published = max(bundled.data)
    return published | frozenset(day for day in _extrapolated_school(zone, year) if day > last_published)


def _extrapolated_school(zone: str, year: int) -> frozenset[date]:
    found = holidays.country_holidays("FR", subdiv=f"Zone {zone}", years=year, categories=("school",))
    return frozenset(found.keys())
