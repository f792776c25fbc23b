"""Holds: the rows through which the database itself refuses double bookings."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Insert, and_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from scheduler.db.tables import Hold, new_id
from scheduler.domain.intervals import Interval

hold_table = Hold.__table__  # type: ignore[attr-defined]


def dialect_insert(session: AsyncSession, table: Any) -> Insert:
    """An INSERT that knows ON CONFLICT for the session's database."""
    name = session.bind.dialect.name
    return (postgresql.insert(table) if name == "postgresql" else sqlite.insert(table))  # type: ignore[return-value]


async def acquire(
    session: AsyncSession, resource_id: str, kind: str, service_id: str, interval: Interval, capacity: int
) -> str | None:
    """Take one place on the resource's block at ``interval``; the hold id, or None when full.

    The block row is created if missing, then its count raised only while below capacity:
    one conditional UPDATE, so concurrent bookings of the last place cannot both succeed.
    An overlapping block of the same resource makes the database raise (exclusion constraint
    or trigger); the caller runs this inside a savepoint and treats that as "not free".
    """
    insert = dialect_insert(session, hold_table).values(
        id=new_id(),
        resource_id=resource_id,
        resource_kind=kind,
        service_id=service_id,
        starts_at=interval.start,
        ends_at=interval.end,
        capacity=capacity,
        taken=0,
    )
    await session.execute(insert.on_conflict_do_nothing(index_elements=["resource_id", "service_id", "starts_at"]))
    taken = (
        update(hold_table)
        .where(
            and_(
                hold_table.c.resource_id == resource_id,
                hold_table.c.service_id == service_id,
                hold_table.c.starts_at == interval.start,
                hold_table.c.ends_at == interval.end,
                hold_table.c.taken < hold_table.c.capacity,
            )
        )
        .values(taken=hold_table.c.taken + 1)
        .returning(hold_table.c.id)
    )
    return (await session.execute(taken)).scalar_one_or_none()


async def try_acquire(
    session: AsyncSession, resource_id: str, kind: str, service_id: str, interval: Interval, capacity: int
) -> str | None:
    """``acquire`` inside a savepoint: an overlap refused by the database gives None, not an error."""
    try:
        async with session.begin_nested():
            return await acquire(session, resource_id, kind, service_id, interval, capacity)
    except IntegrityError:
        return None


async def release(session: AsyncSession, hold_id: str) -> None:
    """Give back one place of a hold."""
    await session.execute(
        update(hold_table)
        .where(and_(hold_table.c.id == hold_id, hold_table.c.taken > 0))
        .values(taken=hold_table.c.taken - 1)
    )


async def blocking_holds(
    session: AsyncSession, resource_ids: list[str], window: Interval
) -> list[Any]:
    """Holds that block any of the resources during the window."""
    if not resource_ids:
        return []
    query = select(
        hold_table.c.resource_id,
        hold_table.c.service_id,
        hold_table.c.starts_at,
        hold_table.c.ends_at,
        hold_table.c.taken,
        hold_table.c.capacity,
    ).where(
        hold_table.c.resource_id.in_(resource_ids),
        hold_table.c.taken > 0,
        hold_table.c.starts_at < window.end,
        hold_table.c.ends_at > window.start,
    )
    return list((await session.execute(query)).all())
