"""Appointment queries: each appointment with its family and its site's zone, in one statement."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import and_, bindparam, exists, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from scheduler.db import access
from scheduler.db.tables import Appointment, Family, Interpreter, Service, Site


@dataclass(frozen=True, slots=True)
class AppointmentView:
    """An appointment with what its API view needs."""

    appointment: Appointment
    family: Family
    timezone: str


def _base() -> Any:
    return access.through(
        select(Appointment, Family, col(Site.timezone))
        .join(Family, col(Family.id) == col(Appointment.family_id))
        .join(Site, col(Site.id) == col(Appointment.site_id)),
        Appointment,
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
site_table = Site.__table__  # type: ignore[attr-defined]


def _contacts_returned() -> list[Any]:
    """``message_data.CONTACTS``'s columns (same labels) for the appointment being inserted, from its
    bound values: the booking's texts need them, and the insert returns them instead of a read
    afterwards (the family's row is already written by then)."""
    family = Family.__table__  # type: ignore[attr-defined]
    service = Service.__table__  # type: ignore[attr-defined]
    interpreter = Interpreter.__table__  # type: ignore[attr-defined]
    c = appointment_table.c

    def bound(name: str) -> Any:
        return bindparam(name, type_=c[name].type)

    def of(column: Any, key: Any, name: str) -> Any:
        return select(column).where(key == bound(name)).scalar_subquery()

    return [
        func.coalesce(bound("phone"), of(family.c.phone, family.c.id, "family_id")).label("phone"),
        of(family.c.sms_consent, family.c.id, "family_id").label("sms_consent"),
        of(site_table.c.timezone, site_table.c.id, "site_id").label("timezone"),
        of(service.c.reminder_offsets_minutes, service.c.id, "service_id").label("offsets"),
        of(interpreter.c.phone, interpreter.c.id, "interpreter_id").label("interpreter_phone"),
        bound("interpreter_status").label("interpreter_status"),
    ]


def _insert_at_fitting_site() -> Any:
    """INSERT ... SELECT of one appointment, written only when its site takes its visit address:
    a home site with one, any other site without. The check rides on the INSERT (no statement
    more per booking); a refusal is told apart afterwards, on the rare path."""
    columns = list(appointment_table.columns)
    address = bindparam("visit_address", type_=appointment_table.c.visit_address.type)
    at_home = site_table.c.kind == "home"
    fits = exists().where(
        site_table.c.id == bindparam("site_id", type_=appointment_table.c.site_id.type),
        or_(and_(at_home, address.is_not(None)), and_(~at_home, address.is_(None))),
    )
    values = select(*[bindparam(column.name, type_=column.type) for column in columns]).where(fits)
    return (appointment_table.insert().from_select([column.name for column in columns], values)
            .returning(*_contacts_returned()))


# Prebuilt rather than the ORM's unit of work: a new appointment needs none of its bookkeeping,
# and the object is only read afterwards (every booking runs it).
INSERT: Final = _insert_at_fitting_site()


FAMILY_OVERLAP: Final = "appointment_family_no_overlap"
"""The name of the guard (PostgreSQL constraint, SQLite trigger message) against a family in two places."""


async def insert(session: AsyncSession, appointment: Appointment) -> Any:
    """Write a new appointment row, every column from the object: the row of who its texts go to
    (``message_data.CONTACTS``'s columns), or None (nothing written) when its site does not fit
    its visit address (see ``site_kind``).

    Raises:
        IntegrityError: the database refused it (``family_overlap`` tells the family's guard).
    """
    result = await session.execute(INSERT, {column.name: getattr(appointment, column.name)
                                            for column in appointment_table.columns})
    return result.first()


def family_overlap(exc: IntegrityError) -> bool:
    """Whether the database refused a write because the family would be in two places at once."""
    return FAMILY_OVERLAP in str(exc.orig)


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


async def site_kind(session: AsyncSession, site_id: str) -> str | None:
    """The kind of a site (``home`` for home visits), or None for an unknown site."""
    kind: str | None = (await session.execute(select(col(Site.kind)).where(col(Site.id) == site_id))).scalar()
    return kind


async def erase_visit_addresses_unseen_since(session: AsyncSession, limit: datetime) -> int:
    """Erase the home visit addresses of families with no appointment since ``limit``; how many.

    The same families as ``families.erase_phones_unseen_since``: an address is the family's data.
    """
    last = col(Family.last_appointment_at)
    unseen = select(col(Family.id)).where(
        or_(last < limit, and_(last.is_(None), col(Family.created_at) < limit)))
    result = await session.execute(
        update(Appointment)
        .where(col(Appointment.visit_address).is_not(None), col(Appointment.family_id).in_(unseen))
        .values(visit_address=None)
    )
    return int(getattr(result, "rowcount", 0) or 0)
