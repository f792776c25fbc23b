"""What the family's page reads and does through its link, each in one transaction."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from scheduler.services import family_links, family_pathway

if TYPE_CHECKING:
    from scheduler.collaborators import Collaborators

Action = Literal["confirm", "cancel"]


async def shown(deps: Collaborators, token: str, now: datetime) -> Any:
    """What the page of a live link shows, or None (unknown, malformed, expired or revoked alike)."""
    async with deps.db.read() as session:
        return await family_links.find(session, token, now)


async def act(deps: Collaborators, token: str, action: Action) -> bool:
    """The family confirms or cancels; False when the link is not live (see ``family_links``)."""
    now = deps.clock.now()
    async with deps.db.write() as session:
        if action == "confirm":
            return await family_links.confirm(session, token, now)
        cancelled = await family_links.cancel(session, deps.planner, token, now)
        if cancelled:
            await family_pathway.after_family_cancel(session, token, now)
        return cancelled
