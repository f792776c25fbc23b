"""The inbox: one row per reply received from a family, and what handling a reply reads and writes."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Text, and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Column, Field, SQLModel, col

from notifications.outbox import MAY_HAVE_REACHED
from scheduler.db import outbox
from scheduler.db.dialect import insert_for
from scheduler.db.tables import Appointment, Family, Site, new_id


class InboundMessage(SQLModel, table=True):
    """A reply received; its text is kept only when no keyword was recognised (staff read it)."""

    __tablename__ = "inbound_message"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    provider_id: str = Field(max_length=64, unique=True)
    family_id: str | None = Field(default=None, max_length=32, index=True)
    appointment_id: str | None = Field(default=None, max_length=32, index=True)
    action: str = Field(max_length=16)
    body: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    received_at: datetime


class SmsOptOut(SQLModel, table=True):
    """A number that answered STOP: never texted again, whichever family books with it. Only a
    keyed hash of the number is kept (``scheduler.services.opt_outs``), so that the refusal can
    outlive the retention of the number itself."""

    __tablename__ = "sms_opt_out"

    number_digest: str = Field(primary_key=True, max_length=64)
    stopped_at: datetime


async def opt_out(session: AsyncSession, digest: str, now: datetime) -> None:
    """Record that a number (its digest) answered STOP; twice changes nothing."""
    table = SmsOptOut.__table__  # type: ignore[attr-defined]
    await session.execute(insert_for(session, table).values(number_digest=digest, stopped_at=now)
                          .on_conflict_do_nothing(index_elements=["number_digest"]))


async def opted_out(session: AsyncSession, digests: Collection[str]) -> set[str]:
    """Which of these number digests answered STOP."""
    if not digests:
        return set()
    statement = select(col(SmsOptOut.number_digest)).where(col(SmsOptOut.number_digest).in_(list(digests)))
    return set((await session.execute(statement)).scalars())


async def families_of(session: AsyncSession, phone: str) -> list[str]:
    """The families behind this number (theirs, or one of their appointments'), in no particular order."""
    booked_with = select(col(Appointment.family_id)).where(col(Appointment.phone) == phone)
    statement = select(col(Family.id)).where(or_(col(Family.phone) == phone, col(Family.id).in_(booked_with)))
    return list((await session.execute(statement)).scalars())


def _texted_here(phone: str) -> Any:
    """The appointments texted at this number: booked with it, or without one by a family that has it."""
    return (
        select(col(Appointment.id)).join(Family, col(Family.id) == col(Appointment.family_id))
        .where(or_(col(Appointment.phone) == phone,
                   and_(col(Appointment.phone).is_(None), col(Family.phone) == phone)))
    )


_SENT = func.coalesce(outbox.TABLE.c.sent_at, outbox.TABLE.c.updated_at)


def _texts_to(phone: str) -> list[Any]:
    return [outbox.TABLE.c.appointment_id.in_(_texted_here(phone)), outbox.TABLE.c.recipient == "family",
            outbox.TABLE.c.status.in_(MAY_HAVE_REACHED)]


async def last_text(session: AsyncSession, phone: str) -> Any:
    """The last text that may have reached this number: its appointment (``id``) and when it left
    (``sent``); None when none did."""
    statement = (
        select(outbox.TABLE.c.appointment_id.label("id"), _SENT.label("sent"))
        .where(*_texts_to(phone))
        .order_by(_SENT.desc(), outbox.TABLE.c.id.desc())
        .limit(1)
    )
    return (await session.execute(statement)).first()


async def texted_about_another(
    session: AsyncSession, phone: str, appointment_id: str, since: datetime
) -> bool:
    """Whether a text about another appointment than ``appointment_id`` reached the number since ``since``."""
    statement = select(outbox.TABLE.c.id).where(
        *_texts_to(phone), outbox.TABLE.c.appointment_id != appointment_id, _SENT >= since).limit(1)
    return (await session.execute(statement)).first() is not None


async def appointment(session: AsyncSession, appointment_id: str) -> Appointment:
    """One appointment (a text's: it exists)."""
    found: Appointment = (await session.execute(
        select(Appointment).where(col(Appointment.id) == appointment_id))).scalar_one()
    return found


async def next_appointment(
    session: AsyncSession, family_ids: Sequence[str], statuses: Collection[str], now: datetime
) -> Appointment | None:
    """The families' next appointment in one of ``statuses``, after ``now``."""
    statement = (
        select(Appointment)
        .where(col(Appointment.family_id).in_(family_ids), col(Appointment.starts_at) > now,
               col(Appointment.status).in_(statuses))
        .order_by(col(Appointment.starts_at))
        .limit(1)
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def record(session: AsyncSession, reply: dict[str, Any]) -> bool:
    """Write a reply; False when one with its ``provider_id`` was already written (a retried webhook)."""
    table = InboundMessage.__table__  # type: ignore[attr-defined]
    statement = insert_for(session, table).values(id=new_id(), **reply).on_conflict_do_nothing(
        index_elements=["provider_id"]
    ).returning(table.c.id)
    return (await session.execute(statement)).scalar_one_or_none() is not None


async def withdraw_consent(session: AsyncSession, family_ids: Sequence[str], now: datetime) -> None:
    """The families no longer want texts."""
    await session.execute(
        update(Family).where(col(Family.id).in_(family_ids)).values(sms_consent=False, updated_at=now)
    )


async def kept(
    session: AsyncSession, appointment_id: str | None, since: datetime | None, before: datetime | None,
    after: tuple[datetime, str] | None, limit: int,
) -> list[Any]:
    """Up to ``limit + 1`` replies kept for staff (id, appointment, reception, text, the number the
    appointment was texted at or else the family's, and the site's zone), in order of reception,
    received in ``[since, before)`` after the ``after`` cursor."""
    received, ident = col(InboundMessage.received_at), col(InboundMessage.id)
    conditions = [col(InboundMessage.action) == "keep", col(InboundMessage.body).is_not(None)]
    if appointment_id is not None:
        conditions.append(col(InboundMessage.appointment_id) == appointment_id)
    if since is not None:
        conditions.append(received >= since)
    if before is not None:
        conditions.append(received < before)
    if after is not None:
        at, last = after
        conditions.append(or_(received > at, and_(received == at, ident > last)))
    statement = (
        select(ident, col(InboundMessage.appointment_id), received, col(InboundMessage.body),
               func.coalesce(col(Appointment.phone), col(Family.phone)).label("phone"),
               col(Site.timezone))
        .select_from(InboundMessage)
        .outerjoin(Family, col(Family.id) == col(InboundMessage.family_id))
        .outerjoin(Appointment, col(Appointment.id) == col(InboundMessage.appointment_id))
        .outerjoin(Site, col(Site.id) == col(Appointment.site_id))
        .where(*conditions)
        .order_by(received, ident)
        .limit(limit + 1)
    )
    return list((await session.execute(statement)).all())
