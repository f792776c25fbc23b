"""Closed days as plain values: public holidays per calendar, school holidays per zone."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True, slots=True)
class ClosedDays:
    """The days on which weekly rules do not apply.

    ``public`` maps a holiday calendar key (``"FR"``, ``"FR-57"`` for Moselle, ``"FR-974"`` for
    La Réunion, ...) to its public holidays; ``school`` maps a school zone (``"A"``, ``"B"``,
    ``"C"``) to its school-holiday days. The values come from a ``HolidayCalendar`` port, so the
    engine stays pure and tests can write the days literally.
    """

    public: Mapping[str, frozenset[date]] = field(default_factory=dict)
    school: Mapping[str, frozenset[date]] = field(default_factory=dict)

    def is_public_holiday(self, calendar: str, day: date) -> bool:
        """True when ``day`` is a public holiday in ``calendar``."""
        return day in self.public.get(calendar, frozenset())

    def is_school_holiday(self, zone: str | None, day: date) -> bool:
        """True when ``day`` falls in the school holidays of ``zone``.

        A school-calendar rule at a site with no zone is treated as zone-less: only public
        holidays close it (the site's data is incomplete, not the family's fault).
        """
        if zone is None:
            return False
        return day in self.school.get(zone, frozenset())


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
