"""Weekly availability rules and the concrete openings they give on a range of days."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from scheduler.domain.calendars import ClosedDays
from scheduler.domain.intervals import Interval, resolve_local


@dataclass(frozen=True, slots=True)
class WeeklyRule:
    """Every ``weekday`` (1 = Monday) a resource is available from ``start_time`` to ``end_time``.

    ``resource_id`` is a staff member or an interpreter: both go through the same engine.
    """

    id: str
    resource_id: str
    site_id: str | None
    zone: ZoneInfo
    weekday: int
    start_time: time
    end_time: time
    valid_from: date
    valid_until: date | None = None
    service_ids: frozenset[str] = field(default_factory=frozenset)
    follows_school_calendar: bool = False
    holiday_calendar: str = "FR"
    school_zone: str | None = None
    every_weeks: int = 1

    def __post_init__(self) -> None:
        if not 1 <= self.weekday <= 7:
            raise ValueError(f"weekday must be 1 (Monday) to 7 (Sunday), not {self.weekday}")
        if not 1 <= self.every_weeks <= MAX_EVERY_WEEKS:
            raise ValueError(f"every_weeks must be 1 to {MAX_EVERY_WEEKS}, not {self.every_weeks}")
        if self.end_time <= self.start_time:
            raise ValueError("a rule must end after it starts on the same day")
        if self.valid_until is not None and self.valid_until < self.valid_from:
            raise ValueError("valid_until is before valid_from")

    def applies_on(self, day: date) -> bool:
        """True when the rule is in force and falls on ``day`` (holidays aside)."""
        in_force = self.valid_from <= day and (self.valid_until is None or day <= self.valid_until)
        return in_force and falls_on(self.weekday, self.every_weeks, self.valid_from, day)

    def offers(self, service_id: str) -> bool:
        """True when the rule's time may be booked for ``service_id``."""
        return service_id in self.service_ids


@dataclass(frozen=True, slots=True)
class OpenStretch:
    """A concrete stretch of availability of one resource at one site."""

    resource_id: str
    site_id: str | None
    interval: Interval
    zone: ZoneInfo
    service_ids: frozenset[str] = field(default_factory=frozenset)


MAX_EVERY_WEEKS = 4


def falls_on(weekday: int, every_weeks: int, valid_from: date, day: date) -> bool:
    """True when ``day`` is the weekday and in one of the weeks counted from ``valid_from``'s week."""
    return day.isoweekday() == weekday and (_monday(day) - _monday(valid_from)).days % (7 * every_weeks) == 0


def first_day(weekday: int, every_weeks: int, valid_from: date, on_or_after: date) -> date:
    """The first day at or after ``on_or_after`` (and ``valid_from``) on which such a rule falls."""
    anchor = _monday(valid_from) + timedelta(days=weekday - 1)  # the rule's day in its first week
    period = 7 * every_weeks
    begin = max(on_or_after, valid_from)
    behind = (begin - anchor).days
    return anchor + timedelta(days=-(-behind // period) * period) if behind > 0 else anchor


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def days(first: date, last: date) -> Iterator[date]:
    """Every day from ``first`` to ``last``, both included."""
    for offset in range((last - first).days + 1):
        yield first + timedelta(days=offset)


def is_closed(rule: WeeklyRule, day: date, closed: ClosedDays) -> bool:
    """True when a public holiday, or a school holiday for a school-calendar rule, cancels the rule."""
    if closed.is_public_holiday(rule.holiday_calendar, day):
        return True
    return rule.follows_school_calendar and closed.is_school_holiday(rule.school_zone, day)


def occurrences(
    rules: Iterable[WeeklyRule], first: date, last: date, closed: ClosedDays
) -> list[OpenStretch]:
    """The openings the rules give from ``first`` to ``last`` (local dates of each rule's zone)."""
    openings: list[OpenStretch] = []
    for rule in rules:
        for day in rule_days(rule, first, last):
            if not is_closed(rule, day, closed):
                opening = _opening(rule, day)
                if opening is not None:
                    openings.append(opening)
    return openings


def rule_days(rule: WeeklyRule, first: date, last: date) -> Iterator[date]:
    """The days from ``first`` to ``last`` on which the rule is in force and falls (holidays aside)."""
    end = last if rule.valid_until is None else min(last, rule.valid_until)
    day = first_day(rule.weekday, rule.every_weeks, rule.valid_from, first)
    step = timedelta(weeks=rule.every_weeks)
    while day <= end:
        yield day
        day += step


def _opening(rule: WeeklyRule, day: date) -> OpenStretch | None:
    start = _instant(day, rule.start_time, rule.zone)
    end = _instant(day, rule.end_time, rule.zone)
    if end <= start:  # real time (both are UTC), not wall time
        # A rule lying in a spring-forward gap (02:15-03:00 in Paris on the last Sunday of
        # March) starts, once moved past the gap, at or after its end: that night the clock
        # never shows its hours, so it opens nothing (an empty Interval would raise).
        return None
    return OpenStretch(
        rule.resource_id, rule.site_id, Interval.of_utc(start, end), rule.zone, rule.service_ids
    )


@lru_cache(maxsize=8192)
def _instant(day: date, at: time, zone: ZoneInfo) -> datetime:
    # Hundreds of rules share a few wall times and zones: resolve each (day, time, zone) once.
    return resolve_local(day, at, zone).astimezone(UTC)


def local_dates(instants: Sequence[datetime], zone: ZoneInfo) -> set[date]:
    """The local calendar dates of instants in a zone."""
    return {instant.astimezone(zone).date() for instant in instants}
