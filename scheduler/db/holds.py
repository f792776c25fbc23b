"""Holds: the rows through which the database itself refuses double bookings."""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Final

from sqlalchemy import (
    Insert,
    and_,
    bindparam,
    func,
    literal,
    null,
    or_,
    select,
    type_coerce,
    union_all,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from scheduler.db.dialect import PerDialect, UpsertInsert, insert_for
from scheduler.db.engine import dialect_name
from scheduler.db.tables import ChangeCounter, HoldRecord, new_id
from scheduler.domain.intervals import Interval
from scheduler.domain.slots import Hold

hold_table = HoldRecord.__table__  # type: ignore[attr-defined]


BLOCK_KEY: Final = ["resource_id", "service_id", "starts_at"]


def _new_block(dialect: str, taken: int) -> UpsertInsert:
    """A block row for the bound resource, service and times, with ``taken`` places taken."""
    return insert_for(dialect, hold_table).values(
        id=bindparam("id"), resource_id=bindparam("resource_id"), resource_kind=bindparam("kind"),
        service_id=bindparam("service_id"), starts_at=bindparam("starts_at"), ends_at=bindparam("ends_at"),
        capacity=bindparam("capacity"), taken=taken,
    )


def _one_place_statement(dialect: str) -> Insert:
    # A new block is inserted with its place taken; an existing one (freed by a cancellation)
    # is taken again only while free. Either way the overlap trigger checks the taken block.
    insert = _new_block(dialect, taken=1)
    return insert.on_conflict_do_update(
        index_elements=BLOCK_KEY,
        set_={"taken": hold_table.c.taken + 1},
        where=and_(hold_table.c.ends_at == insert.excluded.ends_at,
                   hold_table.c.taken < hold_table.c.capacity),
    ).returning(hold_table.c.id)


# Statements built once per database, with bound parameters: a booking spends nothing on
# building and cache-keying them (measured: about a third of each statement's Python cost).
ONE_PLACE_SQLITE: Final = _one_place_statement("sqlite")
NEW_BLOCK: Final = PerDialect(lambda dialect: _new_block(dialect, taken=0).on_conflict_do_nothing(
    index_elements=BLOCK_KEY))
TAKE_PLACE: Final = (
    update(hold_table)
    .where(
        hold_table.c.resource_id == bindparam("block_resource_id"),
        hold_table.c.service_id == bindparam("block_service_id"),
        hold_table.c.starts_at == bindparam("block_starts_at"),
        hold_table.c.ends_at == bindparam("block_ends_at"),
        hold_table.c.taken < hold_table.c.capacity,
    )
    .values(taken=hold_table.c.taken + 1)
    .returning(hold_table.c.id)
)


async def acquire(
    session: AsyncSession, resource_id: str, kind: str, service_id: str, interval: Interval, capacity: int
) -> str | None:
    """Take one place on the resource's block at ``interval``; the hold id, or None when full.

    An overlapping block of the same resource makes the database raise (exclusion constraint
    or trigger); the caller treats that as "not free" (inside a savepoint when it goes on).
    The block row is created if missing (with no place taken), then its count raised only
    while below capacity: one conditional UPDATE, so concurrent bookings of the last place
    cannot both succeed. On SQLite, whose writers take turns, a block of one place is taken
    with a single upsert instead. Neither shortcut works elsewhere: on SQLite the BEFORE INSERT
    guard fires before the conflict is seen, so a collective block refuses its second place;
    on PostgreSQL two concurrent inserts of a taken block wait on each other's exclusion
    check (deadlock detected, seen with 50 concurrent bookings), while a block inserted with
    no place taken is outside the constraint and the UPDATE's row lock orders them.
    """
    dialect = dialect_name(session)
    values = {"id": new_id(), "resource_id": resource_id, "kind": kind, "service_id": service_id,
              "starts_at": interval.start, "ends_at": interval.end, "capacity": capacity}
    if capacity == 1 and dialect == "sqlite":
        taken: str | None = (await session.execute(ONE_PLACE_SQLITE, values)).scalar_one_or_none()
        return taken
    await session.execute(NEW_BLOCK[dialect], values)
    # Named apart from the columns: an UPDATE would take same-named parameters as values to SET.
    block = {f"block_{name}": values[name] for name in ("resource_id", "service_id", "starts_at", "ends_at")}
    taken = (await session.execute(TAKE_PLACE, block)).scalar_one_or_none()
    return taken


async def try_acquire(
    session: AsyncSession, resource_id: str, kind: str, service_id: str, interval: Interval, capacity: int
) -> str | None:
    """``acquire`` inside a savepoint: an overlap refused by the database gives None, not an error."""
    try:
        async with session.begin_nested():
            return await acquire(session, resource_id, kind, service_id, interval, capacity)
    except IntegrityError:
        return None


async def acquire_or_none(
    session: AsyncSession, resource_id: str, kind: str, service_id: str, interval: Interval, capacity: int
) -> str | None:
    """``acquire`` without a savepoint: after None the transaction must end (PostgreSQL aborted it)."""
    try:
        return await acquire(session, resource_id, kind, service_id, interval, capacity)
    except IntegrityError:
        return None


async def release(session: AsyncSession, hold_id: str) -> None:
    """Give back one place of a hold."""
    await session.execute(
        update(hold_table)
        .where(and_(hold_table.c.id == hold_id, hold_table.c.taken > 0))
        .values(taken=hold_table.c.taken - 1)
    )


BLOCKING: Final = select(
    hold_table.c.resource_id, hold_table.c.service_id, hold_table.c.starts_at, hold_table.c.ends_at,
    hold_table.c.taken, hold_table.c.capacity,
).where(
    hold_table.c.resource_id.in_(bindparam("ids", expanding=True)),
    hold_table.c.taken > 0,
    hold_table.c.starts_at < bindparam("window_end"),
    hold_table.c.ends_at > bindparam("window_start"),
)


async def blocking_holds(
    session: AsyncSession, resource_ids: list[str], window: Interval
) -> list[Any]:
    """Holds that block any of the resources during the window (a statement built once)."""
    if not resource_ids:
        return []
    rows = await session.execute(BLOCKING, {"ids": resource_ids, "window_start": window.start,
                                            "window_end": window.end})
    return list(rows.all())


def _with_counter() -> Any:
    """``BLOCKING``'s rows, then one row of the change counter bound as ``counter_key``: its ``seq``
    in the ``taken`` column (0 when never raised), told apart by ``is_counter``."""
    counter = ChangeCounter.__table__  # type: ignore[attr-defined]
    seq = select(counter.c.seq).where(counter.c.key == bindparam("counter_key")).scalar_subquery()
    holds = BLOCKING.add_columns(literal(False).label("is_counter"))
    nothing = [type_coerce(null(), column.type) for column in BLOCKING.selected_columns]
    seq_row = select(*nothing[:4], func.coalesce(seq, 0), nothing[5], literal(True))
    return union_all(holds, seq_row)


BLOCKING_AND_COUNTER: Final = _with_counter()


async def blocking_holds_and_counter(
    session: AsyncSession, counter_key: str, resource_ids: list[str], window: Interval
) -> tuple[int, list[Any]]:
    """One change counter's value (0: never raised) and ``blocking_holds``, in one statement: for a
    search kept in memory while that counter stays put, one round trip instead of two."""
    parameters = {"counter_key": counter_key, "ids": resource_ids, "window_start": window.start,
                  "window_end": window.end}
    rows = await session.execute(BLOCKING_AND_COUNTER, parameters)
    seq, holds = 0, []
    for row in rows.all():
        if row[6]:
            seq = int(row[4])
        else:
            holds.append(row[:6])  # ``BLOCKING``'s columns
    return seq, holds


@lru_cache(maxsize=8)
def _blocking_within(windows: int) -> Any:
    """``BLOCKING`` over several windows at once: one statement per number of windows, built once."""
    return select(*BLOCKING.selected_columns).where(
        hold_table.c.resource_id.in_(bindparam("ids", expanding=True)),
        hold_table.c.taken > 0,
        or_(*(and_(hold_table.c.starts_at < bindparam(f"end_{n}"),
                   hold_table.c.ends_at > bindparam(f"start_{n}")) for n in range(windows))),
    )


async def blocking_holds_within(
    session: AsyncSession, resource_ids: list[str], windows: list[Interval]
) -> list[Any]:
    """Holds that block any of the resources during any of the windows, in one query (``BLOCKING``'s rows)."""
    if not resource_ids or not windows:
        return []
    parameters: dict[str, Any] = {"ids": resource_ids}
    for n, window in enumerate(windows):
        parameters[f"start_{n}"], parameters[f"end_{n}"] = window.start, window.end
    return list((await session.execute(_blocking_within(len(windows)), parameters)).all())


def as_hold(row: Any) -> Hold:
    """The engine's view of a ``BLOCKING`` row."""
    # Rows hold UTC instants in order (a CHECK constraint): no need to validate them again.
    resource_id, service_id, starts_at, ends_at, taken, capacity = row
    return Hold(resource_id, Interval.of_utc(starts_at, ends_at), service_id, taken, capacity)
