"""Families' SMS replies kept for staff, as the API lists them: per appointment, or in a period."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING

from scheduler.db.tables import Appointment
from scheduler.services import admin
from scheduler.services.paging import PageOf, after_instant, cut
from scheduler.services.periods import day_bounds
from scheduler.services.replies import KeptReply, ReplyFilter, kept_replies, received_instant

if TYPE_CHECKING:
    from scheduler.collaborators import Collaborators


async def of_appointment(
    deps: Collaborators, appointment_id: str, cursor: str | None, limit: int
) -> PageOf[KeptReply]:
    """A page of an appointment's kept replies, in order of reception; NotFound for an unknown one."""
    where = ReplyFilter(appointment_id=appointment_id, after=after_instant(cursor))
    async with deps.db.read() as session:
        await admin.get(session, Appointment, appointment_id, "appointment")
        return _cut(await kept_replies(session, where, limit), limit)


async def in_period(
    deps: Collaborators, first: date | None, last: date | None, cursor: str | None, limit: int
) -> PageOf[KeptReply]:
    """A page of the kept replies received from ``first`` to ``last`` (mainland French dates)."""
    since, before = day_bounds(first, last)
    where = ReplyFilter(since=since, before=before, after=after_instant(cursor))
    async with deps.db.read() as session:
        return _cut(await kept_replies(session, where, limit), limit)


def _cut(found: Sequence[KeptReply], limit: int) -> PageOf[KeptReply]:
    return cut(found, limit, lambda reply: (received_instant(reply).isoformat(), reply.id))
