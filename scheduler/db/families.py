"""Family rows: written by each booking, kept up to date by moves, their phones erased after retention."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any, Final

from sqlalchemy import and_, bindparam, case, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from scheduler.db.dialect import PerDialect, insert_for
from scheduler.db.tables import Appointment, Family, new_id

family_table = Family.__table__  # type: ignore[attr-defined]


def upsert_statement(dialect: str, after: Any = None, where: Any = None) -> Any:
    """The booking's family upsert (``UPSERT``), returning the family's id.

    ``after``: a CTE the row is selected from instead (PostgreSQL), so that the family is written
    only after it, and only if it gives a row (``where`` it holds): a booking's place is taken
    before its family's row is locked, in every statement that does both, so that two of them
    never wait on each other.
    """
    values: dict[str, Any] = {name: bindparam(name) for name in ("language", "sms_consent", "updated_at")}
    row = {"id": bindparam("id"), "reference": bindparam("reference"), "created_at": bindparam("updated_at"),
           "last_appointment_at": bindparam("starts_at"), "phone": bindparam("phone"), **values}
    insert = insert_for(dialect, family_table)
    if after is None:
        insert = insert.values(**row)
    else:  # a SELECT's parameters have no column to take their type from: typed here
        typed = [bindparam(parameter.key, type_=family_table.c[name].type) for name, parameter in row.items()]
        source = select(*typed).select_from(after)
        insert = insert.from_select(list(row), source if where is None else source.where(where))
    last = family_table.c.last_appointment_at
    # The latest booking states the family's language and consent; retention counts from its
    # latest appointment, which a new one can only push later. The family's phone is the one
    # it was first booked with (or the next one after retention erased it): a booking's number
    # is that appointment's (Appointment.phone), never a silent change of where the family's
    # other texts go.
    latest = case((or_(last.is_(None), last < insert.excluded.last_appointment_at),
                   insert.excluded.last_appointment_at), else_=last)
    phone = func.coalesce(family_table.c.phone, insert.excluded.phone)
    return insert.on_conflict_do_update(
        index_elements=["reference"], set_={**values, "phone": phone, "last_appointment_at": latest}
    ).returning(family_table.c.id)


# Built once per database, with bound parameters: every booking runs it.
UPSERT: Final = PerDialect(upsert_statement)


async def upsert_for_booking(
    session: AsyncSession, reference: str, phone: str | None, language: str, sms_consent: bool,
    starts_at: datetime, now: datetime,
) -> str:
    """The family's id, its row created or brought up to date by a booking starting at ``starts_at``."""
    family_id: str = (await session.execute(UPSERT.of(session), {
        "id": new_id(), "reference": reference, "phone": phone, "language": language,
        "sms_consent": sms_consent, "updated_at": now, "starts_at": starts_at,
    })).scalar_one()
    return family_id


async def touch_last_appointment(session: AsyncSession, family_id: str) -> None:
    """Recompute the family's latest appointment start (retention counts from it): one UPDATE."""
    latest = (
        select(func.max(Appointment.starts_at))
        .where(col(Appointment.family_id) == family_id)
        .scalar_subquery()
    )
    await session.execute(update(Family).where(Family.id == family_id).values(last_appointment_at=latest))  # type: ignore[arg-type]


async def erase_phones_unseen_since(session: AsyncSession, limit: datetime, now: datetime) -> int:
    """Erase the phone (and consent) of families with no appointment since ``limit``, and the
    numbers their appointments were booked with; how many families."""
    # A family is kept while an appointment is recent or to come; one never booked (its
    # booking rolled back) is measured from its creation.
    unseen = or_(col(Family.last_appointment_at) < limit,
                 and_(col(Family.last_appointment_at).is_(None), col(Family.created_at) < limit))
    await session.execute(
        update(Appointment)
        .where(col(Appointment.phone).is_not(None),
               col(Appointment.family_id).in_(select(col(Family.id)).where(unseen)))
        .values(phone=None)
    )
    result = await session.execute(
        update(Family).where(col(Family.phone).is_not(None), unseen)
        .values(phone=None, sms_consent=False, updated_at=now)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def lock(session: AsyncSession, family_id: str) -> None:
    """Lock the family's row for the rest of the transaction (PostgreSQL; SQLite is serialised).

    A booking's upsert takes the same lock: changes to one family's appointments take turns, so
    the overlap guard sees the other's committed row instead of both waiting on each other.
    """
    await session.execute(select(col(Family.id)).where(col(Family.id) == family_id).with_for_update())


async def change_phone(
    session: AsyncSession, reference: str, phone: str | None, statuses: Collection[str], now: datetime
) -> tuple[Family, int] | None:
    """Give the family a new number, and its appointments to come (in ``statuses``) with it:
    the family and how many appointments; None for an unknown reference."""
    family = (await session.execute(
        select(Family).where(col(Family.reference) == reference).with_for_update())).scalar_one_or_none()
    if family is None:
        return None
    family.phone, family.updated_at = phone, now
    result = await session.execute(
        update(Appointment)
        .where(col(Appointment.family_id) == family.id, col(Appointment.starts_at) > now,
               col(Appointment.status).in_(statuses))
        .values(phone=phone, updated_at=now)
    )
    await session.flush()
    return family, int(getattr(result, "rowcount", 0) or 0)
