"""The event feed under concurrent writers: a poller that follows ``next_cursor`` never misses nor repeats.

On PostgreSQL the sequence value is taken at insert, and each writer here waits a random while
before committing, so sequence order and commit order disagree all the time; some writers roll
back. Three pollers follow the feed meanwhile; afterwards each one's sequence must be exactly
the committed events, each once, in the table's (transaction, sequence) order.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from scheduler.db.engine import Database
from scheduler.domain.events import Actor, Event
from scheduler.services import events
from tests.support.databases import DatabaseHandle

pytestmark = pytest.mark.anyio

WRITERS = 20
POLLERS = 3
EVENTS_PER_WRITER = 25
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


class RolledBack(Exception):
    """Raised inside a writer's transaction to abort it after its insert."""


@pytest.fixture
async def db(database: DatabaseHandle) -> AsyncIterator[Database]:
    found = Database.from_url(database.url, pool_size=WRITERS + POLLERS + 2)
    yield found
    await found.dispose()


async def _writer(db: Database, rng: random.Random, committed: list[str]) -> None:
    for index in range(EVENTS_PER_WRITER):
        event = Event("appointment.booked", NOW, Actor("system"), {"n": index})
        try:
            async with db.write() as session:
                await events.record(session, event)
                await asyncio.sleep(rng.uniform(0, 0.02))  # sequence taken; commit comes later
                if rng.random() < 0.1:
                    raise RolledBack
        except RolledBack:
            continue
        committed.append(event.id)


async def _poller(
    db: Database, rng: random.Random, writers_done: asyncio.Event, committed: list[str]
) -> list[str]:
    # Polls until the writers are done and it has caught up with what they committed (or a
    # deadline: on a shared server, another database's transaction can hold the feed back a while).
    seen: list[str] = []
    cursor: str | None = None
    deadline = asyncio.get_running_loop().time() + 60
    while not (writers_done.is_set() and len(seen) >= len(committed)):
        if asyncio.get_running_loop().time() > deadline:
            break
        async with db.read() as session:
            page = await events.read_feed(session, cursor, None, rng.randint(1, 40))
        seen += [item["id"] for item in page.items]
        cursor = page.next_cursor
        await asyncio.sleep(rng.uniform(0, 0.01))
    async with db.read() as session:  # and nothing more past the end
        seen += [item["id"] for item in (await events.read_feed(session, cursor, None, 500)).items]
    return seen


async def _table_order(db: Database) -> list[str]:
    order = "xid, seq" if db.dialect == "postgresql" else "seq"
    async with db.read() as session:
        return list((await session.execute(text(f"SELECT id FROM event ORDER BY {order}"))).scalars())


async def test_pollers_see_every_committed_event_once_in_order_under_concurrent_writers(db: Database) -> None:
    rng = random.Random(20261125)
    committed: list[str] = []
    writers_done = asyncio.Event()
    pollers = [asyncio.create_task(_poller(db, random.Random(seed), writers_done, committed))
               for seed in range(POLLERS)]
    await asyncio.gather(*(_writer(db, random.Random(rng.random()), committed) for _ in range(WRITERS)))
    writers_done.set()
    sequences = await asyncio.gather(*pollers)
    table = await _table_order(db)
    assert sorted(table) == sorted(committed)
    assert WRITERS * EVENTS_PER_WRITER * 0.8 < len(committed) < WRITERS * EVENTS_PER_WRITER
    for seen in sequences:
        assert seen == table
