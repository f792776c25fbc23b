"""The free-slot search as the API asks for it: one page, read in one transaction."""

from __future__ import annotations

from typing import TYPE_CHECKING

from scheduler.domain.slots import Position
from scheduler.services.availability import SlotPage, SlotQuery, find_slot_page

if TYPE_CHECKING:
    from scheduler.collaborators import Collaborators


async def slot_page(deps: Collaborators, query: SlotQuery, after: Position | None, limit: int) -> SlotPage:
    """Up to ``limit`` free slots after ``after`` (see ``availability.find_slot_page``)."""
    async with deps.db.read() as session:
        return await find_slot_page(session, deps.calendar, query, deps.clock.now(), after, limit)
