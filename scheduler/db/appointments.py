"""Appointment queries: each appointment with its family and its site's zone, in one statement."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from scheduler.db.tables import Appointment, Family, Site


@dataclass(frozen=True, slots=True)
class AppointmentView:
    """An appointment with what its API view needs."""

    appointment: Appointment
    family: Family
    timezone: str


def _base() -> Any:
    return (
        select(Appointment, Family, col(Site.timezone))
        .join(Family, col(Family.id) == col(Appointment.family_id))
        .join(Site, col(Site.id) == col(Appointment.site_id))
    )


async def view(session: AsyncSession, appointment_id: str) -> AppointmentView | None:
    """One appointment's view."""
    row = (await session.execute(_base().where(Appointment.id == appointment_id))).first()
    return AppointmentView(*row) if row else None


@dataclass(frozen=True, slots=True)
class AppointmentFilter:
    """Filters of the appointment list."""

    staff_id: str | None = None
    site_id: str | None = None
    status: str | None = None
    start_from: datetime | None = None
    start_before: datetime | None = None
    service_id: str | None = None
    family_reference: str | None = None
    updated_since: datetime | None = None


async def page(
    session: AsyncSession, where: AppointmentFilter, after: tuple[datetime, str] | None, limit: int
) -> list[AppointmentView]:
    """Up to ``limit + 1`` views ordered by start then id, after a (start, id) cursor."""
    statement = _base()
    for column, value in (
        (Appointment.staff_id, where.staff_id),
        (Appointment.site_id, where.site_id),
        (Appointment.status, where.status),
        (Appointment.service_id, where.service_id),
        (Family.reference, where.family_reference),
    ):
        if value is not None:
            statement = statement.where(column == value)
    if where.start_from is not None:
        statement = statement.where(Appointment.starts_at >= where.start_from)
    if where.start_before is not None:
        statement = statement.where(Appointment.starts_at < where.start_before)
    if where.updated_since is not None:
        statement = statement.where(Appointment.updated_at >= where.updated_since)
    if after is not None:
        start, ident = after
        statement = statement.where(
            or_(col(Appointment.starts_at) > start,
                and_(col(Appointment.starts_at) == start, col(Appointment.id) > ident))
        )
    statement = statement.order_by(Appointment.starts_at, Appointment.id).limit(limit + 1)
    return [AppointmentView(*row) for row in (await session.execute(statement)).all()]


appointment_table = Appointment.__table__  # type: ignore[attr-defined]
# A prebuilt INSERT rather than the ORM's unit of work: a new appointment needs none of its
# bookkeeping, and the object is only read afterwards (every booking runs it).
INSERT: Final = appointment_table.insert()


async def insert(session: AsyncSession, appointment: Appointment) -> None:
    """Write a new appointment row, every column from the object."""
    await session.execute(INSERT, {column.name: getattr(appointment, column.name)
                                   for column in appointment_table.columns})


async def locked(session: AsyncSession, appointment_id: str) -> Appointment | None:
    """The appointment, locked for the rest of the transaction (PostgreSQL; SQLite is serialised)."""
    statement = select(Appointment).where(col(Appointment.id) == appointment_id).with_for_update()
    appointment: Appointment | None = (await session.execute(statement)).scalar_one_or_none()
    return appointment


async def interpreted_between(
    session: AsyncSession, start: datetime, end: datetime, statuses: Sequence[str]
) -> list[Any]:
    """Appointments in [start, end) with a pool or agency interpreter, in one of ``statuses``.

    Rows of (interpreter_language, interpreter_status, starts_at, timezone: their site's zone).
    """
    statement = (
        select(col(Appointment.interpreter_language), col(Appointment.interpreter_status),
               col(Appointment.starts_at), col(Site.timezone))
        .join(Site, col(Site.id) == Appointment.site_id)
        .where(
            col(Appointment.interpreter_language).is_not(None),
            col(Appointment.interpreter_status).in_(("booked", "external")),
            col(Appointment.status).in_(statuses),
            col(Appointment.starts_at) >= start,
            col(Appointment.starts_at) < end,
        )
    )
    return list((await session.execute(statement)).all())


async def any_to_come(
    session: AsyncSession, column: Any, ident: str, statuses: Sequence[str], now: datetime
) -> bool:
    """Whether an appointment in one of ``statuses`` whose ``column`` is ``ident`` ends after ``now``."""
    future = select(col(Appointment.id)).where(
        column == ident,
        col(Appointment.status).in_(statuses),
        col(Appointment.ends_at) > now,
    )
    return (await session.execute(future.limit(1))).first() is not None
