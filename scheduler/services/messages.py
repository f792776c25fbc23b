"""An appointment's texts as staff may see them: times in the site's zone, numbers masked."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from notifications.masking import mask_phone
from notifications.policy import NotTexted, why_not_texted
from scheduler.db import outbox
from scheduler.db.tables import Appointment, Family, Interpreter, Site
from scheduler.domain.zones import DEFAULT_TIMEZONE, zone
from scheduler.services import admin

if TYPE_CHECKING:
    from scheduler.collaborators import Collaborators


@dataclass(frozen=True, slots=True)
class MessageView:
    """One text: ``to`` is the number it went to, or for one still to send, the number it will go to."""

    message: outbox.OutboxMessage
    to: str | None
    due_at: datetime
    sent_at: datetime | None


@dataclass(frozen=True, slots=True)
class AppointmentMessages:
    """An appointment's texts, and why its family gets none at all (None when it may be texted)."""

    views: list[MessageView]
    family_not_texted: NotTexted | None


async def appointment_messages(deps: Collaborators, appointment_id: str) -> AppointmentMessages:
    """The appointment's texts, oldest first, read in one transaction; NotFound for an unknown appointment."""
    async with deps.db.read() as session:
        views = await of_appointment(session, appointment_id)
        appointment = await admin.get(session, Appointment, appointment_id, "appointment")
        family = await session.get(Family, appointment.family_id)
        why = why_not_texted(family.phone, family.sms_consent) if family else "no-phone"
        return AppointmentMessages(views, why)


async def of_appointment(session: AsyncSession, appointment_id: str) -> list[MessageView]:
    """The appointment's texts, oldest first; NotFound for an unknown appointment."""
    appointment = await admin.get(session, Appointment, appointment_id, "appointment")
    site = await session.get(Site, appointment.site_id)
    site_zone = zone(site.timezone if site else DEFAULT_TIMEZONE)
    family = await session.get(Family, appointment.family_id)
    phones: dict[str | None, str | None] = {}

    async def interpreter_phone(interpreter_id: str | None) -> str | None:
        if interpreter_id not in phones:
            found = await session.get(Interpreter, interpreter_id) if interpreter_id else None
            phones[interpreter_id] = found.phone if found else None
        return phones[interpreter_id]

    views = []
    for row in await outbox.for_appointment(session, appointment_id):
        to = row.to_masked
        if to is None and row.status == outbox.PENDING:
            phone = (
                (family.phone if family else None)
                if row.recipient == "family"
                else await interpreter_phone(row.interpreter_id or appointment.interpreter_id)
            )
            to = mask_phone(phone) if phone else None
        views.append(MessageView(row, to, row.due_at.astimezone(site_zone),
                                 row.sent_at.astimezone(site_zone) if row.sent_at else None))
    return views
