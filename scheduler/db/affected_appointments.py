"""Active appointments a closure of a site, or an absence of a person, falls on."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from scheduler.db.tables import Appointment, Site
from scheduler.domain.intervals import Interval

ACTIVE = ("booked", "confirmed")


async def during(
    session: AsyncSession, whose: Any, period: Interval, now: datetime
) -> list[tuple[Appointment, str]]:
    """Active appointments still to end that ``whose`` selects and that overlap ``period``, by start then
    id, each with its site's zone."""
    with_zone = select(Appointment, col(Site.timezone)).join(Site, col(Site.id) == col(Appointment.site_id))
    statement = with_zone.where(
        whose,
        col(Appointment.status).in_(ACTIVE),
        col(Appointment.starts_at) < period.end,
        col(Appointment.ends_at) > period.start,
        col(Appointment.ends_at) > now,
    ).order_by(col(Appointment.starts_at), col(Appointment.id))
    return [(appointment, zone) for appointment, zone in (await session.execute(statement)).all()]


def at_site(site_id: str) -> Any:
    """Appointments at a site: what its closure falls on."""
    return col(Appointment.site_id) == site_id


def of_person(staff_id: str | None, interpreter_id: str | None) -> Any:
    """Appointments of a staff member, or those a pool interpreter is booked on: what an absence falls on."""
    if staff_id is not None:
        return col(Appointment.staff_id) == staff_id
    booked = col(Appointment.interpreter_status) == "booked"
    return and_(col(Appointment.interpreter_id) == interpreter_id, booked)
