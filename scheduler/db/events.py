"""The event table: append in the caller's transaction, read the history and the feed.

The feed must never run past a transaction still in flight. On PostgreSQL a sequence value
taken first can commit last: a reader that returned seq 12 (committed) while seq 11 was still
in flight would skip 11 for ever. Each row therefore keeps its transaction's id, and the feed
returns only rows of transactions older than ``pg_snapshot_xmin(pg_current_snapshot())``, the
oldest transaction still running: those are all finished, so no row can ever appear among them
again. Reading in (xid, seq) order past the cursor then neither misses nor repeats a row. The
price: a long transaction anywhere on the server holds the feed back until it ends. SQLite
serialises writers (BEGIN IMMEDIATE), so there a row's seq is its commit order.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Final
from zoneinfo import ZoneInfo

from sqlalchemy import BigInteger, Text, and_, cast, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from scheduler.db import webhooks as webhook_store
from scheduler.db.engine import dialect_name
from scheduler.db.event_tables import Event as EventRow
from scheduler.db.tables import Site
from scheduler.domain.events import Event, FeedPosition, subscribed

TABLE: Final = EventRow.__table__  # type: ignore[attr-defined]
# xid8 has no cast to bigint; through text it is the same 64-bit number (epoch included).
CURRENT_XID: Final = cast(cast(func.pg_current_xact_id(), Text), BigInteger)
OLDEST_RUNNING_XID: Final = cast(cast(func.pg_snapshot_xmin(func.pg_current_snapshot()), Text), BigInteger)


async def record(session: AsyncSession, event: Event) -> Event:
    """Append ``event`` and queue it for every enabled endpoint subscribed to its type; same transaction."""
    await append(session, event)
    endpoints = [ident for ident, wanted, sites in await webhook_store.enabled_endpoints(session)
                 if subscribed(wanted, event.type) and (sites is None or event.site_id in sites)]
    await webhook_store.queue(session, endpoints, event.id, event.type, event.occurred_at)
    return event


async def append(session: AsyncSession, event: Event) -> None:
    """Insert ``event`` in the session's transaction (it commits or rolls back with the change)."""
    await session.execute(TABLE.insert().values(**values_of(event, dialect_name(session))))


def values_of(event: Event, dialect: str) -> dict[str, Any]:
    """The event's row for an INSERT on ``dialect`` (on PostgreSQL, with its transaction's id)."""
    values: dict[str, Any] = {
        "id": event.id, "type": event.type, "occurred_at": event.occurred_at, "actor_kind": event.actor.kind,
        "actor_id": event.actor.id, "actor_name": event.actor.name, "appointment_id": event.appointment_id,
        "site_id": event.site_id, "pathway_id": event.pathway_id, "data": event.data,
    }
    if dialect == "postgresql":
        values["xid"] = CURRENT_XID
    return values


async def feed_page(
    session: AsyncSession, after: FeedPosition, limit: int, event_type: str | None = None
) -> list[EventRow]:
    """Up to ``limit`` events past ``after``, oldest first, none of a transaction still in flight."""
    statement = select(EventRow)
    if dialect_name(session) == "postgresql":
        xid, seq = col(EventRow.xid), col(EventRow.seq)
        statement = statement.where(
            xid < OLDEST_RUNNING_XID,
            or_(xid > after.xid, and_(xid == after.xid, seq > after.seq)),
        ).order_by(xid, seq)
    else:
        statement = statement.where(col(EventRow.seq) > after.seq).order_by(col(EventRow.seq))
    if event_type is not None:
        statement = statement.where(col(EventRow.type) == event_type)
    return list((await session.execute(statement.limit(limit))).scalars())


def position_of(row: EventRow) -> FeedPosition:
    """The feed position just past ``row``."""
    return FeedPosition(row.xid or 0, row.seq or 0)


async def for_appointment(session: AsyncSession, appointment_id: str) -> list[EventRow]:
    """An appointment's whole history, oldest first."""
    statement = (select(EventRow).where(col(EventRow.appointment_id) == appointment_id)
                 .order_by(col(EventRow.seq)))
    return list((await session.execute(statement)).scalars())


async def since(session: AsyncSession, occurred_from: Any, types: Sequence[str] | None) -> list[EventRow]:
    """Events that occurred at or after a time (of some types; None: all), oldest first: for replays."""
    statement = select(EventRow).where(col(EventRow.occurred_at) >= occurred_from)
    if types is not None:
        statement = statement.where(col(EventRow.type).in_(types))
    return list((await session.execute(statement.order_by(col(EventRow.seq)))).scalars())


async def site_zones(session: AsyncSession, site_ids: Iterable[str]) -> dict[str, ZoneInfo]:
    """The zone of each site, to show events' times in."""
    wanted = list(site_ids)
    if not wanted:
        return {}
    rows = await session.execute(select(col(Site.id), col(Site.timezone)).where(col(Site.id).in_(wanted)))
    return {ident: ZoneInfo(zone) for ident, zone in rows.all()}
