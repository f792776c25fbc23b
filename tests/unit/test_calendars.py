"""French public and school holidays as the engine receives them (offline libraries, literal dates)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from scheduler.domain.calendars import ClosedDays, holiday_calendar_key
from scheduler.french_calendar import FrenchHolidayCalendar

MAINLAND_2026 = {
    date(2026, 1, 1),  # Jour de l'an
    date(2026, 4, 6),  # Lundi de Pâques
    date(2026, 5, 1),  # Fête du travail
    date(2026, 5, 8),  # Victoire 1945
    date(2026, 5, 14),  # Ascension
    date(2026, 5, 25),  # Lundi de Pentecôte
    date(2026, 7, 14),  # Fête nationale
    date(2026, 8, 15),  # Assomption
    date(2026, 11, 1),  # Toussaint
    date(2026, 11, 11),  # Armistice
    date(2026, 12, 25),  # Noël
}


def span(first: date, last: date) -> set[date]:
    """Every day from ``first`` to ``last``, both included (a school-holiday period)."""
    return {first + timedelta(days=n) for n in range((last - first).days + 1)}


def public(key: str, year: int) -> frozenset[date]:
    return FrenchHolidayCalendar().closed_days([key], [], date(year, 1, 1), date(year, 12, 31)).public[key]


def school(zone: str, first: date, last: date) -> set[date]:
    """The school-holiday days of a zone between two dates (the port returns whole years)."""
    days = FrenchHolidayCalendar().closed_days([], [zone], first, last).school[zone]
    return {day for day in days if first <= day <= last}


@pytest.mark.parametrize(
    ("region", "timezone", "expected"),
    [
        pytest.param(None, "Europe/Paris", "FR", id="mainland"),
        pytest.param("57", "Europe/Paris", "FR-57", id="moselle"),
        pytest.param("6AE", "Europe/Paris", "FR-6AE", id="alsace"),
        pytest.param(None, "Indian/Reunion", "FR-974", id="reunion_by_zone"),
        pytest.param(None, "America/Cayenne", "FR-973", id="guyane_by_zone"),
        pytest.param(None, "Indian/Mayotte", "FR-976", id="mayotte_by_zone"),
        pytest.param("974", "Europe/Paris", "FR-974", id="region_wins_over_zone"),
        pytest.param(None, "Pacific/Noumea", "FR", id="zone_without_a_calendar"),
    ],
)
def test_holiday_calendar_key(region: str | None, timezone: str, expected: str) -> None:
    assert holiday_calendar_key(region, timezone) == expected


def test_mainland_public_holidays_2026() -> None:
    assert public("FR", 2026) == MAINLAND_2026


def test_moselle_adds_good_friday_and_saint_stephen() -> None:
    assert public("FR-57", 2026) == MAINLAND_2026 | {date(2026, 4, 3), date(2026, 12, 26)}


def test_alsace_adds_good_friday_and_saint_stephen() -> None:
    assert public("FR-6AE", 2026) == MAINLAND_2026 | {date(2026, 4, 3), date(2026, 12, 26)}


def test_good_friday_2027_is_a_holiday_in_moselle_only() -> None:
    assert date(2027, 3, 26) in public("FR-57", 2027)
    assert date(2027, 3, 26) not in public("FR", 2027)


def test_reunion_adds_the_abolition_of_slavery_on_20_december() -> None:
    assert public("FR-974", 2026) == MAINLAND_2026 | {date(2026, 12, 20)}


def test_a_range_over_new_year_holds_both_years() -> None:
    closed = FrenchHolidayCalendar().closed_days(["FR"], [], date(2026, 12, 1), date(2027, 1, 31))

    assert {date(2026, 12, 25), date(2027, 1, 1)} <= closed.public["FR"]


@pytest.mark.parametrize(
    ("zone", "first", "last"),
    [
        # Arrêté of the 2026-2027 school calendar: from Saturday after classes to the Monday back.
        pytest.param("A", date(2027, 2, 13), date(2027, 2, 28), id="zone_a"),
        pytest.param("B", date(2027, 2, 20), date(2027, 3, 7), id="zone_b"),
        pytest.param("C", date(2027, 2, 6), date(2027, 2, 21), id="zone_c"),
    ],
)
def test_winter_holidays_2027_differ_per_zone(zone: str, first: date, last: date) -> None:
    assert school(zone, date(2027, 1, 15), date(2027, 3, 31)) == span(first, last)


@pytest.mark.parametrize("zone", ["A", "B", "C"])
def test_christmas_holidays_2026_are_common_to_all_zones(zone: str) -> None:
    assert school(zone, date(2026, 12, 1), date(2027, 1, 31)) == span(date(2026, 12, 19), date(2027, 1, 3))


def test_a_year_beyond_the_bundled_data_falls_back_to_extrapolated_dates() -> None:
    holidays_2030 = (
        FrenchHolidayCalendar().closed_days([], ["A"], date(2030, 1, 1), date(2030, 12, 31)).school["A"]
    )

    assert holidays_2030
    assert {day.year for day in holidays_2030} == {2030}
    # Whatever the exact dates, the week between Christmas and New Year is always off school.
    assert date(2030, 12, 27) in holidays_2030


def test_autumn_of_the_last_bundled_year_still_has_school_holidays() -> None:
    # The bundled data stops after the 2028 summer holidays: Toussaint and Christmas 2028 are
    # not published there, yet a permanence must not open on 27 December 2028.
    holidays_2028 = school("A", date(2028, 9, 1), date(2028, 12, 31))

    assert date(2028, 12, 27) in holidays_2028
    assert date(2028, 10, 30) in holidays_2028


def test_the_published_summer_of_the_last_bundled_year_is_kept() -> None:
    # The summer of 2028 starts on Tuesday 4 July in the bundled CSV (rows 2028-07-04 onwards):
    # the extrapolation must not override published dates.
    assert school("A", date(2028, 6, 25), date(2028, 7, 5)) == span(date(2028, 7, 4), date(2028, 7, 5))


def test_closed_days_answer_per_calendar_and_zone() -> None:
    closed = ClosedDays(
        public={"FR": frozenset({date(2026, 11, 11)})}, school={"A": frozenset({date(2026, 12, 21)})}
    )

    assert closed.is_public_holiday("FR", date(2026, 11, 11))
    assert not closed.is_public_holiday("FR-974", date(2026, 11, 11))
    assert closed.is_school_holiday("A", date(2026, 12, 21))
    assert not closed.is_school_holiday("B", date(2026, 12, 21))
    assert not closed.is_school_holiday(None, date(2026, 12, 21))
