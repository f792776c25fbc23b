"""What texts about an appointment read: who can be reached, and the facts a text gives.

Read in the transaction that queues the messages (a booking, a move, a cancellation) or that
sends them (the dispatcher, afresh for each claimed message).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Final
from zoneinfo import ZoneInfo

from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from notifications.compose import AppointmentFacts
from notifications.planner import Contacts
from notifications.ports import Claimed, MessageData
from scheduler.db import waitlist
from scheduler.db.dialect import as_utc
from scheduler.db.outbox import TABLE
from scheduler.db.tables import Appointment, Family, FamilyLink, Interpreter, Service, Site
from scheduler.phones import dialable

# Built once (the appointment id is bound): every booking, move and cancellation reads it.
# An appointment's texts go to the number it was booked with, else to the family's.
PHONE: Final = func.coalesce(col(Appointment.phone), col(Family.phone)).label("phone")

CONTACTS: Final[Select[*tuple[Any, ...]]] = (
    select(
        PHONE,
        col(Family.sms_consent),
        col(Site.timezone),
        col(Service.reminder_offsets_minutes).label("offsets"),
        col(Interpreter.phone).label("interpreter_phone"),
        col(Appointment.interpreter_status),
    )
    .select_from(Appointment)
    .join(Family, col(Family.id) == col(Appointment.family_id))
    .join(Site, col(Site.id) == col(Appointment.site_id))
    .join(Service, col(Service.id) == col(Appointment.service_id))
    .outerjoin(Interpreter, col(Interpreter.id) == col(Appointment.interpreter_id))
    .where(col(Appointment.id) == bindparam("appointment_id"))
)


async def contacts(session: AsyncSession, appointment_id: str) -> Contacts:
    """Who can be texted about an appointment, where it happens and its service's reminders."""
    await session.flush()
    return contacts_of((await session.execute(CONTACTS, {"appointment_id": appointment_id})).one())


def contacts_of(row: Any) -> Contacts:
    """``Contacts`` from a row of ``CONTACTS``'s columns (also what a new appointment's insert returns)."""
    return Contacts(
        family_phone=row.phone,
        family_consent=row.sms_consent,
        interpreter_phone=row.interpreter_phone,
        interpreter_status=row.interpreter_status,
        zone=ZoneInfo(row.timezone),
        reminder_offsets=row.offsets,
    )


async def released_interpreter(
    session: AsyncSession, interpreter_id: str, site_id: str, starts_at: datetime
) -> tuple[AppointmentFacts, str | None] | None:
    """The facts of a booking an interpreter had (at ``site_id``, at ``starts_at``) and their phone."""
    row: Any = (await session.execute(
        select(col(Site.timezone), col(Site.public_label), col(Site.address), col(Site.kind), col(Site.phone),
               col(Interpreter.phone).label("interpreter_phone"), col(Interpreter.mode))
        .join(Interpreter, col(Interpreter.id) == interpreter_id)
        .where(col(Site.id) == site_id)
    )).first()
    if row is None:
        return None
    return _facts(starts_at, row, row.phone, row.mode), row.interpreter_phone


async def for_messages(session: AsyncSession, claimed: Sequence[Claimed]) -> dict[str, MessageData]:
    """What each claimed message needs, by message id: its appointment, site and recipient."""
    statement = (
        select(TABLE.c.id, col(Appointment.status), col(Appointment.starts_at), PHONE,
               col(Family.sms_consent), col(Family.language), col(Site.timezone), col(Site.public_label),
               col(Site.address), col(Site.kind), col(Site.phone).label("site_phone"),
               col(Interpreter.phone).label("interpreter_phone"),
               col(Interpreter.mode).label("interpreter_mode"),
               col(FamilyLink.revoked_at).label("link_revoked"))
        .join(Appointment, col(Appointment.id) == TABLE.c.appointment_id)
        .join(Family, col(Family.id) == Appointment.family_id)
        .join(Site, col(Site.id) == Appointment.site_id)
        # An interpreter's message goes to the interpreter it names (one released by a move),
        # else to the appointment's current one.
        .outerjoin(Interpreter, col(Interpreter.id) == func.coalesce(
            TABLE.c.interpreter_id, Appointment.interpreter_id))
        .outerjoin(FamilyLink, col(FamilyLink.appointment_id) == Appointment.id)
        .where(TABLE.c.id.in_([message.id for message in claimed]))
    )
    found = {row.id: _message_data(row) for row in (await session.execute(statement)).all()}
    # The waiting list's offers are texted through the same outbox (no appointment yet).
    for row in await waitlist.offer_messages(session, [item.id for item in claimed if item.id not in found]):
        found[row.id] = _offer_data(row)
    return found


def _offer_data(row: Any) -> MessageData:
    """An offer's text goes while the offer is open, until the offered time begins."""
    facts = _facts(as_utc(row.starts_at), row, row.site_phone, None)
    return MessageData(status="booked" if row.offer_status == "open" else "cancelled", facts=facts,
                       family_phone=row.phone, family_consent=row.sms_consent, family_language=row.language,
                       interpreter_phone=None, link_revoked=False)


def _message_data(row: Any) -> MessageData:
    facts = _facts(as_utc(row.starts_at), row, row.site_phone, row.interpreter_mode)
    return MessageData(status=row.status, facts=facts, family_phone=row.phone, family_consent=row.sms_consent,
                       family_language=row.language, interpreter_phone=row.interpreter_phone,
                       link_revoked=row.link_revoked is not None)


def _facts(
    starts_at: datetime, site: Any, site_phone: str | None, interpreter_mode: str | None
) -> AppointmentFacts:
    """The facts of an appointment at ``starts_at`` on ``site`` (a row with its timezone, label, address,
    kind)."""
    return AppointmentFacts(
        starts_at=starts_at,
        zone=ZoneInfo(site.timezone),
        site_label=site.public_label,
        site_address=site.address,
        site_kind=site.kind,
        site_phone=dialable(site_phone) if site_phone else None,
        interpreter_mode=interpreter_mode,
    )
