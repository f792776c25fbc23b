"""Absences answered in their owner's zone: an interpreter's own, a staff member's site's.

They are stored in UTC like every instant; a caller reads them back in the zone they were meant
in (an absence sent as ``09:00+01:00`` comes back as ``09:00+01:00``, not ``08:00Z``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from scheduler.db import absences as absence_store
from scheduler.db.tables import Absence
from scheduler.domain.zones import zone


@dataclass(frozen=True, slots=True)
class LocalAbsence:
    """An absence with its start and end in its owner's zone."""

    id: str
    staff_id: str | None
    interpreter_id: str | None
    start: datetime
    end: datetime
    reason: str | None


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
