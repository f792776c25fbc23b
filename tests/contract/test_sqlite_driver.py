"""The SQLite connection behind the async engine: a write transaction runs on the loop's thread
after one hop, a read in a worker thread, and a writer waiting for the lock never blocks the loop."""

from __future__ import annotations

import asyncio
import fcntl
import os
import sqlite3
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from scheduler.db import engine
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


def _file_lock_free(path: Path) -> bool:
    """Whether another process could take the writers' file lock now (a descriptor of our own)."""
    fd = os.open(path, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)  # closing gives back a lock taken through it
    return True


async def test_writers_of_two_processes_queue_on_the_file_lock_beside_the_database(
    url: str, tmp_path: Path
) -> None:
    # Two engines on one file hold two descriptors of the lock file, whose locks exclude each
    # other as two processes' would.
    first, second = Database.from_url(url), Database.from_url(url)
    lock_file = tmp_path / "creneau-test.db-writers"
    try:
        holding, release = asyncio.Event(), asyncio.Event()

        async def hold() -> None:
            async with first.write() as session:
                await session.execute(text("SELECT 1"))  # BEGIN IMMEDIATE, then the statement
                holding.set()
                await release.wait()

        async def write() -> int:
            async with second.write() as session:
                return int((await session.execute(text("SELECT 2"))).scalar_one())

        holder = asyncio.create_task(hold())
        await holding.wait()
        assert not _file_lock_free(lock_file)
        writer = asyncio.create_task(write())
        await asyncio.sleep(0.2)
        assert not writer.done()  # it waits for the first engine's writer...
        release.set()
        await holder
        assert await asyncio.wait_for(writer, 5) == 2  # ...and goes on once it has committed
        assert _file_lock_free(lock_file)  # both gave the lock back with their transaction
    finally:
        await first.dispose()
        await second.dispose()


async def test_a_writer_that_gave_up_waiting_gives_back_the_file_lock_it_gets_later(
    url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine, "SQLITE_BUSY_TIMEOUT_MS", 300)
    db = Database.from_url(url)
    lock_file = tmp_path / "creneau-test.db-writers"
    other = os.open(lock_file, os.O_RDWR | os.O_CREAT)  # another process's writer holds the lock
    try:
        fcntl.flock(other, fcntl.LOCK_EX)
        with pytest.raises(OperationalError, match="database is locked"):
            async with db.write() as session:
                await session.execute(text("SELECT 1"))
        fcntl.flock(other, fcntl.LOCK_UN)
        # The abandoned wait still takes the lock when it is free, and gives it back at once.
        for _ in range(100):
            if _file_lock_free(lock_file):
                break
            await asyncio.sleep(0.02)
        assert _file_lock_free(lock_file)
        async with db.write() as session:
            assert (await session.execute(text("SELECT 3"))).scalar_one() == 3
    finally:
        os.close(other)
        await db.dispose()
