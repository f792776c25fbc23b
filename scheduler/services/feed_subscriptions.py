"""Calendar feed use cases: an admin creates or revokes a feed URL, a calendar application reads it."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from scheduler.feeds.ical import Privacy
from scheduler.services import feeds, idempotency
from scheduler.services.feeds import CreatedFeed, FeedBodies, LiveFeeds, OwnerKind, ServedFeed
from scheduler.services.idempotency import Created, IdempotentRequest, StoredResponse
from scheduler.services.staff_links import StaffLinks

if TYPE_CHECKING:
    from scheduler.collaborators import Collaborators


async def create(
    deps: Collaborators,
    owner_kind: OwnerKind,
    owner_id: str,
    privacy: Privacy,
    request: IdempotentRequest | None,
    render: Callable[[CreatedFeed], Created],
) -> Created | StoredResponse:
    """A new feed of a staff member, a site or an interpreter, answered with ``render`` of it."""
    now = deps.clock.now()

    async def operation(session: AsyncSession) -> Created:
        return render(await feeds.create(session, owner_kind, owner_id, privacy, now))

    return await idempotency.create(deps.db, request, operation, now)


async def revoke(deps: Collaborators, token: str) -> None:
    """Revoke a feed: its URL answers 404 from now on."""
    async with deps.db.write() as session:
        await feeds.revoke(session, token, deps.clock.now())


async def serve(
    deps: Collaborators, live: LiveFeeds, bodies: FeedBodies, token: str, if_none_match: str | None,
    links: StaffLinks | None = None,
) -> ServedFeed:
    """A feed's current version and, unless the client holds it already, its body (see ``feeds.serve``);
    a staff feed's events link to their outcome pages through ``links``."""
    async with deps.db.read() as session:
        return await feeds.serve(session, live, bodies, token, deps.settings.public_url, if_none_match,
                                 deps.clock.now(), links)
