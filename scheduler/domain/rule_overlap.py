"""When two weekly rules of one person meet: the same day at intersecting times, whatever the site.

One person cannot be at two schools at 09:00: two rules of one staff member (or interpreter)
whose occurrences can fall on the same day at intersecting hours are refused. Travel time
between sites is the coordinator's to plan, so rules that merely touch (12:00 end, 12:00
start) do not meet.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time, timedelta
from math import lcm

from scheduler.domain.rules import falls_on, first_day


@dataclass(frozen=True, slots=True)
class Recurrence:
    """When a rule repeats: a weekday, its hours, its validity and its rhythm in weeks."""

    weekday: int
    start_time: time
    end_time: time
    valid_from: date
    valid_until: date | None = None
    every_weeks: int = 1

    def falls_on(self, day: date) -> bool:
        """True when the rule is in force and repeats on ``day``."""
        in_force = self.valid_from <= day and (self.valid_until is None or day <= self.valid_until)
        return in_force and falls_on(self.weekday, self.every_weeks, self.valid_from, day)


def hours_intersect(a: Recurrence, b: Recurrence) -> bool:
    """True when the two rules' hours share a moment (touching ends do not)."""
    return a.start_time < b.end_time and b.start_time < a.end_time


def first_meeting(a: Recurrence, b: Recurrence) -> date | None:
    """The first day both rules fall on with intersecting hours, or None if they never meet.

    Both rules repeat with a period of whole weeks, so their common days repeat every
    ``lcm`` of the two periods: one such stretch from the later start tells.
    """
    if a.weekday != b.weekday or not hours_intersect(a, b):
        return None
    start = max(a.valid_from, b.valid_from)
    day = first_day(a.weekday, a.every_weeks, a.valid_from, start)
    for _ in range(lcm(a.every_weeks, b.every_weeks) // a.every_weeks):
        if not a.falls_on(day):
            return None  # past a's validity
        if b.falls_on(day):
            return day
        day += timedelta(weeks=a.every_weeks)
    return None
