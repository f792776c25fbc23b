"""A care pathway as its family's page shows it, and the family cancelling its last session."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from scheduler.db import pathways as store
from scheduler.db.tables import Appointment
from scheduler.domain.events import FAMILY
from scheduler.services import care_pathways, family_links

if TYPE_CHECKING:
    from scheduler.collaborators import Collaborators


@dataclass(frozen=True, slots=True)
class PathwayShown:
    """The sessions of the pathway an appointment belongs to, in start order, and the site's zone."""

    sessions: list[Appointment]
    timezone: str


async def shown(deps: Collaborators, appointment_id: str) -> PathwayShown | None:
    """The appointment's pathway for its page, or None when it is not a session of one."""
    async with deps.db.read() as session:
        pathway_id = await store.pathway_of(session, appointment_id)
        if pathway_id is None:
            return None
        found = await store.row(session, pathway_id)
        if found is None:
            return None
        sessions = (await store.sessions(session, [pathway_id]))[pathway_id]
    return PathwayShown(sessions, found.timezone)


async def after_family_cancel(session: AsyncSession, token: str, now: datetime) -> None:
    """When the family has just cancelled the last session still to come, its pathway closes."""
    row = await family_links.find(session, token, now)
    if row is None:
        return
    pathway_id = await store.pathway_of(session, row.id)
    if pathway_id is not None:
        await care_pathways.close_when_nothing_left(session, pathway_id, now, actor=FAMILY)
