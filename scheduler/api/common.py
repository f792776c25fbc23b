"""What every controller shares: injected services, limits, and idempotent creates."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Response
from litestar.di import NamedDependency
from litestar.params import HeaderParameter, Parameter
from pydantic import BaseModel

from scheduler.api.auth import Principal
from scheduler.collaborators import Collaborators
from scheduler.services import access, idempotency
from scheduler.services.idempotency import IdempotentRequest, StoredResponse

Limit = Annotated[int, Parameter(ge=1, le=500, description="Page size, at most 500.")]
Cursor = Annotated[str | None, Parameter(max_length=200, description="next_cursor of the previous page.")]
IdempotencyKey = Annotated[
    str | None,
    HeaderParameter(name="Idempotency-Key", max_length=200, required=False,
              description="Retrying with the same key and body within 24 h returns the first response."),
]


Services = NamedDependency[Collaborators]
"""A handler's ``svc`` parameter: the ``services`` dependency below, named as such (Litestar 3 no
longer takes a parameter for a dependency because of its name alone)."""


__all__ = ["Collaborators", "Cursor", "IdempotencyKey", "Limit", "Services", "created", "idempotent",
           "services"]


def services(request: Request[Any, Any, Any]) -> Collaborators:
    """Dependency: the app's collaborators, as the caller may use them (a key limited to some sites
    works on a database that sees those sites only: ``scheduler.db.access``)."""
    found: Collaborators = request.app.state.services
    caller = request.scope.get("user")
    return access.for_caller(found, caller if isinstance(caller, Principal) else None)


def idempotent(
    request: Request[Principal, Any, Any], body: BaseModel, key: str | None
) -> IdempotentRequest | None:
    """The Idempotency-Key of a create with what it asks, or None when the client sent no key."""
    if not key:
        return None
    digest = idempotency.request_hash(request.method, request.url.path, body.model_dump(mode="json"))
    return IdempotentRequest(request.user.key_id, key, digest)


def created(answer: BaseModel | StoredResponse) -> Response[Any]:
    """The response of a create: the fresh schema, or the stored JSON of an idempotent one."""
    if isinstance(answer, StoredResponse):
        media_type = "application/problem+json" if answer.status_code >= 400 else "application/json"
        return Response(answer.body.encode(), status_code=answer.status_code, media_type=media_type)
    return Response(answer, status_code=201)
