"""Calendar feed use cases: an admin creates or revokes a feed URL, a calendar application reads it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from scheduler.db import feeds as feed_store
from scheduler.db.tables import Site, Staff
from scheduler.feeds.ical import Privacy
from scheduler.services import admin, feeds, idempotency
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


@dataclass(frozen=True, slots=True)
class FeedListed:
    """A live feed as its owner's list shows it: never the token."""

    id: str
    privacy: str
    created_at: datetime
    last_fetched_at: datetime | None


async def owned(deps: Collaborators, owner_kind: OwnerKind, owner_id: str) -> list[FeedListed]:
    """The live feeds of a staff member or a site (NotFound for an unknown, or hidden, owner)."""
    table = Staff if owner_kind == "staff" else Site
    async with deps.db.read() as session:
        await admin.get(session, table, owner_id, "staff member" if owner_kind == "staff" else "site")
        return [FeedListed(*row) for row in await feed_store.owned(session, owner_kind, owner_id)]


async def serve(
    deps: Collaborators, live: LiveFeeds, bodies: FeedBodies, token: str, if_none_match: str | None,
    links: StaffLinks | None = None,
) -> ServedFeed:
    """A feed's current version and, unless the client holds it already, its body (see ``feeds.serve``);
    a staff feed's events link to their outcome pages through ``links``."""
    async with deps.db.read(snapshot=True) as session:  # the look-up and the counters agree
        return await feeds.serve(session, live, bodies, token, deps.settings.public_url, if_none_match,
                                 deps.clock.now(), links)
