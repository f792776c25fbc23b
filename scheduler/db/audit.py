"""The audit trail's rows: appended in batches, read by filters, purged after the retention."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from scheduler.db.engine import AUDIT_PURGE, dialect_name
from scheduler.db.tables import Appointment, AuditEntry, Family


async def append(session: AsyncSession, entries: Sequence[dict[str, Any]]) -> None:
    """Insert a batch of entries; one naming an appointment but no family is given the appointment's
    family reference (one query for the batch)."""
    if not entries:
        return
    wanted = {entry["appointment_id"] for entry in entries
              if entry.get("appointment_id") and not entry.get("family_reference")}
    references: dict[str, str] = {}
    if wanted:
        rows = await session.execute(
            select(col(Appointment.id), col(Family.reference))
            .join(Family, col(Family.id) == col(Appointment.family_id))
            .where(col(Appointment.id).in_(wanted)))
        references = {ident: reference for ident, reference in rows.all()}
    rows_out = [{**entry, "family_reference": entry.get("family_reference")
                 or references.get(entry.get("appointment_id") or "")} for entry in entries]
    await session.execute(insert(AuditEntry), rows_out)


async def page(
    session: AsyncSession, *, start: datetime | None, end: datetime | None, actor_id: str | None,
    appointment_id: str | None, family_reference: str | None, after: int | None, limit: int,
) -> list[AuditEntry]:
    """Up to ``limit + 1`` entries, oldest first, after the entry numbered ``after``."""
    statement = select(AuditEntry)
    for column, value in ((AuditEntry.actor_id, actor_id), (AuditEntry.appointment_id, appointment_id),
                          (AuditEntry.family_reference, family_reference)):
        if value is not None:
            statement = statement.where(col(column) == value)
    if start is not None:
        statement = statement.where(col(AuditEntry.at) >= start)
    if end is not None:
        statement = statement.where(col(AuditEntry.at) < end)
    if after is not None:
        statement = statement.where(col(AuditEntry.seq) > after)
    statement = statement.order_by(col(AuditEntry.seq)).limit(limit + 1)
    return list((await session.execute(statement)).scalars())


async def purge_older_than(session: AsyncSession, limit: datetime) -> int:
    """Delete the entries older than ``limit`` (the retention): the one DELETE the append-only
    triggers let through, because this transaction says so (PostgreSQL: ``creneau.audit_purge``,
    for the transaction) or this connection does while the statement runs (SQLite: ``AUDIT_PURGE``)."""
    statement = delete(AuditEntry).where(col(AuditEntry.at) < limit)
    if dialect_name(session) == "postgresql":
        await session.execute(text("SET LOCAL creneau.audit_purge = 'on'"))
        return _count(await session.execute(statement))
    connection = await session.connection()
    connection.info[AUDIT_PURGE] = True
    try:
        return _count(await session.execute(statement))
    finally:
        connection.info.pop(AUDIT_PURGE, None)


def _count(result: Any) -> int:
    return int(result.rowcount or 0)
