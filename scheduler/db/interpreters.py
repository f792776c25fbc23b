"""Interpreters of the pool: who speaks a language, and where they work (their zone)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from scheduler.db.tables import Interpreter


async def zones_of_speakers(session: AsyncSession, language: str) -> dict[str, str]:
    """Each interpreter of ``language`` and their zone (the pool is small: the filter runs in Python on a
    JSON list)."""
    statement = select(col(Interpreter.id), col(Interpreter.languages), col(Interpreter.timezone))
    rows = (await session.execute(statement)).all()
    return {row.id: row.timezone for row in rows if language in row.languages}
