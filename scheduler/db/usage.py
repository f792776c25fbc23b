"""When a key was last used and a feed last fetched: one UPDATE each, written at most once a minute."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from scheduler.db.tables import ApiKey, Feed


async def key_used(session: AsyncSession, key_id: str, at: datetime) -> None:
    """Note that the key ``key_id`` was used at ``at``."""
    await session.execute(update(ApiKey).where(col(ApiKey.id) == key_id).values(last_used_at=at))


async def feed_fetched(session: AsyncSession, feed_id: str, at: datetime) -> None:
    """Note that the feed ``feed_id`` was fetched at ``at``."""
    await session.execute(update(Feed).where(col(Feed.id) == feed_id).values(last_fetched_at=at))
