"""Figures of the outbox read at scrape time: messages by status, and the oldest one due and still pending."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from scheduler.db.dialect import as_utc
from scheduler.db.outbox import PENDING, TABLE


async def count_by_status(session: AsyncSession) -> dict[str, int]:
    """How many messages the outbox holds in each status."""
    rows = await session.execute(select(TABLE.c.status, func.count()).group_by(TABLE.c.status))
    return {status: int(count) for status, count in rows.all()}


async def oldest_due_pending(session: AsyncSession, now: datetime) -> datetime | None:
    """When the oldest message due by ``now`` and still pending was due (``ix_outbox_status_due`` answers
    it)."""
    oldest = await session.scalar(
        select(func.min(TABLE.c.due_at)).where(TABLE.c.status == PENDING, TABLE.c.due_at <= now)
    )
    return as_utc(oldest) if oldest else None  # an aggregate: SQLite may give it back naive
