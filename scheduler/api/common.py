"""What every controller shares: injected services, limits, and idempotent creates."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from litestar import Request, Response
from litestar.datastructures import State
from litestar.params import HeaderParameter, Parameter
from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from scheduler.api.auth import Principal
from scheduler.collaborators import Collaborators
from scheduler.domain.errors import ConflictError
from scheduler.services import idempotency

Limit = Annotated[int, Parameter(ge=1, le=500, description="Page size, at most 500.")]
Cursor = Annotated[str | None, Parameter(max_length=200, description="next_cursor of the previous page.")]
IdempotencyKey = Annotated[
    str | None,
    HeaderParameter(name="Idempotency-Key", max_length=200, required=False,
              description="Retrying with the same key and body within 24 h returns the first response."),
]


__all__ = ["Collaborators", "Cursor", "IdempotencyKey", "Limit", "create_idempotently", "services"]


def services(state: State) -> Collaborators:
    """Dependency: the app's collaborators."""
    found: Collaborators = state.services
    return found


Operation = Callable[[AsyncSession], Awaitable[BaseModel]]


async def create_idempotently(
    request: Request[Principal, Any, Any], svc: Collaborators, body: BaseModel, key: str | None, operation: Operation
) -> Response[Any]:
    """Run a create in one transaction, remembering its response under the Idempotency-Key."""
    if not key:
        async with svc.db.write() as session:
            created = await operation(session)
        return Response(created, status_code=201)
    principal = request.user
    digest = idempotency.request_hash(request.method, request.url.path, body.model_dump(mode="json"))
    now = svc.clock.now()
    try:
        async with svc.db.write() as session:
            stored = await idempotency.replay(session, principal.key_id, key, digest, now)
            if stored is None:
                created = await operation(session)
                stored = idempotency.StoredResponse(201, created.model_dump_json())
                await idempotency.remember(session, principal.key_id, key, digest, stored, now)
    except (IntegrityError, ConflictError):
        # A concurrent request with the same key may have won: answer as it did.
        async with svc.db.read() as session:
            stored = await idempotency.replay(session, principal.key_id, key, digest, now)
        if stored is None:
            raise
    return Response(stored.body.encode(), status_code=stored.status_code, media_type="application/json")
