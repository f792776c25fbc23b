"""Interpreters as a resource of the slot engine: their free time, and booking one with an appointment."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from scheduler.db import absences
from scheduler.db import holds as hold_store
from scheduler.db import interpreters as interpreter_store
from scheduler.db import rules as rule_store
from scheduler.domain import rules as rules_mod
from scheduler.domain.calendars import holiday_calendar_key
from scheduler.domain.errors import InterpreterUnavailable
from scheduler.domain.free_time import companions_free_for, free_time
from scheduler.domain.intervals import Interval, resolve_local
from scheduler.domain.rules import WeeklyRule
from scheduler.domain.zones import zone
from scheduler.ports import HolidayCalendar

INTERPRETING = "interpreting"  # the hold's service: an interpreter's bookings all block alike
ANY_SERVICE = frozenset({INTERPRETING})


@dataclass(frozen=True, slots=True)
class Pool:
    """The interpreters of one language and their zones."""

    language: str
    zones: dict[str, str]

    @property
    def ids(self) -> list[str]:
        """The interpreters' ids."""
        return sorted(self.zones)


async def pool(session: AsyncSession, language: str) -> Pool:
    """Every interpreter of ``language``."""
    return Pool(language, await interpreter_store.zones_of_speakers(session, language))


async def free_time_of(
    session: AsyncSession, calendar: HolidayCalendar, interpreters: Pool, first: date, last: date
) -> dict[str, list[Interval]]:
    """Per interpreter of the pool, the free stretches between two local dates."""
    if not interpreters.zones:
        return {}
    weekly = await _rules(session, interpreters, first, last)
    closed = calendar.closed_days({rule.holiday_calendar for rule in weekly}, set(), first, last)
    openings = rules_mod.occurrences(weekly, first, last, closed)
    window = _window(first, last)
    holds = [
        hold_store.as_hold(row) for row in await hold_store.blocking_holds(session, interpreters.ids, window)
    ]
    return free_time(openings, holds, await absences.overlapping(session, interpreters.ids, window))


def _window(first: date, last: date) -> Interval:
    # Wide enough for every zone from UTC-12 to UTC+14.
    start = resolve_local(first, time(0), zone("Etc/GMT-14"))
    return Interval(start, resolve_local(last + timedelta(days=1), time(0), zone("Etc/GMT+12")))


async def _rules(session: AsyncSession, interpreters: Pool, first: date, last: date) -> list[WeeklyRule]:
    rows = await rule_store.of_interpreters(session, interpreters.ids, first, last)
    return [_weekly_rule(row, interpreters) for row in rows]


def _weekly_rule(row: Any, interpreters: Pool) -> WeeklyRule:
    # An interpreter's days off are the public holidays where they work: their zone's (an
    # interpreter in Réunion is off on 20 December, one in Paris is not).
    key = interpreters.zones[row.interpreter_id]
    return WeeklyRule(
        id=row.id,
        resource_id=row.interpreter_id,
        site_id=None,
        zone=zone(key),
        weekday=row.weekday,
        start_time=row.start_time,
        end_time=row.end_time,
        valid_from=row.valid_from,
        valid_until=row.valid_until,
        service_ids=ANY_SERVICE,
        holiday_calendar=holiday_calendar_key(None, key),
        every_weeks=row.every_weeks,
    )


async def take(
    session: AsyncSession, calendar: HolidayCalendar, language: str, interval: Interval,
    prefer: str | None = None,
) -> tuple[str, str] | None:
    """Hold a free interpreter of ``language`` for the whole interval: (interpreter id, hold id), or None.

    Fairness: the interpreter with the fewest bookings that week goes first (``prefer`` first of
    all, so a moved appointment keeps its interpreter when it can).
    """
    interpreters = await pool(session, language)
    day = interval.start.date()
    week_start, week_end = day - timedelta(days=day.weekday() + 1), day + timedelta(days=7 - day.weekday())
    free = await free_time_of(session, calendar, interpreters, week_start, week_end)
    candidates = companions_free_for(interval, free)
    load = await _bookings_that_week(session, candidates, _window(week_start, week_end))
    for interpreter_id in sorted(candidates, key=lambda ident: (ident != prefer, load[ident], ident)):
        hold_id = await hold_store.try_acquire(
            session, interpreter_id, "interpreter", INTERPRETING, interval, 1
        )
        if hold_id is not None:
            return interpreter_id, hold_id
    return None


async def _bookings_that_week(session: AsyncSession, ids: list[str], window: Interval) -> Counter[str]:
    rows = await hold_store.blocking_holds(session, ids, window)
    return Counter(row.resource_id for row in rows)


def unavailable(language: str, start: datetime, next_starts: list[datetime]) -> InterpreterUnavailable:
    """The 409, with the next times that would work; ``start`` in the site's zone, as the caller reads it."""
    return InterpreterUnavailable(
        f"No interpreter of language {language!r} is free for the whole appointment at {start.isoformat()}.",
        next_available=[start.isoformat() for start in next_starts],
    )
