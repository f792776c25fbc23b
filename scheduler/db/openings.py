"""One-off extra openings of staff members, outside their weekly rules."""

from __future__ import annotations

from typing import Any, Final

from sqlalchemy import Select, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from scheduler.db.rules import FILTERS
from scheduler.db.tables import Opening, Site
from scheduler.domain.intervals import Interval
from scheduler.domain.rules import OpenStretch
from scheduler.domain.zones import zone


def _overlapping_statement(by_staff: bool, by_site: bool) -> Select[*tuple[Any, ...]]:
    statement = (
        select(col(Opening.staff_id), col(Opening.site_id), col(Opening.service_ids), col(Opening.start),
               col(Opening.end), col(Site.timezone))
        .join(Site, col(Site.id) == col(Opening.site_id))
        .where(col(Opening.start) < bindparam("window_end"), col(Opening.end) > bindparam("window_start"))
    )
    if by_staff:
        statement = statement.where(col(Opening.staff_id) == bindparam("staff_id"))
    if by_site:
        statement = statement.where(col(Opening.site_id) == bindparam("site_id"))
    return statement


# Built once per filter combination, with bound parameters (every booking runs one).
OVERLAPPING: Final = {key: _overlapping_statement(*key) for key in FILTERS}


async def of_service(
    session: AsyncSession, service_id: str, window: Interval, staff_id: str | None, site_id: str | None
) -> list[OpenStretch]:
    """The openings for the service that overlap the window, of one staff member and site if named."""
    parameters = {
        "window_start": window.start,
        "window_end": window.end,
        "staff_id": staff_id,
        "site_id": site_id,
    }
    return [
        OpenStretch(row.staff_id, row.site_id, Interval(row.start, row.end), zone(row.timezone),
                    frozenset(row.service_ids))
        for row in (await session.execute(OVERLAPPING[bool(staff_id), bool(site_id)], parameters)).all()
        if service_id in row.service_ids
    ]
