"""Weekly rules: those offering a service (staff), those of interpreters, and the services each offers."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from functools import lru_cache
from typing import Any, Final

from sqlalchemy import Select, bindparam, delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from scheduler.db.tables import AvailabilityRule, Interpreter, RuleService, Site, Staff
from scheduler.domain.calendars import holiday_calendar_key
from scheduler.domain.rules import WeeklyRule
from scheduler.domain.zones import zone


def _of_service_statement(by_staff: bool, by_site: bool) -> Select[*tuple[Any, ...]]:
    rule = AvailabilityRule
    statement = (
        select(*map(col, (
            rule.id, rule.staff_id, rule.site_id, rule.weekday, rule.start_time, rule.end_time,
            rule.valid_from, rule.valid_until, rule.follows_school_calendar, rule.every_weeks,
            Site.timezone, Site.school_zone, Site.holiday_region,
        )))
        .join(RuleService, col(RuleService.rule_id) == col(rule.id))
        .join(Site, col(Site.id) == col(rule.site_id))
        .where(
            col(RuleService.service_id) == bindparam("service_id"),
            col(rule.valid_from) <= bindparam("last"),
            or_(col(rule.valid_until).is_(None), col(rule.valid_until) >= bindparam("first")),
        )
    )
    if by_staff:
        statement = statement.where(col(rule.staff_id) == bindparam("staff_id"))
    if by_site:
        statement = statement.where(col(rule.site_id) == bindparam("site_id"))
    return statement


# Built once per filter combination (by staff member, by site), with bound parameters: every booking runs
# them, and
# building and cache-keying a statement cost more Python than running it.
FILTERS: Final = [(by_staff, by_site) for by_staff in (False, True) for by_site in (False, True)]
OF_SERVICE: Final = {key: _of_service_statement(*key) for key in FILTERS}


async def of_service(
    session: AsyncSession, service_id: str, first: date, last: date, staff_id: str | None, site_id: str | None
) -> list[WeeklyRule]:
    """The staff rules offering the service between two local dates, of one staff member and site if named."""
    parameters = {
        "service_id": service_id,
        "first": first,
        "last": last,
        "staff_id": staff_id,
        "site_id": site_id,
    }
    rows = (await session.execute(OF_SERVICE[bool(staff_id), bool(site_id)], parameters)).all()
    return [_weekly_rule(tuple(row), service_id) for row in rows]


@lru_cache(maxsize=16384)
def _weekly_rule(row: tuple[Any, ...], service_id: str) -> WeeklyRule:
    # Keyed by the row's whole content, so an edited rule is simply another entry: the cache
    # saves rebuilding (and validating) the same rules on every search, and is never stale.
    (rule_id, staff_id, site_id, weekday, start_time, end_time, valid_from, valid_until,
     follows_school_calendar, every_weeks, timezone, school_zone, holiday_region) = row
    return WeeklyRule(
        id=rule_id,
        resource_id=staff_id,
        site_id=site_id,
        zone=zone(timezone),
        weekday=weekday,
        start_time=start_time,
        end_time=end_time,
        valid_from=valid_from,
        valid_until=valid_until,
        service_ids=frozenset({service_id}),
        follows_school_calendar=follows_school_calendar,
        holiday_calendar=holiday_calendar_key(holiday_region, timezone),
        school_zone=school_zone,
        every_weeks=every_weeks,
    )


async def of_interpreters(
    session: AsyncSession, interpreter_ids: list[str], first: date, last: date
) -> list[Any]:
    """The interpreters' rules valid between two local dates (rows: id, interpreter_id, weekday, times,
    validity)."""
    rule = AvailabilityRule
    statement = select(
        col(rule.id), col(rule.interpreter_id), col(rule.weekday), col(rule.start_time), col(rule.end_time),
        col(rule.valid_from), col(rule.valid_until), col(rule.every_weeks),
    ).where(
        col(rule.interpreter_id).in_(interpreter_ids),
        col(rule.valid_from) <= last,
        or_(col(rule.valid_until).is_(None), col(rule.valid_until) >= first),
    )
    return list((await session.execute(statement)).all())


async def of_same_person(session: AsyncSession, rule: AvailabilityRule) -> list[AvailabilityRule]:
    """The other rules of the rule's staff member (or interpreter) on its weekday, whatever the site.

    The person's row is locked first (PostgreSQL; SQLite writers are serialised already), so two
    rules written at once for one person are checked one after the other, each seeing the other.
    ``FOR NO KEY UPDATE``: the rule's own insert holds a key-share lock on that row already.
    """
    owner: type[Staff | Interpreter] = Staff if rule.staff_id is not None else Interpreter
    owner_id = rule.staff_id if rule.staff_id is not None else rule.interpreter_id
    await session.execute(select(col(owner.id)).where(col(owner.id) == owner_id)
                          .with_for_update(key_share=True))
    person = (col(AvailabilityRule.staff_id) == rule.staff_id if rule.staff_id is not None
              else col(AvailabilityRule.interpreter_id) == rule.interpreter_id)
    statement = select(AvailabilityRule).where(
        person, col(AvailabilityRule.weekday) == rule.weekday, col(AvailabilityRule.id) != rule.id,
    ).order_by(col(AvailabilityRule.id))
    return list((await session.execute(statement)).scalars().all())


async def services_of(session: AsyncSession, rule_ids: Sequence[str]) -> dict[str, list[str]]:
    """The service ids of each rule."""
    found: dict[str, list[str]] = {rule_id: [] for rule_id in rule_ids}
    if rule_ids:
        statement = select(col(RuleService.rule_id), col(RuleService.service_id)).where(
            col(RuleService.rule_id).in_(rule_ids)
        )
        for row in (await session.execute(statement)).all():
            found[row.rule_id].append(row.service_id)
    return found


async def delete_with_services(session: AsyncSession, rule_id: str) -> None:
    """Delete a rule and its links to the services it offered."""
    await session.execute(delete(RuleService).where(RuleService.rule_id == rule_id))  # type: ignore[arg-type]
    await session.execute(delete(AvailabilityRule).where(AvailabilityRule.id == rule_id))  # type: ignore[arg-type]
