"""What choosing another time from an appointment's page reads: the appointment's service (and
its minimum notice), staff member, site and family, whether the family already booked again,
and how many times the family moved it already."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from scheduler.db.event_tables import Event
from scheduler.db.tables import Appointment, Family, FamilyLink, Service

ACTIVE = ("booked", "confirmed")
RESCHEDULED = "appointment.rescheduled"


async def cancelled_row(session: AsyncSession, token_hash: str, now: datetime) -> Any:
    """For a live link, the appointment (id, status, start, service with its minimum notice and
    whether any staff member will do, staff, site) and its family (id, reference, phone, language,
    consent), or None."""
    statement: Any = (
        select(col(Appointment.id), col(Appointment.status), col(Appointment.starts_at),
               col(Appointment.service_id), col(Appointment.staff_id), col(Appointment.site_id),
               col(Service.min_notice_minutes), col(Service.rebook_any_staff),
               col(Family.id).label("family_id"), col(Family.reference), col(Family.phone),
               col(Family.language), col(Family.sms_consent))
        .select_from(FamilyLink)
        .join(Appointment, col(Appointment.id) == col(FamilyLink.appointment_id))
        .join(Service, col(Service.id) == col(Appointment.service_id))
        .join(Family, col(Family.id) == col(Appointment.family_id))
        .where(col(FamilyLink.token_hash) == token_hash, col(FamilyLink.revoked_at).is_(None),
               col(FamilyLink.expires_at) > now)
    )
    return (await session.execute(statement)).first()


async def booked_again(session: AsyncSession, family_id: str, service_id: str, now: datetime) -> str | None:
    """The family's first active appointment of the service still to come, if it has one."""
    statement = (
        select(col(Appointment.id))
        .where(col(Appointment.family_id) == family_id, col(Appointment.service_id) == service_id,
               col(Appointment.status).in_(ACTIVE), col(Appointment.starts_at) > now)
        .order_by(col(Appointment.starts_at)).limit(1)
    )
    found = (await session.execute(statement)).scalar()
    return None if found is None else str(found)


async def family_moves(session: AsyncSession, appointment_id: str) -> int:
    """How many times the family moved the appointment from its page (its rescheduled events)."""
    statement = select(func.count()).select_from(Event).where(
        col(Event.appointment_id) == appointment_id, col(Event.type) == RESCHEDULED,
        col(Event.actor_kind) == "family")
    return int((await session.execute(statement)).scalar_one())
