"""The free-slot search as the API asks for it: one page, read in one transaction."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from scheduler.db import counters
from scheduler.db.counters import Counters
from scheduler.domain.slots import Position
from scheduler.services.availability import SlotPage, SlotQuery, find_slot_page

if TYPE_CHECKING:
    from scheduler.collaborators import Collaborators


async def slot_page(deps: Collaborators, query: SlotQuery, after: Position | None, limit: int) -> SlotPage:
    """Up to ``limit`` free slots after ``after`` (see ``availability.find_slot_page``), for a
    caller that keeps nothing (so reads no counter but the rules' one, before what it guards: the
    reads need no common view)."""
    async with deps.db.read(apart=True) as session:
        return await find_slot_page(session, deps.calendar, query, deps.clock.now(), after, limit,
                                    searches=deps.searches)


async def counted_slot_page(
    deps: Collaborators, query: SlotQuery, after: Position | None, limit: int
) -> tuple[SlotPage, Counters]:
    """A page and the change counters it depends on, read in the same snapshot as its data: the
    page stays right for as long as ``current_counters`` gives the same values (time aside)."""
    async with deps.db.read(snapshot=True) as session:
        page = await find_slot_page(session, deps.calendar, query, deps.clock.now(), after, limit,
                                    searches=deps.searches)
        return page, await counters.read(session, page.depends_on)


async def current_counters(deps: Collaborators, keys: Sequence[str]) -> Counters:
    """The change counters of ``keys`` now (one statement)."""
    async with deps.db.read() as session:
        return await counters.read(session, keys)
