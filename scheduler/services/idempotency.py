"""Idempotent creates: the same key and body within 24 h give the first response again."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from scheduler.db import idempotency_records as records
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
    record = await records.find(session, key_id, key)
    if record is None:
        return None
    if record.created_at < now - RETENTION:
        await records.forget(session, record)
        return None
    if record.request_hash != digest:
        raise IdempotencyKeyReused("This Idempotency-Key was already used with a different request body.")
    return StoredResponse(record.status_code, record.response_body)


async def remember(
    session: AsyncSession, key_id: str, key: str, digest: str, response: StoredResponse, now: datetime
) -> None:
    """Keep the response in the same transaction as the create it answers."""
    await records.keep(session, IdempotencyRecord(
        api_key_id=key_id, key=key, request_hash=digest, status_code=response.status_code,
        response_body=response.body, created_at=now,
    ))


async def purge(session: AsyncSession, now: datetime) -> int:
    """Forget records older than the retention; the number removed."""
    return await records.purge_older_than(session, now - RETENTION)
