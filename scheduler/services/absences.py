"""Absences answered in their owner's zone: an interpreter's own, a staff member's site's.

They are stored in UTC like every instant; a caller reads them back in the zone they were meant
in (an absence sent as ``09:00+01:00`` comes back as ``09:00+01:00``, not ``08:00Z``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from scheduler.db import absences as absence_store
from scheduler.db.tables import Absence
from scheduler.domain.zones import zone
from scheduler.services import admin, idempotency
from scheduler.services.catalogue import require_references
from scheduler.services.idempotency import Created, IdempotentRequest, StoredResponse
from scheduler.services.paging import PageOf

if TYPE_CHECKING:
    from scheduler.collaborators import Collaborators


@dataclass(frozen=True, slots=True)
class LocalAbsence:
    """An absence with its start and end in its owner's zone."""

    id: str
    staff_id: str | None
    interpreter_id: str | None
    start: datetime
    end: datetime
    reason: str | None


async def create(deps: Collaborators, fields: dict[str, Any], request: IdempotentRequest | None,
                 render: Callable[[LocalAbsence], Created]) -> Created | StoredResponse:
    """Record an absence and answer with ``render`` of it (replayed for a repeated key)."""
    now = deps.clock.now()

    async def operation(session: AsyncSession) -> Created:
        await require_references(session, fields)
        row = await admin.create(session, Absence(**fields, created_at=now))
        return render((await in_owner_zones(session, [row]))[0])

    return await idempotency.create(deps.db, request, operation, now)


async def page(deps: Collaborators, cursor: str | None, limit: int, staff_id: str | None,
               interpreter_id: str | None) -> PageOf[LocalAbsence]:
    """A page of absences, of one staff member or interpreter when named."""
    where = [column == value for column, value in ((Absence.staff_id, staff_id),
                                                   (Absence.interpreter_id, interpreter_id)) if value]
    async with deps.db.read() as session:
        found = await admin.page(session, Absence, cursor, limit, *where)
        return PageOf(await in_owner_zones(session, found.rows), found.next_cursor)


async def read(deps: Collaborators, ident: str) -> LocalAbsence:
    """An absence, or NotFound."""
    async with deps.db.read() as session:
        return (await in_owner_zones(session, [await admin.get(session, Absence, ident, "absence")]))[0]


async def update(deps: Collaborators, ident: str, changes: dict[str, Any]) -> LocalAbsence:
    """Change an absence, checked as a whole (see ``admin.apply_changes``)."""
    async with deps.db.write() as session:
        row = await admin.get(session, Absence, ident, "absence")
        await require_references(session, changes)
        admin.apply_changes(row, changes)
        await session.flush()
        return (await in_owner_zones(session, [row]))[0]


async def in_owner_zones(session: AsyncSession, rows: Sequence[Absence]) -> list[LocalAbsence]:
    """The absences with their times in their owners' zones (UTC for a staff member without a rule)."""
    zones = await absence_store.owner_zones(session, {row.staff_id for row in rows if row.staff_id},
                                            {row.interpreter_id for row in rows if row.interpreter_id})
    return [_local(row, zones.get(row.staff_id or row.interpreter_id or "")) for row in rows]


def _local(row: Absence, zone_name: str | None) -> LocalAbsence:
    where = zone(zone_name) if zone_name else UTC
    return LocalAbsence(row.id, row.staff_id, row.interpreter_id, _aware(row.start).astimezone(where),
                        _aware(row.end).astimezone(where), row.reason)


def _aware(value: datetime) -> datetime:
    # SQLite gives back naive UTC instants; PostgreSQL aware ones.
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
