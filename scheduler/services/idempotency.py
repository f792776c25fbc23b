"""Idempotent creates: the same key and body within 24 h give the first response again."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from scheduler.db import idempotency_records as records
from scheduler.db.tables import IdempotencyRecord
from scheduler.domain.errors import ConflictError, IdempotencyKeyReused

if TYPE_CHECKING:
    from scheduler.db.engine import Database

RETENTION = timedelta(hours=24)
CREATED = 201


class Answer(Protocol):
    """What a create answers: a response schema, which can write itself as JSON."""

    def model_dump_json(self) -> str: ...  # pragma: no cover - a protocol


Created = TypeVar("Created", bound=Answer)
Operation = Callable[[AsyncSession], Awaitable[Created]]


@dataclass(frozen=True, slots=True)
class IdempotentRequest:
    """A create sent with an Idempotency-Key: whose key, which key, and a digest of the request."""

    key_id: str
    key: str
    digest: str


@dataclass(frozen=True, slots=True)
class StoredResponse:
    """A response kept for replay."""

    status_code: int
    body: str


def request_hash(method: str, path: str, body: Any) -> str:
    """A digest of what was asked: the operation's half, then the canonical JSON body's half.

    Two halves, so that a key reused on another operation is told apart from a key reused with
    another body (the column keeps 64 hex characters, as before).
    """
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    operation = hashlib.sha256(f"{method} {path}".encode()).hexdigest()[:32]
    return operation + hashlib.sha256(canonical.encode()).hexdigest()[:32]


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
    if record.request_hash[:32] != digest[:32]:
        raise IdempotencyKeyReused(
            "This Idempotency-Key was already used for another operation (another method or path).")
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


async def create(
    db: Database, request: IdempotentRequest | None, operation: Operation[Created], now: datetime
) -> Created | StoredResponse:
    """Run a create in one transaction, remembering its answer under the Idempotency-Key.

    Without a key, the fresh answer; with one, the stored answer (the first one, on a retry).
    """
    if request is None:
        async with db.write() as session:
            return await operation(session)
    try:
        async with db.write() as session:
            stored = await replay(session, request.key_id, request.key, request.digest, now)
            if stored is None:
                stored = StoredResponse(CREATED, (await operation(session)).model_dump_json())
                await remember(session, request.key_id, request.key, request.digest, stored, now)
    except (IntegrityError, ConflictError):
        # A concurrent request with the same key may have won: answer as it did.
        async with db.read() as session:
            stored = await replay(session, request.key_id, request.key, request.digest, now)
        if stored is None:
            raise
    return stored
