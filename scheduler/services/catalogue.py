"""Admin use cases on what bookings are made of: sites, staff, services, interpreters, absences
and extra openings. Each opens and owns its transaction; the controllers only bind and answer."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel

from scheduler.db import feeds as feed_store
from scheduler.db import waitlist
from scheduler.db.tables import Absence, Appointment, Closure, Interpreter, Opening, Service, Site, Staff
from scheduler.services import admin, idempotency
from scheduler.services.idempotency import Created, IdempotentRequest, StoredResponse
from scheduler.services.paging import PageOf

if TYPE_CHECKING:
    from scheduler.collaborators import Collaborators

# The ids a row may name, each checked before a write so that a dangling one is a 404 on it.
REFERENCES: dict[str, tuple[type[SQLModel], str]] = {
    "staff_id": (Staff, "staff member"),
    "interpreter_id": (Interpreter, "interpreter"),
    "site_id": (Site, "site"),
}


@dataclass(frozen=True, slots=True)
class Kind:
    """One admin table: its rows' noun, and the appointment column whose future rows forbid a delete."""

    table: type[SQLModel]
    noun: str
    needed_by: Any = None


KINDS = {
    "site": Kind(Site, "site", Appointment.site_id),
    "staff": Kind(Staff, "staff member", Appointment.staff_id),
    "service": Kind(Service, "service", Appointment.service_id),
    "interpreter": Kind(Interpreter, "interpreter", Appointment.interpreter_id),
    "absence": Kind(Absence, "absence"),
    "opening": Kind(Opening, "opening"),
    "closure": Kind(Closure, "closure"),
}


async def require_references(session: AsyncSession, fields: dict[str, Any]) -> None:
    """NotFound for the first id in ``fields`` that names no row (staff, interpreter, site, services)."""
    for name, (table, noun) in REFERENCES.items():
        if fields.get(name) is not None:
            await admin.require(session, table, fields[name], noun)
    for service_id in fields.get("service_ids") or ():
        await admin.require(session, Service, service_id, "service")


async def create(
    deps: Collaborators, kind: str, fields: dict[str, Any], request: IdempotentRequest | None,
    render: Callable[[Any], Created],
) -> Created | StoredResponse:
    """Create a row of ``kind`` and answer with ``render`` of it (replayed for a repeated key)."""
    found = KINDS[kind]
    now = deps.clock.now()

    async def operation(session: AsyncSession) -> Created:
        await require_references(session, fields)
        row = await admin.create(session, found.table(**fields, created_at=now))
        if kind == "opening":
            await waitlist.wake(session, now)  # new times for waiting families
        return render(row)

    return await idempotency.create(deps.db, request, operation, now)


async def page(
    deps: Collaborators, kind: str, cursor: str | None, limit: int, **equal: str | None
) -> PageOf[Any]:
    """A page of rows of ``kind``, keeping those whose columns equal the given values (None: any)."""
    table = KINDS[kind].table
    where = [getattr(table, name) == value for name, value in equal.items() if value]
    async with deps.db.read() as session:
        return await admin.page(session, table, cursor, limit, *where)


async def read(deps: Collaborators, kind: str, ident: str) -> Any:
    """A row of ``kind``, or NotFound."""
    found = KINDS[kind]
    async with deps.db.read() as session:
        return await admin.get(session, found.table, ident, found.noun)


async def update(deps: Collaborators, kind: str, ident: str, changes: dict[str, Any]) -> Any:
    """Change fields of a row of ``kind``, checked as a whole (see ``admin.apply_changes``)."""
    found = KINDS[kind]
    if changes.get("service_ids"):
        changes = {**changes, "service_ids": list(dict.fromkeys(changes["service_ids"]))}
    async with deps.db.write() as session:
        row = await admin.get(session, found.table, ident, found.noun)
        await require_references(session, changes)
        admin.apply_changes(row, changes)
        await session.flush()
    return row


async def delete(deps: Collaborators, kind: str, ident: str) -> None:
    """Delete a row of ``kind``; InUse while a future appointment needs it."""
    found = KINDS[kind]
    async with deps.db.write() as session:
        if found.needed_by is None:
            await session.delete(await admin.get(session, found.table, ident, found.noun))
        else:
            await admin.delete_referenced(
                session, found.table, ident, found.noun, found.needed_by, deps.clock.now()
            )
        if kind in ("staff", "site", "interpreter"):
            # A worker who leaves: the addresses of their calendar feeds stop working at once.
            await feed_store.revoke_owned(session, kind, ident, deps.clock.now())
        if kind == "absence":
            await waitlist.wake(session, deps.clock.now())  # the absent person's times are free again
