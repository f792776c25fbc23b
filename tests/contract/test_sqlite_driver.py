"""The SQLite connection behind the async engine: a write transaction runs on the loop's thread
after one hop, a read in a worker thread, and a writer waiting for the lock never blocks the loop."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from scheduler.db.engine import Database
from tests.support.databases import sqlite_database

pytestmark = pytest.mark.anyio


@pytest.fixture
def url(tmp_path: Path) -> str:
    return sqlite_database(tmp_path).url


@pytest.fixture
async def db(url: str) -> AsyncIterator[Database]:
    handle = Database.from_url(url)
    yield handle
    await handle.dispose()


async def _thread_of_statements(session: AsyncSession) -> int:
    """The thread that ran a statement of the session (an SQL function answering from where it runs)."""
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    raw.driver_connection._conn.create_function("thread_id", 0, threading.get_ident)  # type: ignore[union-attr]
    return int((await session.execute(text("SELECT thread_id()"))).scalar_one())


async def test_a_write_transaction_runs_on_the_loops_thread_and_a_read_in_a_worker(db: Database) -> None:
    loop_thread = threading.get_ident()
    async with db.write() as session:
        assert await _thread_of_statements(session) == loop_thread
    async with db.read() as session:
        assert await _thread_of_statements(session) != loop_thread


async def test_writers_of_one_process_take_turns_and_all_commit(db: Database) -> None:
    order: list[str] = []

    async def write(name: str) -> None:
        async with db.write() as session:
            # The transaction begins (BEGIN IMMEDIATE) with its first statement.
            await session.execute(text("INSERT INTO audit_entry_probe VALUES (:name)"), {"name": name})
            order.append(f"{name} in")
            await asyncio.sleep(0.01)  # yields to the loop while holding the write lock
            order.append(f"{name} out")

    async with db.write() as session:
        await session.execute(text("CREATE TABLE audit_entry_probe (name TEXT)"))
    await asyncio.gather(*(write(f"w{n}") for n in range(5)))
    # Each writer left before the next came in (in the order they reached their first statement,
    # which their connections' opening may change).
    turns = [(order[n].split()[0], order[n + 1]) for n in range(0, len(order), 2)]
    assert [f"{name} out" for name, _ in turns] == [left for _, left in turns]
    assert sorted(name for name, _ in turns) == [f"w{n}" for n in range(5)]
    async with db.read() as session:
        assert (await session.execute(text("SELECT count(*) FROM audit_entry_probe"))).scalar_one() == 5


async def test_a_writer_waiting_for_another_process_lets_the_loop_run(db: Database, tmp_path: Path) -> None:
    other = sqlite3.connect(tmp_path / "creneau-test.db", isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")  # another process's writer, as SQLite sees it
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.005)

    async def write() -> int:
        async with db.write() as session:
            return int((await session.execute(text("SELECT 1"))).scalar_one())

    ticker = asyncio.create_task(tick())
    writer = asyncio.create_task(write())
    await asyncio.sleep(0.2)
    assert not writer.done()  # it waits for the lock...
    assert ticks >= 5  # ...and the loop runs meanwhile
    other.execute("COMMIT")
    assert await asyncio.wait_for(writer, 5) == 1
    ticker.cancel()
    other.close()
