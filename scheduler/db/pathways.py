"""Care pathway queries: a pathway with its family, its site's zone and its sessions (appointments)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, exists, not_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from scheduler.db.outbox import TABLE as OUTBOX
from scheduler.db.tables import Appointment, Family, Pathway, Site

ACTIVE = ("booked", "confirmed")
MAY_HAVE_REACHED = ("sending", "sent", "delivered")


@dataclass(frozen=True, slots=True)
class PathwayRow:
    """A pathway with its family and its site's zone, as its API view needs them."""

    pathway: Pathway
    family: Family
    timezone: str


def _base() -> Any:
    return (
        select(Pathway, Family, col(Site.timezone))
        .join(Family, col(Family.id) == col(Pathway.family_id))
        .join(Site, col(Site.id) == col(Pathway.site_id))
    )


async def insert(session: AsyncSession, pathway: Pathway) -> None:
    """Write a new pathway row."""
    session.add(pathway)
    await session.flush()


async def row(session: AsyncSession, pathway_id: str) -> PathwayRow | None:
    """One pathway with its family and zone."""
    found = (await session.execute(_base().where(col(Pathway.id) == pathway_id))).first()
    return PathwayRow(*found) if found else None


async def locked(session: AsyncSession, pathway_id: str) -> Pathway | None:
    """The pathway, locked for the rest of the transaction (PostgreSQL; SQLite is serialised)."""
    statement = select(Pathway).where(col(Pathway.id) == pathway_id).with_for_update()
    pathway: Pathway | None = (await session.execute(statement)).scalar_one_or_none()
    return pathway


async def sessions(session: AsyncSession, pathway_ids: Sequence[str]) -> dict[str, list[Appointment]]:
    """The sessions of each pathway, in start order (a pathway without any maps to an empty list)."""
    found: dict[str, list[Appointment]] = {ident: [] for ident in pathway_ids}
    if not pathway_ids:
        return found
    statement = (
        select(Appointment)
        .where(col(Appointment.pathway_id).in_(list(pathway_ids)))
        .order_by(col(Appointment.starts_at), col(Appointment.id))
    )
    for appointment in (await session.execute(statement)).scalars():
        found[appointment.pathway_id or ""].append(appointment)
    return found


def _to_come(now: datetime) -> Any:
    """A session of the pathway still active and not over at ``now``."""
    return exists().where(
        col(Appointment.pathway_id) == col(Pathway.id),
        col(Appointment.status).in_(ACTIVE),
        col(Appointment.ends_at) > now,
    )


async def page(
    session: AsyncSession,
    family_reference: str | None,
    status: str | None,
    now: datetime,
    after: tuple[datetime, str] | None,
    limit: int,
) -> list[PathwayRow]:
    """Up to ``limit + 1`` pathways by creation then id, after a (created_at, id) cursor.

    ``status``: ``closed`` as stored; ``active`` and ``completed`` read from the sessions at ``now``.
    """
    statement = _base()
    if family_reference is not None:
        statement = statement.where(col(Family.reference) == family_reference)
    if status == "closed":
        statement = statement.where(col(Pathway.status) == "closed")
    elif status == "active":
        statement = statement.where(col(Pathway.status) == "active", _to_come(now))
    elif status == "completed":
        statement = statement.where(col(Pathway.status) == "active", not_(_to_come(now)))
    if after is not None:
        created, ident = after
        statement = statement.where(
            or_(
                col(Pathway.created_at) > created,
                and_(col(Pathway.created_at) == created, col(Pathway.id) > ident),
            )
        )
    statement = statement.order_by(col(Pathway.created_at), col(Pathway.id)).limit(limit + 1)
    return [PathwayRow(*found) for found in (await session.execute(statement)).all()]


async def confirmation_told(session: AsyncSession, pathway_id: str) -> bool:
    """Whether the family may have read the pathway's confirmation (it lists every session)."""
    statement = select(OUTBOX.c.id).where(
        OUTBOX.c.appointment_id.in_(
            select(col(Appointment.id)).where(col(Appointment.pathway_id) == pathway_id)
        ),
        OUTBOX.c.recipient == "family",
        OUTBOX.c.kind == "booked",
        OUTBOX.c.status.in_(MAY_HAVE_REACHED),
    )
    return (await session.execute(statement.limit(1))).first() is not None


async def family_busy(
    session: AsyncSession, family_id: str | None, reference: str, start: datetime, end: datetime
) -> list[tuple[datetime, datetime]]:
    """The times of a family's active appointments between ``start`` and ``end`` (by id, else reference)."""
    who = col(Family.id) == family_id if family_id else col(Family.reference) == reference
    statement = (
        select(col(Appointment.starts_at), col(Appointment.ends_at))
        .join(Family, col(Family.id) == col(Appointment.family_id))
        .where(
            who,
            col(Appointment.status).in_(ACTIVE),
            col(Appointment.ends_at) > start,
            col(Appointment.starts_at) < end,
        )
    )
    return [(found.starts_at, found.ends_at) for found in (await session.execute(statement)).all()]


async def site_facts(session: AsyncSession, site_id: str) -> Any:
    """A site's zone, public label, address, kind and phone: what a family's text says of it."""
    statement = select(
        col(Site.timezone), col(Site.public_label), col(Site.address), col(Site.kind), col(Site.phone)
    ).where(col(Site.id) == site_id)
    return (await session.execute(statement)).one()


async def family_language(session: AsyncSession, family_id: str) -> str:
    """The language a family is texted in."""
    language: str = (
        await session.execute(select(col(Family.language)).where(col(Family.id) == family_id))
    ).scalar_one()
    return language


async def pathway_of(session: AsyncSession, appointment_id: str) -> str | None:
    """The pathway an appointment is a session of, or None."""
    statement = select(col(Appointment.pathway_id)).where(col(Appointment.id) == appointment_id)
    pathway_id: str | None = (await session.execute(statement)).scalar()
    return pathway_id
