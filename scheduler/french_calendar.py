"""French holidays: public ones (``holidays``) and school ones (``vacances-scolaires-france``)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from functools import lru_cache

import holidays
from vacances_scolaires_france import (  # type: ignore[import-untyped]
    SchoolHolidayDates,
    UnsupportedYearException,
)

from scheduler.domain.calendars import ClosedDays


class FrenchHolidayCalendar:
    """French public holidays (``holidays``) and school holidays (``vacances-scolaires-france``).

    Both libraries compute or bundle their data offline, so this does no I/O; results are
    cached per calendar and year.
    """

    def closed_days(
        self, calendars: Iterable[str], zones: Iterable[str], first: date, last: date
    ) -> ClosedDays:
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
