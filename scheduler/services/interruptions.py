"""Admin use cases on absences and site closures: each answer lists the active appointments the
absence or closure falls on, and with ``cancel`` cancels them in the same transaction."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from scheduler.db import affected_appointments as affected_store
from scheduler.db.tables import Absence, Closure
from scheduler.domain.intervals import Interval
from scheduler.services import absences, admin, catalogue, idempotency, plan_changes
from scheduler.services.idempotency import Created, IdempotentRequest, StoredResponse
from scheduler.services.paging import PageOf
from scheduler.services.plan_changes import Change, WithAffected

if TYPE_CHECKING:
    from datetime import datetime

    from scheduler.collaborators import Collaborators


@dataclass(frozen=True, slots=True)
class Interruption:
    """A table of times that fall on appointments: its catalogue kind and what a row falls on."""

    kind: str
    change: Callable[[Any], Change]


def _absence_change(row: Absence) -> Change:
    why = f"Absence: {row.reason}" if row.reason else "Absence"
    whose = affected_store.of_person(row.staff_id, row.interpreter_id)
    return Change(whose, Interval(row.start, row.end), why)


def _closure_change(row: Closure) -> Change:
    why = f"Site closed: {row.reason}" if row.reason else "Site closed"
    return Change(affected_store.at_site(row.site_id), Interval(row.start, row.end), why)


ABSENCE = Interruption("absence", _absence_change)
CLOSURE = Interruption("closure", _closure_change)


async def create(
    deps: Collaborators, of: Interruption, fields: dict[str, Any], cancel: bool,
    request: IdempotentRequest | None, render: Callable[[WithAffected], Created],
) -> Created | StoredResponse:
    """Record an absence or closure; list (or, with ``cancel``, cancel) the appointments it falls on."""
    now = deps.clock.now()
    table = catalogue.KINDS[of.kind].table

    async def operation(session: AsyncSession) -> Created:
        await catalogue.require_references(session, fields)
        row = await admin.create(session, table(**fields, created_at=now))
        found = await plan_changes.settle(session, deps.planner, of.change(row), cancel, now)
        return render(WithAffected(await _shown(session, of, row), found))

    return await idempotency.create(deps.db, request, operation, now)


async def read(deps: Collaborators, of: Interruption, ident: str) -> WithAffected:
    """An absence or closure and the active appointments it falls on, or NotFound."""
    found = catalogue.KINDS[of.kind]
    async with deps.db.read() as session:
        row = await admin.get(session, found.table, ident, found.noun)
        return await _with_affected(session, of, row, deps.clock.now())


async def page(
    deps: Collaborators, of: Interruption, cursor: str | None, limit: int, **equal: str | None
) -> PageOf[WithAffected]:
    """A page of absences or closures, each with the active appointments it falls on."""
    table = catalogue.KINDS[of.kind].table
    where = [getattr(table, name) == value for name, value in equal.items() if value]
    now = deps.clock.now()
    async with deps.db.read() as session:
        found = await admin.page(session, table, cursor, limit, *where)
        rows = [await _with_affected(session, of, row, now) for row in found.rows]
    return PageOf(rows, found.next_cursor)


async def update(
    deps: Collaborators, of: Interruption, ident: str, changes: dict[str, Any], cancel: bool
) -> WithAffected:
    """Change an absence or closure; the appointments its new times fall on are listed (or cancelled)."""
    found = catalogue.KINDS[of.kind]
    now = deps.clock.now()
    async with deps.db.write() as session:
        row = admin.apply_changes(await admin.get(session, found.table, ident, found.noun), changes)
        await session.flush()
        settled = await plan_changes.settle(session, deps.planner, of.change(row), cancel, now)
        return WithAffected(await _shown(session, of, row), settled)


async def _with_affected(session: AsyncSession, of: Interruption, row: Any, now: datetime) -> WithAffected:
    return WithAffected(
        await _shown(session, of, row), await plan_changes.affected(session, of.change(row), now)
    )


async def _shown(session: AsyncSession, of: Interruption, row: Any) -> Any:
    """The row as answered: an absence's times in its owner's zone (see ``absences``)."""
    if of is ABSENCE:
        return (await absences.in_owner_zones(session, [row]))[0]
    return row
