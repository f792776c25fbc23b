"""Admin resources (scope ``admin``): sites, staff and services share one CRUD shape.

Sites, services and staff are also readable with ``slots:read``, so a partner can show names
instead of ids; such a reader never sees a staff member's phone.
"""

# No ``from __future__ import annotations`` here: the handlers below are built by a factory and
# Litestar reads their annotations at runtime, so they must be real classes, not strings.

from typing import Any

from litestar import Controller, Request, delete, get, patch, post
from litestar.params import Parameter
from pydantic import BaseModel

from scheduler.api import schemas as s
from scheduler.api.auth import Principal, requires
from scheduler.api.common import Cursor, IdempotencyKey, Limit, Services, created, idempotent
from scheduler.services import catalogue


def crud_controller(
    *,
    path: str,
    kind: str,
    kinds: str,
    noun: str,
    create_schema: type[BaseModel],
    update_schema: type[BaseModel],
    out_schema: type[BaseModel],
    read_scope: str = "admin",
    hidden_from_readers: tuple[str, ...] = (),
) -> type[Controller]:
    """A controller with create, list, read, patch and delete for one admin table.

    The reads need ``read_scope``; a caller without ``admin`` gets ``hidden_from_readers`` as null.
    """
    writing = (requires("admin"),)
    reading = (requires(read_scope),)

    def out(row: Any) -> BaseModel:
        return out_schema.model_validate(row, from_attributes=True)

    def shown(row: Any, caller: Principal) -> BaseModel:
        found = out(row)
        if hidden_from_readers and not caller.allows("admin"):
            found = found.model_copy(update=dict.fromkeys(hidden_from_readers))
        return found

    class Crud(Controller):
        tags = (kinds,)

        @post("/", operation_id=f"create_{kind}", summary=f"Create a {noun}", status_code=201, guards=writing)
        async def create(
            self, request: Request[Principal, Any, Any], data: create_schema, svc: Services,  # type: ignore[valid-type]
            idempotency_key: IdempotencyKey = None,
        ) -> out_schema:  # type: ignore[valid-type]
            request_key = idempotent(request, data, idempotency_key)
            return created(await catalogue.create(svc, kind, data.model_dump(), request_key, out))  # type: ignore[attr-defined]

        @get("/", operation_id=f"list_{kinds}", summary=f"List {noun}s", guards=reading)
        async def list_rows(
            self, request: Request[Principal, Any, Any], svc: Services, limit: Limit = 100,
            cursor: Cursor = None,
        ) -> s.Page[out_schema]:  # type: ignore[valid-type]
            found = await catalogue.page(svc, kind, cursor, limit)
            return s.Page(
                items=[shown(row, request.user) for row in found.rows], next_cursor=found.next_cursor
            )

        @get("/{ident:str}", operation_id=f"get_{kind}", summary=f"Read a {noun}", guards=reading)
        async def read(
            self,
            request: Request[Principal, Any, Any],
            svc: Services,
            ident: str = Parameter(max_length=64),
        ) -> out_schema:  # type: ignore[valid-type]
            return shown(await catalogue.read(svc, kind, ident), request.user)

        @patch("/{ident:str}", operation_id=f"update_{kind}", summary=f"Change a {noun}", guards=writing)
        async def update(
            self, data: update_schema, svc: Services, ident: str = Parameter(max_length=64)  # type: ignore[valid-type]
        ) -> out_schema:  # type: ignore[valid-type]
            return out(await catalogue.update(svc, kind, ident, data.model_dump(exclude_unset=True)))  # type: ignore[attr-defined]

        @delete("/{ident:str}", operation_id=f"delete_{kind}", summary=f"Delete a {noun}", status_code=204,
                guards=writing)
        async def remove(self, svc: Services, ident: str = Parameter(max_length=64)) -> None:
            await catalogue.delete(svc, kind, ident)

    Crud.path = path
    Crud.__name__ = Crud.__qualname__ = f"{kind.title()}Controller"
    return Crud


SiteController = crud_controller(
    path="/v1/sites", kind="site", kinds="sites", noun="site", create_schema=s.SiteCreate,
    update_schema=s.SiteUpdate, out_schema=s.SiteOut, read_scope="slots:read",
)
StaffController = crud_controller(
    path="/v1/staff",
    kind="staff",
    kinds="staff",
    noun="staff member",
    create_schema=s.StaffCreate,
    update_schema=s.StaffUpdate,
    out_schema=s.StaffOut,
    read_scope="slots:read",
    hidden_from_readers=("phone",),
)
ServiceController = crud_controller(
    path="/v1/services", kind="service", kinds="services", noun="service", create_schema=s.ServiceCreate,
    update_schema=s.ServiceUpdate, out_schema=s.ServiceOut, read_scope="slots:read",
)

InterpreterController = crud_controller(
    path="/v1/interpreters", kind="interpreter", kinds="interpreters", noun="interpreter",
    create_schema=s.InterpreterCreate, update_schema=s.InterpreterUpdate, out_schema=s.InterpreterOut,
)
