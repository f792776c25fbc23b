"""Queries of the import of past appointments: what exists, and the rows an import writes."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from scheduler.db.tables import (
    Appointment,
    AppointmentImport,
    Family,
    HoldRecord,
    Service,
    Site,
    Staff,
    new_id,
)


async def known_ids(session: AsyncSession, services: Iterable[str], staff: Iterable[str],
                    sites: Iterable[str]) -> tuple[set[str], set[str], set[str]]:
    """Which of these service, staff and site ids exist."""
    found = []
    for table, ids in ((Service, services), (Staff, staff), (Site, sites)):
        id_column = col(table.id)
        found.append(set((await session.execute(select(id_column).where(id_column.in_(set(ids))))).scalars()))
    return found[0], found[1], found[2]


async def imported_before(session: AsyncSession, external_ids: Iterable[str]) -> set[str]:
    """The external ids already imported."""
    statement = select(col(AppointmentImport.external_id)).where(
        col(AppointmentImport.external_id).in_(set(external_ids)))
    return set((await session.execute(statement)).scalars())


async def family_ids(session: AsyncSession, references: Iterable[str]) -> dict[str, str]:
    """Reference → id of the families that exist."""
    statement = select(col(Family.reference), col(Family.id)).where(
        col(Family.reference).in_(set(references)))
    return {reference: ident for reference, ident in (await session.execute(statement)).all()}


async def add_family(
    session: AsyncSession, reference: str, language: str, last: datetime, now: datetime
) -> str:
    """A family known by its reference only: no phone, so never texted."""
    ident = new_id()
    await session.execute(insert(Family).values(
        id=ident, reference=reference, phone=None, language=language, sms_consent=False,
        last_appointment_at=last, created_at=now, updated_at=now))
    return ident


async def history_hold(session: AsyncSession, staff_id: str, service_id: str, starts_at: datetime,
                       ends_at: datetime) -> str:
    """The hold of a past block: the existing one, or a new one that takes no place (it blocks nothing)."""
    existing = (await session.execute(select(col(HoldRecord.id)).where(
        col(HoldRecord.resource_id) == staff_id, col(HoldRecord.service_id) == service_id,
        col(HoldRecord.starts_at) == starts_at))).scalar_one_or_none()
    if existing is not None:
        return existing
    ident = new_id()
    await session.execute(insert(HoldRecord).values(
        id=ident, resource_id=staff_id, resource_kind="staff", service_id=service_id, starts_at=starts_at,
        ends_at=ends_at, capacity=1, taken=0))
    return ident


async def add_imported(session: AsyncSession, external_id: str, appointment: dict[str, object],
                       now: datetime) -> None:
    """The appointment and the id it had elsewhere."""
    ident = new_id()
    await session.execute(insert(Appointment).values(id=ident, created_at=now, updated_at=now, **appointment))
    await session.execute(insert(AppointmentImport).values(
        external_id=external_id, appointment_id=ident, imported_at=now))
