"""Idempotency records: the first response to a create, found by API key and Idempotency-Key."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from scheduler.db.tables import IdempotencyRecord


async def find(session: AsyncSession, key_id: str, key: str) -> IdempotencyRecord | None:
    """The record of this API key's Idempotency-Key, if any."""
    statement = select(IdempotencyRecord).where(
        col(IdempotencyRecord.api_key_id) == key_id, col(IdempotencyRecord.key) == key
    )
    record: IdempotencyRecord | None = (await session.execute(statement)).scalar_one_or_none()
    return record


async def forget(session: AsyncSession, record: IdempotencyRecord) -> None:
    """Delete one record now (the key may be used again in the same transaction)."""
    await session.delete(record)
    await session.flush()


async def keep(session: AsyncSession, record: IdempotencyRecord) -> None:
    """Write a new record in the caller's transaction."""
    session.add(record)
    await session.flush()


async def purge_older_than(session: AsyncSession, before: datetime) -> int:
    """Delete the records created before ``before``; how many."""
    result = await session.execute(
        delete(IdempotencyRecord).where(IdempotencyRecord.created_at < before)  # type: ignore[arg-type]
    )
    return int(getattr(result, "rowcount", 0) or 0)
