"""Staff link queries: what a staff member's outcome page shows, through a live feed of theirs."""

from __future__ import annotations

from typing import Any, Final

from sqlalchemy import and_, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from scheduler.db.tables import Appointment, Family, Feed, Service, Site, Staff

appointment = Appointment.__table__  # type: ignore[attr-defined]
family = Family.__table__  # type: ignore[attr-defined]
feed = Feed.__table__  # type: ignore[attr-defined]
service = Service.__table__  # type: ignore[attr-defined]
site = Site.__table__  # type: ignore[attr-defined]
staff = Staff.__table__  # type: ignore[attr-defined]

# The feed levels whose events carry the link: those that name the family's reference.
LINKED_PRIVACY: Final = ("full", "standard")

PAGE: Final = (
    select(
        appointment.c.id, appointment.c.status, appointment.c.starts_at, appointment.c.ends_at,
        appointment.c.cancel_reason, family.c.reference, service.c.name.label("service_name"),
        service.c.capacity, site.c.name.label("site_name"), site.c.timezone,
        staff.c.id.label("staff_id"), staff.c.name.label("staff_name"),
        feed.c.token_hash.label("feed_token_hash"),
    )
    .select_from(
        feed.join(staff, and_(feed.c.owner_kind == "staff", staff.c.id == feed.c.owner_id))
        .join(appointment, appointment.c.staff_id == staff.c.id)
        .join(family, family.c.id == appointment.c.family_id)
        .join(service, service.c.id == appointment.c.service_id)
        .join(site, site.c.id == appointment.c.site_id)
    )
    .where(
        feed.c.id == bindparam("feed_id"),
        feed.c.revoked_at.is_(None),
        feed.c.privacy.in_(LINKED_PRIVACY),
        appointment.c.id == bindparam("appointment_id"),
    )
)


async def page_row(session: AsyncSession, feed_id: str, appointment_id: str) -> Any:
    """The appointment as its staff member's page shows it, with the live feed's token hash
    (from which the link's key is derived), or None: revoked or ``busy`` feed, or an appointment
    that is not (or no longer) the feed's staff member's."""
    return (await session.execute(PAGE, {"feed_id": feed_id, "appointment_id": appointment_id})).first()
