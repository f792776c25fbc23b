"""When two weekly rules of one person meet: the overlap matrix, written as the coordinator sees it."""

from __future__ import annotations

from datetime import date, time

import pytest

from scheduler.domain.rule_overlap import Recurrence, first_meeting


def rule(weekday: int = 3, hours: str = "09:00-12:00", valid_from: date = date(2026, 9, 2),
         valid_until: date | None = None, every_weeks: int = 1) -> Recurrence:
    start, end = hours.split("-")
    return Recurrence(weekday, time.fromisoformat(start), time.fromisoformat(end), valid_from, valid_until,
                      every_weeks)


# 2026-09-02 is a Wednesday: week 0 of the rules below; 09-09 week 1, 09-16 week 2, 09-23 week 3.
MATRIX = [
    pytest.param(rule(), rule(), date(2026, 9, 2), id="same_hours_every_week"),
    pytest.param(rule(hours="09:00-12:00"), rule(hours="11:30-13:00"), date(2026, 9, 2),
                 id="hours_intersect"),
    pytest.param(rule(hours="10:00-11:00"), rule(hours="09:00-12:00"), date(2026, 9, 2), id="hours_inside"),
    pytest.param(rule(hours="09:00-12:00"), rule(hours="12:00-14:00"), None, id="hours_touch"),
    pytest.param(rule(weekday=3), rule(weekday=4, valid_from=date(2026, 9, 3)), None, id="other_weekday"),
    pytest.param(rule(valid_until=date(2026, 12, 31)), rule(valid_from=date(2027, 1, 6)), None,
                 id="validity_apart"),
    pytest.param(rule(valid_until=date(2026, 12, 31)), rule(valid_from=date(2026, 12, 30)),
                 date(2026, 12, 30), id="validity_meets_on_its_last_day"),
    pytest.param(rule(valid_until=date(2026, 12, 29)), rule(valid_from=date(2026, 12, 24)), None,
                 id="validity_overlaps_without_the_weekday"),
    pytest.param(rule(every_weeks=2), rule(valid_from=date(2026, 9, 9), every_weeks=2), None,
                 id="every_other_week_opposite_weeks"),
    pytest.param(rule(every_weeks=2), rule(valid_from=date(2026, 9, 16), every_weeks=2), date(2026, 9, 16),
                 id="every_other_week_same_weeks"),
    pytest.param(rule(every_weeks=2), rule(valid_from=date(2026, 9, 9)), date(2026, 9, 16),
                 id="every_other_week_and_every_week"),
    pytest.param(rule(every_weeks=2), rule(valid_from=date(2026, 9, 10), every_weeks=2), None,
                 id="valid_from_midweek_counts_its_week"),
    pytest.param(rule(every_weeks=2), rule(valid_from=date(2026, 9, 16), every_weeks=4), date(2026, 9, 16),
                 id="every_4_weeks_inside_every_2"),
    pytest.param(rule(every_weeks=4), rule(valid_from=date(2026, 9, 9), every_weeks=2), None,
                 id="every_4_weeks_and_every_2_apart"),
    pytest.param(rule(every_weeks=3), rule(valid_from=date(2026, 9, 9), every_weeks=2), date(2026, 9, 23),
                 id="every_3_and_every_2_meet_in_week_3"),
    pytest.param(rule(every_weeks=3, valid_until=date(2026, 9, 20)),
                 rule(valid_from=date(2026, 9, 9), every_weeks=2), None, id="common_week_after_validity"),
    pytest.param(rule(every_weeks=3), rule(valid_from=date(2026, 9, 9), valid_until=date(2026, 9, 20),
                                           every_weeks=2), None, id="common_week_after_the_other_validity"),
]


@pytest.mark.parametrize(("a", "b", "expected"), MATRIX)
def test_rules_meet_on_their_first_common_day(a: Recurrence, b: Recurrence, expected: date | None) -> None:
    assert first_meeting(a, b) == expected
    assert first_meeting(b, a) == expected  # the relation is symmetric


def test_a_rule_repeats_only_in_its_weeks() -> None:
    every_other = rule(every_weeks=2)
    assert [every_other.falls_on(day) for day in (date(2026, 9, 2), date(2026, 9, 9), date(2026, 9, 16))] == [
        True, False, True]
    assert not every_other.falls_on(date(2026, 8, 19))  # before its validity, though in its weeks
