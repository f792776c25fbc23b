"""Direct SQL against the hold table, to show the database (not the service) forbids overlaps."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from sqlalchemy import insert, update
from sqlalchemy.exc import IntegrityError

from scheduler.db.engine import Database
from scheduler.db.tables import HoldRecord

T = HoldRecord.__table__  # type: ignore[attr-defined]


def _row(
    ident: str, start_hour: int, end_hour: int, taken: int = 1, service: str = "svc"
) -> dict[str, object]:
    return {"id": ident, "resource_id": "staff-raw", "resource_kind": "staff", "service_id": service,
            "starts_at": datetime(2031, 1, 8, start_hour, tzinfo=UTC),
            "ends_at": datetime(2031, 1, 8, end_hour, tzinfo=UTC), "capacity": 1, "taken": taken}


async def _run(url: str) -> tuple[str, str, str, str]:
    db = Database.from_url(url)
    try:
        async with db.write() as session:
            await session.execute(insert(T).values(**_row("h1", 9, 10)))
        first = "first accepted"
        try:
            async with db.write() as session:
                await session.execute(insert(T).values(**_row("h2", 9, 11, service="other")))
            second = "second accepted"
        except IntegrityError:
            second = "second refused"
        async with db.write() as session:
            await session.execute(insert(T).values(**_row("h3", 10, 11)))
        adjacent = "adjacent accepted"
        async with db.write() as session:
            await session.execute(update(T).where(T.c.id == "h1").values(taken=0))
            await session.execute(insert(T).values(**_row("h4", 8, 10, service="other")))
        return first, second, adjacent, "cancelled block ignored"
    finally:
        await db.dispose()


def insert_overlapping_holds(url: str) -> tuple[str, str, str, str]:
    """Insert a hold, an overlapping one, an adjacent one, and one over a freed block."""
    return asyncio.run(_run(url))
