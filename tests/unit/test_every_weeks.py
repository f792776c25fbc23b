"""Rules every other week (or every 3 or 4): weeks counted from ``valid_from``'s, across DST and holidays."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from scheduler.domain.calendars import ClosedDays
from scheduler.domain.rules import WeeklyRule, occurrences
from scheduler.domain.slots import free_slots
from tests.builders import WEDNESDAY, local_days, one_hour_service, paris, school_permanence, weekly_rule

# Toussaint 2026 (zones A, B and C): from Saturday 17 October to Sunday 1 November.
TOUSSAINT = frozenset(date(2026, 10, 17) + timedelta(days=n) for n in range(16))
CLOSED = ClosedDays(public={"FR": frozenset({date(2026, 11, 11)})}, school={"A": TOUSSAINT})


def opening_starts(
    rules: list[WeeklyRule], first: date, last: date, closed: ClosedDays = CLOSED
) -> list[str]:
    found = occurrences(rules, first, last, closed)
    return sorted(o.interval.start.astimezone(o.zone).isoformat() for o in found)


def every_other_wednesday(valid_from: date, **options: object) -> WeeklyRule:
    return weekly_rule(resource="psy", weekday=WEDNESDAY, start="09:00", end="12:00", valid_from=valid_from,
                       every_weeks=2, **options)  # type: ignore[arg-type]


def test_every_other_week_keeps_its_wall_time_across_the_autumn_change() -> None:
    rule = every_other_wednesday(date(2026, 10, 14))
    assert opening_starts([rule], date(2026, 10, 1), date(2026, 11, 30)) == [
        "2026-10-14T09:00:00+02:00",
        "2026-10-28T09:00:00+01:00",  # clocks went back on Sunday 25 October
        # 11 November is Armistice Day: that week's opening is lost, the rhythm is not shifted.
        "2026-11-25T09:00:00+01:00",
    ]


def test_every_other_week_across_the_spring_change() -> None:
    rule = every_other_wednesday(date(2027, 3, 17))
    assert opening_starts([rule], date(2027, 3, 1), date(2027, 4, 20)) == [
        "2027-03-17T09:00:00+01:00", "2027-03-31T09:00:00+02:00", "2027-04-14T09:00:00+02:00"]


def test_a_school_holiday_skips_a_week_without_shifting_the_rhythm() -> None:
    rule = school_permanence(weekday=WEDNESDAY, valid_from=date(2026, 9, 30))
    every_other = replace(rule, every_weeks=2)
    assert opening_starts([every_other], date(2026, 9, 1), date(2026, 12, 10)) == [
        "2026-09-30T08:30:00+02:00",
        "2026-10-14T08:30:00+02:00",
        # 28 October is in the Toussaint holidays, 11 November is Armistice Day.
        "2026-11-25T08:30:00+01:00",
        "2026-12-09T08:30:00+01:00",
    ]


def test_weeks_count_from_the_week_of_valid_from_even_midweek() -> None:
    # Valid from Thursday 15 October: that week's Wednesday is before it, so the first is two weeks on.
    rule = every_other_wednesday(date(2026, 10, 15))
    assert opening_starts([rule], date(2026, 10, 1), date(2026, 11, 10)) == ["2026-10-28T09:00:00+01:00"]


def test_every_four_weeks() -> None:
    rule = weekly_rule(resource="psy", weekday=WEDNESDAY, start="09:00", end="10:00",
                       valid_from=date(2026, 9, 2), every_weeks=4)
    assert opening_starts([rule], date(2026, 9, 1), date(2026, 12, 31), ClosedDays()) == [
        "2026-09-02T09:00:00+02:00", "2026-09-30T09:00:00+02:00", "2026-10-28T09:00:00+01:00",
        "2026-11-25T09:00:00+01:00", "2026-12-23T09:00:00+01:00"]


def test_free_slots_of_an_every_other_week_rule() -> None:
    rule = every_other_wednesday(date(2026, 10, 14))
    openings = occurrences([rule], date(2026, 10, 14), date(2026, 10, 28), CLOSED)
    window = local_days(date(2026, 10, 14), date(2026, 10, 28))
    slots = free_slots(openings, [], {}, one_hour_service(), window, paris(2026, 10, 1))
    assert [slot.start.isoformat() for slot in slots] == [
        "2026-10-14T09:00:00+02:00", "2026-10-14T10:00:00+02:00", "2026-10-14T11:00:00+02:00",
        "2026-10-28T09:00:00+01:00", "2026-10-28T10:00:00+01:00", "2026-10-28T11:00:00+01:00"]


@pytest.mark.parametrize("every_weeks", [0, 5])
def test_a_rhythm_outside_one_to_four_weeks_is_refused(every_weeks: int) -> None:
    with pytest.raises(ValueError, match="every_weeks"):
        weekly_rule(resource="psy", weekday=WEDNESDAY, start="09:00", end="10:00", every_weeks=every_weeks)
