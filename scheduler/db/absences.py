"""Absences of staff members and interpreters: what a slot search subtracts from their openings."""

from __future__ import annotations

from collections import defaultdict
from typing import Final

from sqlalchemy import bindparam, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from scheduler.db.tables import Absence, AvailabilityRule, Interpreter, Site
from scheduler.domain.intervals import Interval

# Built once, with bound parameters (the ids as one expanding IN): every slot search and every
# booking runs it, and building a statement cost more Python than running it.
ABSENCES: Final = select(
    func.coalesce(col(Absence.staff_id), col(Absence.interpreter_id)).label("resource_id"),
    col(Absence.start), col(Absence.end),
).where(
    or_(col(Absence.staff_id).in_(bindparam("ids", expanding=True)),
        col(Absence.interpreter_id).in_(bindparam("ids", expanding=True))),
    col(Absence.start) < bindparam("window_end"),
    col(Absence.end) > bindparam("window_start"),
)


async def overlapping(
    session: AsyncSession, resource_ids: list[str], window: Interval
) -> dict[str, list[Interval]]:
    """Per staff member or interpreter, the absences that overlap the window."""
    if not resource_ids:
        return {}
    rows = await session.execute(ABSENCES, {"ids": resource_ids, "window_start": window.start,
                                            "window_end": window.end})
    busy: dict[str, list[Interval]] = defaultdict(list)
    for row in rows.all():
        busy[row.resource_id].append(Interval(row.start, row.end))
    return busy


async def owner_zones(
    session: AsyncSession, staff_ids: set[str], interpreter_ids: set[str]
) -> dict[str, str]:
    """The time zone an absence's owner is read in, per staff member or interpreter id.

    An interpreter's own zone; a staff member (who has none) the zone of the site of their
    latest weekly rule. Staff members without a rule are left out (their absences stay in UTC).
    """
    zones: dict[str, str] = {}
    if interpreter_ids:
        found = await session.execute(select(col(Interpreter.id), col(Interpreter.timezone))
                                      .where(col(Interpreter.id).in_(interpreter_ids)))
        zones.update({ident: zone for ident, zone in found.all()})
    if staff_ids:
        found = await session.execute(
            select(col(AvailabilityRule.staff_id), col(Site.timezone))
            .join(Site, col(Site.id) == col(AvailabilityRule.site_id))
            .where(col(AvailabilityRule.staff_id).in_(staff_ids))
            .order_by(col(AvailabilityRule.valid_from).desc(), col(AvailabilityRule.id)))
        for ident, zone in found.all():
            zones.setdefault(ident, zone)
    return zones
