"""Idempotent creates: the same key and body within 24 h give the first response again."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from scheduler.db.tables import IdempotencyRecord
from scheduler.domain.errors import IdempotencyKeyReused

RETENTION = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class StoredResponse:
    """A response kept for replay."""

    status_code: int
    body: str


def request_hash(method: str, path: str, body: Any) -> str:
    """A digest of what was asked: the same operation with the same canonical JSON body."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{method} {path}\n{canonical}".encode()).hexdigest()


async def replay(
    session: AsyncSession, key_id: str, key: str, digest: str, now: datetime
) -> StoredResponse | None:
    """The stored response for this key, None if there is none, or IdempotencyKeyReused."""
    statement = select(IdempotencyRecord).where(
        col(IdempotencyRecord.api_key_id) == key_id, col(IdempotencyRecord.key) == key
    )
    record = (await session.execute(statement)).scalar_one_or_none()
    if record is None:
        return None
    if record.created_at < now - RETENTION:
        await session.delete(record)
        await session.flush()
        return None
    if record.request_hash != digest:
        raise IdempotencyKeyReused("This Idempotency-Key was already used with a different request body.")
    return StoredResponse(record.status_code, record.response_body)


async def remember(
    session: AsyncSession, key_id: str, key: str, digest: str, response: StoredResponse, now: datetime
) -> None:
    """Keep the response in the same transaction as the create it answers."""
    session.add(
        IdempotencyRecord(
            api_key_id=key_id, key=key, request_hash=digest, status_code=response.status_code,
            response_body=response.body, created_at=now,
        )
    )
    await session.flush()


async def purge(session: AsyncSession, now: datetime) -> int:
    """Forget records older than the retention; the number removed."""
    result = await session.execute(
        delete(IdempotencyRecord).where(IdempotencyRecord.created_at < now - RETENTION)  # type: ignore[arg-type]
    )
    return int(getattr(result, "rowcount", 0) or 0)
