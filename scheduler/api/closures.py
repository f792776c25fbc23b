"""Admin: closures of sites, and the affected appointments an absence or closure answers with."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from litestar import Controller, Request, delete, get, patch, post
from litestar.params import Parameter

from scheduler.api import schemas as s
from scheduler.api.auth import Principal, requires
from scheduler.api.common import Cursor, IdempotencyKey, Limit, Services, created, idempotent
from scheduler.domain.zones import zone
from scheduler.services import catalogue, interruptions
from scheduler.services.interruptions import CLOSURE
from scheduler.services.plan_changes import Affected, WithAffected


def affected_out(found: Sequence[Affected]) -> list[s.AffectedOut]:
    """The API view of affected appointments, each start in its site's zone."""
    return [s.AffectedOut(id=item.id, start=item.start.astimezone(zone(item.timezone)),
                          staff_id=item.staff_id, site_id=item.site_id) for item in found]


def closure_out(found: WithAffected) -> s.ClosureOut:
    """The API view of a closure, with the appointments it falls on."""
    row = found.row
    return s.ClosureOut(id=row.id, site_id=row.site_id, start=row.start, end=row.end, reason=row.reason,
                        affected_appointments=affected_out(found.affected))


class ClosureController(Controller):
    """Closures of sites (a strike, an election): no slot at the site meanwhile."""

    path = "/v1/closures"
    tags = ("availability",)
    guards = (requires("admin"),)

    @post("/", operation_id="create_closure", summary="Close a site for a time", status_code=201)
    async def create(
        self, request: Request[Principal, Any, Any], data: s.ClosureCreate, svc: Services,
        idempotency_key: IdempotencyKey = None,
    ) -> s.ClosureOut:
        request_key = idempotent(request, data, idempotency_key)
        fields = data.model_dump(exclude={"cancel_affected"})
        cancel = data.cancel_affected
        return created(await interruptions.create(svc, CLOSURE, fields, cancel, request_key, closure_out))  # type: ignore[return-value]

    @get("/", operation_id="list_closures", summary="List closures")
    async def list_closures(
        self, svc: Services, limit: Limit = 100, cursor: Cursor = None,
        site_id: str | None = Parameter(default=None, max_length=64),
    ) -> s.Page[s.ClosureOut]:
        found = await interruptions.page(svc, CLOSURE, cursor, limit, site_id=site_id)
        return s.Page(items=[closure_out(row) for row in found.rows], next_cursor=found.next_cursor)

    @get("/{closure_id:str}", operation_id="get_closure", summary="Read a closure")
    async def read(self, svc: Services, closure_id: str = Parameter(max_length=64)) -> s.ClosureOut:
        return closure_out(await interruptions.read(svc, CLOSURE, closure_id))

    @patch("/{closure_id:str}", operation_id="update_closure", summary="Change a closure")
    async def update(self, data: s.ClosureUpdate, svc: Services,
                     closure_id: str = Parameter(max_length=64)) -> s.ClosureOut:
        changes = data.model_dump(exclude_unset=True, exclude={"cancel_affected"})
        cancel = data.cancel_affected
        return closure_out(await interruptions.update(svc, CLOSURE, closure_id, changes, cancel))

    @delete("/{closure_id:str}", operation_id="delete_closure", summary="Delete a closure", status_code=204)
    async def remove(self, svc: Services, closure_id: str = Parameter(max_length=64)) -> None:
        await catalogue.delete(svc, "closure", closure_id)
