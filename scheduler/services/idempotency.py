"""Idempotent creates: the same key and body within 24 h give the first response again."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from scheduler.db import idempotency_records as records
from scheduler.db.tables import IdempotencyRecord
from scheduler.domain.errors import ConflictError, IdempotencyKeyReused

if TYPE_CHECKING:
    from scheduler.db.engine import Database

RETENTION = timedelta(hours=24)
CREATED = 201
SECRET_NOT_KEPT = 409
# Fields that hold a secret in any create's answer (an API key, a feed's token and address, a
# webhook's signing secret, a report's link), besides those a schema names in ``secret_fields``.
SECRET_FIELD_NAMES = frozenset({"key", "token", "url", "secret", "signing_secret", "link", "download_url"})


class Answer(Protocol):
    """What a create answers: a response schema, which can write itself as JSON."""

    def model_dump_json(self) -> str: ...  # pragma: no cover - a protocol

    def model_dump(self, *, mode: str) -> dict[str, Any]: ...  # pragma: no cover - a protocol


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


class SecretHolder(Protocol):
    """A response schema that names the fields holding a secret shown only once."""

    secret_fields: ClassVar[frozenset[str]]


def to_keep(answer: Answer) -> StoredResponse:
    """What is kept for a replay of a fresh answer: the answer itself, or, when it holds a secret,
    a 409 ``secret-not-replayed`` problem with the created object less its secrets.

    Only a hash of a secret is ever stored: a replay cannot give the secret again.
    """
    fields = answer.model_dump(mode="json")
    secrets = (frozenset(getattr(answer, "secret_fields", ())) | SECRET_FIELD_NAMES) & fields.keys()
    if not secrets:
        return StoredResponse(CREATED, answer.model_dump_json())
    created = {name: value for name, value in fields.items() if name not in secrets}
    problem = {
        "type": "https://creneau.fr/problems/secret-not-replayed", "title": "Secret not replayed",
        "status": SECRET_NOT_KEPT, "code": "secret-not-replayed",
        "detail": "This Idempotency-Key already created the object below; its secret was shown once and is "
                  "not kept. Revoke it and create another one if the first answer was lost.",
        "created": created,
    }
    return StoredResponse(SECRET_NOT_KEPT, json.dumps(problem, separators=(",", ":")))


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

    Without a key or on the first request, the fresh answer; on a retry, the stored answer
    (the first one, or a 409 when the first one held a secret: see ``to_keep``).
    """
    if request is None:
        async with db.write() as session:
            return await operation(session)
    try:
        async with db.write() as session:
            stored = await replay(session, request.key_id, request.key, request.digest, now)
            if stored is None:
                answer = await operation(session)
                await remember(session, request.key_id, request.key, request.digest, to_keep(answer), now)
                return answer
    except (IntegrityError, ConflictError):
        # A concurrent request with the same key may have won: answer as it did.
        async with db.read() as session:
            stored = await replay(session, request.key_id, request.key, request.digest, now)
        if stored is None:
            raise
    return stored
