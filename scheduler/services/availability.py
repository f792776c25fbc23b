"""Free slots of a service: load everything in four queries, then call the pure engine."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from scheduler.db import holds as hold_store
from scheduler.db.tables import AvailabilityRule, Opening, RuleService, Service, Site
from scheduler.domain import rules as rules_mod
from scheduler.domain.errors import NotFound
from scheduler.domain.free_time import with_free_companion
from scheduler.domain.intervals import Interval, resolve_local
from scheduler.domain.rules import WeeklyRule
from scheduler.domain.slots import ServiceSpec, Slot, free_slots
from scheduler.ports import HolidayCalendar, holiday_calendar_key
from scheduler.services import interpreters
from scheduler.services.resources import absences, hold_of, zone


@dataclass(frozen=True, slots=True)
class SlotQuery:
    """What a caller asks for: a service's free slots on a range of local dates."""

    service_id: str
    first: date
    last: date
    staff_id: str | None = None
    site_id: str | None = None
    interpreter_language: str | None = None


def service_spec(row: Service) -> ServiceSpec:
    """The engine's view of a service row."""
    return ServiceSpec(
        id=row.id,
        duration=timedelta(minutes=row.duration_minutes),
        capacity=row.capacity,
        min_notice=timedelta(minutes=row.min_notice_minutes),
        horizon=timedelta(days=row.horizon_days),
    )


async def get_service(session: AsyncSession, service_id: str) -> Service:
    """The service row, or NotFound."""
    row = await session.get(Service, service_id)
    if row is None:
        raise NotFound("service", service_id)
    return row


async def find_slots(
    session: AsyncSession, calendar: HolidayCalendar, query: SlotQuery, now: datetime
) -> list[Slot]:
    """Free slots of ``query.service_id`` between two local dates, ordered by start then staff."""
    spec = service_spec(await get_service(session, query.service_id))
    weekly = await _weekly_rules(session, query)
    zones = {rule.zone for rule in weekly} or {zone("Europe/Paris")}
    window = _window(query.first, query.last, zones)
    extra = await _extra_openings(session, query, window)
    staff_ids = sorted({rule.resource_id for rule in weekly} | {o.resource_id for o in extra})
    closed = calendar.closed_days(
        {rule.holiday_calendar for rule in weekly},
        {rule.school_zone for rule in weekly if rule.follows_school_calendar and rule.school_zone},
        query.first,
        query.last,
    )
    openings = rules_mod.occurrences(weekly, query.first, query.last, closed) + extra
    holds = [hold_of(row) for row in await hold_store.blocking_holds(session, staff_ids, window)]
    busy = await absences(session, staff_ids, window)
    slots = free_slots(openings, holds, busy, spec, window, now)
    if query.interpreter_language and slots:
        pool = await interpreters.pool(session, query.interpreter_language)
        free = await interpreters.free_time_of(session, calendar, pool, query.first, query.last)
        slots = with_free_companion(slots, free)
    return slots


def _window(first: date, last: date, zones: set[ZoneInfo]) -> Interval:
    starts = [resolve_local(first, time(0), z) for z in zones]
    ends = [resolve_local(last + timedelta(days=1), time(0), z) for z in zones]
    return Interval(min(starts), max(ends))


async def _weekly_rules(session: AsyncSession, query: SlotQuery) -> list[WeeklyRule]:
    rule = AvailabilityRule
    statement = (
        select(
            rule.id, rule.staff_id, rule.site_id, rule.weekday, rule.start_time, rule.end_time,
            rule.valid_from, rule.valid_until, rule.follows_school_calendar,
            Site.timezone, Site.school_zone, Site.holiday_region,
        )
        .join(RuleService, RuleService.rule_id == rule.id)  # type: ignore[arg-type]
        .join(Site, Site.id == rule.site_id)  # type: ignore[arg-type]
        .where(
            RuleService.service_id == query.service_id,
            rule.valid_from <= query.last,
            or_(rule.valid_until.is_(None), rule.valid_until >= query.first),  # type: ignore[union-attr]
        )
    )
    if query.staff_id:
        statement = statement.where(rule.staff_id == query.staff_id)
    if query.site_id:
        statement = statement.where(rule.site_id == query.site_id)
    return [_weekly_rule(row, query.service_id) for row in (await session.execute(statement)).all()]


def _weekly_rule(row: Any, service_id: str) -> WeeklyRule:
    return WeeklyRule(
        id=row.id,
        resource_id=row.staff_id,
        site_id=row.site_id,
        zone=zone(row.timezone),
        weekday=row.weekday,
        start_time=row.start_time,
        end_time=row.end_time,
        valid_from=row.valid_from,
        valid_until=row.valid_until,
        service_ids=frozenset({service_id}),
        follows_school_calendar=row.follows_school_calendar,
        holiday_calendar=holiday_calendar_key(row.holiday_region, row.timezone),
        school_zone=row.school_zone,
    )


async def _extra_openings(session: AsyncSession, query: SlotQuery, window: Interval) -> list[rules_mod.Opening]:
    statement = (
        select(Opening.staff_id, Opening.site_id, Opening.service_ids, Opening.start, Opening.end, Site.timezone)
        .join(Site, Site.id == Opening.site_id)  # type: ignore[arg-type]
        .where(Opening.start < window.end, Opening.end > window.start)
    )
    if query.staff_id:
        statement = statement.where(Opening.staff_id == query.staff_id)
    if query.site_id:
        statement = statement.where(Opening.site_id == query.site_id)
    return [
        rules_mod.Opening(row.staff_id, row.site_id, Interval(row.start, row.end), zone(row.timezone),
                          frozenset(row.service_ids))
        for row in (await session.execute(statement)).all()
        if query.service_id in row.service_ids
    ]
