"""Family link queries: remember an appointment's link, and read what its page shows."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from sqlalchemy import bindparam, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from scheduler.db.dialect import PerDialect, insert_for
from scheduler.db.tables import Appointment, Family, FamilyLink, Service, Site

link = FamilyLink.__table__  # type: ignore[attr-defined]
appointment = Appointment.__table__  # type: ignore[attr-defined]
family = Family.__table__  # type: ignore[attr-defined]
service = Service.__table__  # type: ignore[attr-defined]
site = Site.__table__  # type: ignore[attr-defined]

# Only what a family may read: never the staff member, the service's name or the note.
PAGE_COLUMNS: Final = (
    appointment.c.id, appointment.c.status, appointment.c.starts_at, appointment.c.ends_at,
    appointment.c.interpreter_language, appointment.c.interpreter_status, family.c.language,
    site.c.public_label, site.c.address, site.c.kind, site.c.phone, site.c.timezone, service.c.bring,
)


def _remember_statement(dialect: str) -> Any:
    statement = insert_for(dialect, link).values(
        token_hash=bindparam("token_hash"), appointment_id=bindparam("appointment_id"),
        expires_at=bindparam("expires_at"), created_at=bindparam("created_at"),
    )
    # A moved appointment keeps its link with a new expiry; a new secret key replaces the hash.
    return statement.on_conflict_do_update(
        index_elements=["appointment_id"],
        set_={"token_hash": statement.excluded.token_hash, "expires_at": statement.excluded.expires_at},
    )


# Built once per database (every booking and move runs it).
REMEMBER: Final = PerDialect(_remember_statement)


async def remember(
    session: AsyncSession, token_hash: str, appointment_id: str, expires_at: datetime, now: datetime
) -> None:
    """Store (or refresh) the appointment's link: one per appointment, its hash and expiry."""
    await session.execute(
        REMEMBER.of(session),
        {
            "token_hash": token_hash,
            "appointment_id": appointment_id,
            "expires_at": expires_at,
            "created_at": now,
        },
    )


async def page_row(session: AsyncSession, token_hash: str, now: datetime) -> Any:
    """The page's columns for a live (unrevoked, unexpired) link, or None."""
    statement = (
        select(*PAGE_COLUMNS)
        .select_from(link.join(appointment, appointment.c.id == link.c.appointment_id)
                     .join(family, family.c.id == appointment.c.family_id)
                     .join(site, site.c.id == appointment.c.site_id)
                     .join(service, service.c.id == appointment.c.service_id))
        .where(link.c.token_hash == token_hash, link.c.revoked_at.is_(None), link.c.expires_at > now)
    )
    return (await session.execute(statement)).first()


async def revoke(session: AsyncSession, appointment_id: str, now: datetime) -> None:
    """Stop the appointment's link from answering (e.g. a phone that changed hands)."""
    await session.execute(
        link.update().where(link.c.appointment_id == appointment_id, link.c.revoked_at.is_(None))
        .values(revoked_at=now)
    )


async def purge_expired(session: AsyncSession, now: datetime) -> int:
    """Delete the links that no longer answer (expired); a revoked one goes once it has expired too."""
    result = await session.execute(delete(link).where(link.c.expires_at <= now))
    return int(getattr(result, "rowcount", 0) or 0)
