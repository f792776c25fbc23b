"""Closures of sites (a strike, an election): what a slot search subtracts from the openings there."""

from __future__ import annotations

from collections import defaultdict
from typing import Final

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from scheduler.db.tables import Closure
from scheduler.domain.intervals import Interval

# Built once, with bound parameters: every slot search and every booking runs it.
CLOSURES: Final = select(col(Closure.site_id), col(Closure.start), col(Closure.end)).where(
    col(Closure.site_id).in_(bindparam("ids", expanding=True)),
    col(Closure.start) < bindparam("window_end"),
    col(Closure.end) > bindparam("window_start"),
)


async def overlapping(
    session: AsyncSession, site_ids: list[str], window: Interval
) -> dict[str, list[Interval]]:
    """Per site, the closures that overlap the window."""
    if not site_ids:
        return {}
    rows = await session.execute(CLOSURES, {"ids": site_ids, "window_start": window.start,
                                            "window_end": window.end})
    closed: dict[str, list[Interval]] = defaultdict(list)
    for row in rows.all():
        closed[row.site_id].append(Interval(row.start, row.end))
    return closed
