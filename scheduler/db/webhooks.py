"""Webhook endpoints and their deliveries: the outbox rows a delivery worker claims.

Claims work as the SMS outbox's do: ``UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED)``
on PostgreSQL, so concurrent workers never claim the same row, with a lease after which a crashed
worker's deliveries are claimed again (at least once: the receiver may see the same
``webhook-id`` twice). SQLite serialises writers and ignores the clause.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from scheduler.db.dialect import insert_for
from scheduler.db.event_tables import Event as EventRow
from scheduler.db.event_tables import WebhookDelivery, WebhookEndpoint
from scheduler.db.tables import ApiKey, new_id

DELIVERIES: Final = WebhookDelivery.__table__  # type: ignore[attr-defined]
ENDPOINTS: Final = WebhookEndpoint.__table__  # type: ignore[attr-defined]
PENDING, SUCCEEDED, FAILED = "pending", "succeeded", "failed"
STATUSES: Final = (PENDING, SUCCEEDED, FAILED)


async def enabled_endpoints(session: AsyncSession) -> list[tuple[str, list[str], list[str] | None]]:
    """Every enabled endpoint's id, subscribed types and the sites its key sees (None: all)."""
    rows = await session.execute(
        select(col(WebhookEndpoint.id), col(WebhookEndpoint.events), col(ApiKey.site_ids))
        .outerjoin(ApiKey, col(ApiKey.id) == col(WebhookEndpoint.api_key_id))
        .where(col(WebhookEndpoint.disabled).is_(False)))
    return [(ident, list(events), sites) for ident, events, sites in rows.all()]


async def queue(session: AsyncSession, endpoint_ids: Sequence[str], event_id: str, event_type: str,
                now: datetime) -> int:
    """Queue an event for endpoints, due now; an (endpoint, event) already there is put back in the queue.

    A row put back starts a fresh retry schedule and loses any claim: a delivery in flight while
    a replay is asked for is sent once more after it (its own outcome is then not recorded).
    Returns how many rows were queued or re-queued.
    """
    if not endpoint_ids:
        return 0
    insert = insert_for(session, DELIVERIES)
    rows = [{"id": new_id(), "endpoint_id": endpoint_id, "event_id": event_id, "event_type": event_type,
             "status": PENDING, "attempts": 0, "next_attempt_at": now, "created_at": now}
            for endpoint_id in endpoint_ids]
    statement = insert.values(rows).on_conflict_do_update(
        index_elements=["endpoint_id", "event_id"],
        set_={"status": PENDING, "attempts": 0, "next_attempt_at": now, "claimed_until": None},
    )
    result = await session.execute(statement)
    return int(getattr(result, "rowcount", 0) or 0)


@dataclass(frozen=True, slots=True)
class Claimed:
    """A delivery claimed by this worker, with what sending it needs."""

    id: str
    endpoint_id: str
    event_id: str
    attempts: int
    """Attempts made before this one."""
    lease_until: datetime


async def claim(
    session: AsyncSession, now: datetime, lease: timedelta, batch: int, room: Mapping[str, int],
    per_endpoint: int,
) -> list[Claimed]:
    """Take up to ``batch`` due deliveries of enabled endpoints, at most ``room`` (else
    ``per_endpoint``) each.

    ``room`` is how many more deliveries each endpoint may have in flight in this process: an
    endpoint whose receiver is slow has its own deliveries waiting, never the others'. One probe
    finds the endpoints with something due, then one claim per endpoint reads only the head of
    its queue (``ix_webhook_delivery_due``), however long the backlog.
    """
    due = and_(DELIVERIES.c.status == PENDING, DELIVERIES.c.next_attempt_at <= now,
               or_(DELIVERIES.c.claimed_until.is_(None), DELIVERIES.c.claimed_until < now))
    waiting = select(DELIVERIES.c.id).where(DELIVERIES.c.endpoint_id == ENDPOINTS.c.id, due).exists()
    endpoints = (await session.execute(select(ENDPOINTS.c.id).where(ENDPOINTS.c.disabled.is_(False), waiting)
                                       .order_by(func.random()))).scalars().all()
    claimed: list[Claimed] = []
    until = now + lease
    for endpoint_id in endpoints:
        wanted = min(room.get(endpoint_id, per_endpoint), batch - len(claimed))
        if wanted <= 0:
            continue
        pick = (select(DELIVERIES.c.id).where(DELIVERIES.c.endpoint_id == endpoint_id, due)
                .order_by(DELIVERIES.c.next_attempt_at).limit(wanted).with_for_update(skip_locked=True))
        statement = (update(DELIVERIES).where(DELIVERIES.c.id.in_(pick.scalar_subquery()))
                     .values(claimed_until=until)
                     .returning(DELIVERIES.c.id, DELIVERIES.c.endpoint_id, DELIVERIES.c.event_id,
                                DELIVERIES.c.attempts))
        claimed += [Claimed(row.id, row.endpoint_id, row.event_id, row.attempts, until)
                    for row in (await session.execute(statement)).all()]
    return claimed


async def record_attempt(session: AsyncSession, claimed: Claimed, **values: Any) -> bool:
    """Record an attempt's outcome, if the claim is still ours (False: its lease lapsed and it was taken)."""
    statement = (update(DELIVERIES)
                 .where(DELIVERIES.c.id == claimed.id, DELIVERIES.c.claimed_until == claimed.lease_until)
                 .values(claimed_until=None, attempts=DELIVERIES.c.attempts + 1, **values))
    result = await session.execute(statement)
    return bool(getattr(result, "rowcount", 0))


async def endpoint(session: AsyncSession, endpoint_id: str) -> WebhookEndpoint | None:
    """One endpoint by id."""
    return await session.get(WebhookEndpoint, endpoint_id)


async def endpoints_by_id(session: AsyncSession, endpoint_ids: set[str]) -> dict[str, WebhookEndpoint]:
    """Endpoints by id."""
    rows = await session.execute(select(WebhookEndpoint).where(col(WebhookEndpoint.id).in_(endpoint_ids)))
    return {row.id: row for row in rows.scalars()}


async def endpoints_of(
    session: AsyncSession, api_key_id: str, after: str | None, limit: int
) -> list[WebhookEndpoint]:
    """An API key's endpoints by id, past a cursor, up to ``limit + 1``."""
    statement = select(WebhookEndpoint).where(col(WebhookEndpoint.api_key_id) == api_key_id)
    if after:
        statement = statement.where(col(WebhookEndpoint.id) > after)
    statement = statement.order_by(col(WebhookEndpoint.id)).limit(limit + 1)
    return list((await session.execute(statement)).scalars())


async def event_payloads(session: AsyncSession, event_ids: Sequence[str]) -> dict[str, EventRow]:
    """Events by id."""
    rows = await session.execute(select(EventRow).where(col(EventRow.id).in_(event_ids)))
    return {row.id: row for row in rows.scalars()}


async def deliveries_of(
    session: AsyncSession, endpoint_id: str, status: str | None, after: tuple[datetime, str] | None,
    limit: int,
) -> list[WebhookDelivery]:
    """An endpoint's deliveries, newest first, past a (created_at, id) cursor, up to ``limit + 1``."""
    statement = select(WebhookDelivery).where(col(WebhookDelivery.endpoint_id) == endpoint_id)
    if status is not None:
        statement = statement.where(col(WebhookDelivery.status) == status)
    if after is not None:
        created, ident = after
        statement = statement.where(or_(col(WebhookDelivery.created_at) < created,
                                        and_(col(WebhookDelivery.created_at) == created,
                                             col(WebhookDelivery.id) < ident)))
    statement = statement.order_by(col(WebhookDelivery.created_at).desc(), col(WebhookDelivery.id).desc())
    return list((await session.execute(statement.limit(limit + 1))).scalars())


async def delivery(session: AsyncSession, endpoint_id: str, delivery_id: str) -> WebhookDelivery | None:
    """One delivery of an endpoint."""
    found = await session.get(WebhookDelivery, delivery_id)
    return found if found is not None and found.endpoint_id == endpoint_id else None


async def requeue(session: AsyncSession, delivery_id: str, now: datetime) -> None:
    """Put a delivery back in the queue, due now, with a fresh retry schedule."""
    await session.execute(update(WebhookDelivery).where(col(WebhookDelivery.id) == delivery_id)
                          .values(status=PENDING, attempts=0, next_attempt_at=now, claimed_until=None))


async def remove_endpoint(session: AsyncSession, endpoint_id: str) -> None:
    """Delete an endpoint and its delivery log."""
    await session.execute(delete(WebhookDelivery).where(col(WebhookDelivery.endpoint_id) == endpoint_id))
    await session.execute(delete(WebhookEndpoint).where(col(WebhookEndpoint.id) == endpoint_id))


async def disable(session: AsyncSession, endpoint_id: str, reason: str, now: datetime) -> None:
    """Stop delivering to an endpoint (its pending deliveries wait, should it be enabled again)."""
    await session.execute(update(WebhookEndpoint).where(col(WebhookEndpoint.id) == endpoint_id)
                          .values(disabled=True, disabled_reason=reason, updated_at=now))


async def mark_success(session: AsyncSession, endpoint_id: str) -> None:
    """A success ends the endpoint's run of failures."""
    await session.execute(update(WebhookEndpoint).where(col(WebhookEndpoint.id) == endpoint_id,
                                                        col(WebhookEndpoint.failing_since).is_not(None))
                          .values(failing_since=None))


async def mark_failure(session: AsyncSession, endpoint_id: str, now: datetime) -> datetime:
    """Note a failed attempt; returns since when the endpoint has only failed."""
    await session.execute(update(WebhookEndpoint).where(col(WebhookEndpoint.id) == endpoint_id,
                                                        col(WebhookEndpoint.failing_since).is_(None))
                          .values(failing_since=now))
    since: datetime | None = await session.scalar(select(col(WebhookEndpoint.failing_since))
                                                  .where(col(WebhookEndpoint.id) == endpoint_id))
    return since or now


async def health(session: AsyncSession, now: datetime) -> tuple[list[Any], list[Any]]:
    """For metrics: (endpoint, status, count, attempts) rows, and (endpoint, oldest pending
    created_at) rows."""
    counts = await session.execute(
        select(DELIVERIES.c.endpoint_id, DELIVERIES.c.status, func.count(), func.sum(DELIVERIES.c.attempts))
        .group_by(DELIVERIES.c.endpoint_id, DELIVERIES.c.status))
    oldest = await session.execute(
        select(DELIVERIES.c.endpoint_id, func.min(DELIVERIES.c.created_at))
        .where(DELIVERIES.c.status == PENDING).group_by(DELIVERIES.c.endpoint_id))
    return list(counts.all()), list(oldest.all())
