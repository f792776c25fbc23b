"""Set-up rows (sites, staff, services, rules, absences, openings, keys) read and deleted alike."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel

Row = TypeVar("Row", bound=SQLModel)


async def page_by_id(
    session: AsyncSession, table: type[Row], after_id: str | None, limit: int, *where: Any
) -> list[Row]:
    """Up to ``limit + 1`` rows matching ``where``, ordered by id, after ``after_id`` (ids are opaque: the
    order is merely stable)."""
    column = table.id  # type: ignore[attr-defined]
    statement = select(table).where(*where).order_by(column).limit(limit + 1)
    if after_id is not None:
        statement = statement.where(column > after_id)
    return list((await session.execute(statement)).scalars().all())


async def delete_unreferenced(session: AsyncSession, row: SQLModel) -> bool:
    """Delete ``row`` unless another row still references it (then nothing changes): whether it went."""
    try:
        async with session.begin_nested():
            await session.delete(row)
            await session.flush()
    except IntegrityError:
        return False
    return True
