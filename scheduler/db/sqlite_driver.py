"""SQLite for the async engine without a thread hop per statement inside a write transaction.

aiosqlite runs every call (cursor, execute, fetch, close) on its connection's thread and wakes
the event loop after each: a booking of 15 statements took about 60 trips between threads,
each resuming the request's whole coroutine stack, and the write lock stayed held across all of
them while the loop served other requests (measured: ``bench/booking_profile.py``).

This connection keeps aiosqlite's interface (what SQLAlchemy's ``aiosqlite`` dialect calls) and
runs each call in one of two ways:

- ``BEGIN IMMEDIATE`` (a write transaction) waits first for the other writers of this process
  (an ``asyncio.Lock``, first come first served), then for those of créneau's other processes
  (a file lock, waited for in a worker thread: ``WriterGate``), then runs inline with no busy
  wait; only when another program holds SQLite's write lock does it run again in a worker
  thread, which waits for it (``busy_timeout``) without blocking the loop. Every later statement
  of the transaction, its COMMIT or ROLLBACK run inline, on the loop's thread: they never wait
  for a lock in WAL mode (the write lock is held), they are short, and the transaction ends in
  the same turn of the loop unless its own code awaits something else. No thread hop per write
  transaction while no other process is writing (one when one is), instead of about four per
  statement.
- Anything else (reads, DDL, a deferred transaction) runs in a worker thread, execute and fetch
  in one hop: a long read never blocks the loop.

A connection is used by one task at a time (the pool's checkout), so handing it between the
loop's thread and a worker thread is safe (``check_same_thread=False``, as SQLAlchemy sets).
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import sqlite3
import weakref
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Self, TypeVar

T = TypeVar("T")
WRITE_BEGIN = "BEGIN IMMEDIATE"
READ_BEGIN = "BEGIN"
# Shared by every engine of the process (tests make many): reads, DDL and the wait for the write
# lock. aiosqlite kept one thread per open connection instead.
READ_THREADS = 16
"""Threads that run reads (and open connections); the engine pools as many connections."""
EXECUTOR = ThreadPoolExecutor(max_workers=READ_THREADS, thread_name_prefix="creneau-sqlite")


class WriterGate:
    """The writers of one engine take turns here before asking SQLite for its write lock.

    Two queues, one after the other:

    - this process's writers, on an ``asyncio.Lock`` (one per event loop: an ``asyncio.Lock``
      belongs to the loop that first waits on it, and tests use an engine from more than one);
    - every process's writers of the same database file, on a file lock beside it
      (``flock`` on ``<database>-writers``), when ``lock_path`` is given. SQLite's own lock only
      lets a waiting writer poll: its busy handler sleeps 1 to 100 ms between tries, and the other
      process's next writer may take the lock in between, again and again (seen: bookings of two
      server processes waiting over a second). The kernel wakes a writer waiting on the file lock
      as soon as it is released. SQLite's lock stays the guarantee: a writer that is not créneau's
      (the ``sqlite3`` shell) ignores the file and is waited for with ``busy_timeout`` as before.
    """

    def __init__(self, timeout: float, lock_path: str | None = None) -> None:
        self.timeout = timeout
        self._locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )
        self._lock_path = lock_path
        self._fd: int | None = None
        self._file_held = False

    async def acquire(self) -> asyncio.Lock:
        """Wait for this process's other writers; "database is locked" after ``timeout``, as SQLite says.

        Returns the lock taken, for the caller to release. An uncontended lock is taken without
        yielding to the loop.
        """
        loop = asyncio.get_running_loop()
        lock = self._locks.get(loop)
        if lock is None:
            lock = self._locks[loop] = asyncio.Lock()
        if not lock.locked():
            await lock.acquire()
            return lock
        try:
            async with asyncio.timeout(self.timeout):
                await lock.acquire()
        except TimeoutError:
            raise sqlite3.OperationalError("database is locked") from None
        return lock

    def _file(self) -> int:
        if self._fd is None:
            assert self._lock_path is not None
            fd = self._fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            weakref.finalize(self, os.close, fd)
        return self._fd

    async def take_file(self) -> None:
        """Wait for the writers of the other processes (the file lock); call it holding ``acquire``'s
        lock, so that this process asks for the file once at a time. "database is locked" after
        ``timeout``."""
        if self._lock_path is None:
            return
        fd = self._file()
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            waiting = asyncio.get_running_loop().run_in_executor(EXECUTOR, fcntl.flock, fd, fcntl.LOCK_EX)
            try:
                async with asyncio.timeout(self.timeout):
                    await asyncio.shield(waiting)
            except BaseException as exc:
                # The thread still waits: what it gets is given back at once.
                def give_back(done: asyncio.Future[None]) -> None:
                    if done.exception() is None:
                        fcntl.flock(fd, fcntl.LOCK_UN)

                waiting.add_done_callback(give_back)
                if isinstance(exc, TimeoutError):
                    raise sqlite3.OperationalError("database is locked") from None
                raise
        self._file_held = True

    def release_file(self) -> None:
        """Let the other processes' writers in (after COMMIT or ROLLBACK)."""
        if self._file_held and self._fd is not None:
            self._file_held = False
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    @staticmethod
    async def run(function: Callable[[], T]) -> T:
        """``function`` in a worker thread."""
        return await asyncio.get_running_loop().run_in_executor(EXECUTOR, function)


class Cursor:
    """aiosqlite's cursor interface over a ``sqlite3`` cursor."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._cursor = connection._conn.cursor()
        self._rows: list[Any] | None = None

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value

    def _execute_and_fetch(self, operation: str, parameters: Sequence[Any] | dict[str, Any]) -> None:
        self._cursor.execute(operation, parameters)
        self._rows = self._cursor.fetchall() if self._cursor.description else None

    async def execute(self, operation: str, parameters: Sequence[Any] | dict[str, Any] = ()) -> Cursor:
        connection = self._connection
        if connection.writing:
            self._execute_and_fetch(operation, parameters)
        elif operation.startswith(WRITE_BEGIN):
            await connection.begin_write(lambda: self._execute_and_fetch(operation, parameters))
        elif operation == READ_BEGIN:  # takes no lock and reads nothing until the first statement
            self._execute_and_fetch(operation, parameters)
        else:
            await connection.gate.run(lambda: self._execute_and_fetch(operation, parameters))
        return self

    async def executemany(self, operation: str, seq_of_parameters: Iterable[Any]) -> Cursor:
        def run() -> None:
            self._cursor.executemany(operation, seq_of_parameters)
            self._rows = None

        if self._connection.writing:
            run()
        else:
            await self._connection.gate.run(run)
        return self

    def _take(self, count: int | None) -> list[Any]:
        rows = self._rows
        if rows is None:
            return []
        if count is None or count >= len(rows):
            self._rows = []
            return rows
        self._rows = rows[count:]
        return rows[:count]

    async def fetchall(self) -> list[Any]:
        return self._take(None)

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        return self._take(size or self._cursor.arraysize)

    async def fetchone(self) -> Any:
        taken = self._take(1)
        return taken[0] if taken else None

    async def close(self) -> None:
        self._rows = None
        self._cursor.close()


class _Inline:
    """What SQLAlchemy's dialect puts on aiosqlite's queue (to set ``isolation_level``), run at once."""

    @staticmethod
    def put_nowait(item: tuple[asyncio.Future[Any], Callable[[], Any]]) -> None:
        future, function = item
        try:
            future.set_result(function())
        except Exception as exc:  # noqa: BLE001 - handed back to the awaiting caller, as aiosqlite's thread does
            future.set_exception(exc)


class Connection:
    """aiosqlite's connection interface over a ``sqlite3`` connection (see the module's docstring)."""

    _tx = _Inline()

    def __init__(self, conn: sqlite3.Connection, gate: WriterGate) -> None:
        self._conn = conn
        self._connection: sqlite3.Connection | None = conn  # read by the dialect: "still open"
        self.gate = gate
        self._turn: asyncio.Lock | None = None

    @property
    def writing(self) -> bool:
        """In a write transaction, holding this process's writer turn: statements run inline."""
        return self._turn is not None

    @property
    def isolation_level(self) -> str | None:
        return self._conn.isolation_level

    async def begin_write(self, begin: Callable[[], None]) -> None:
        """Take this process's writer turn, then SQLite's write lock: at once when it is free, else
        in a worker thread, which waits for it (``busy_timeout``) without blocking the loop."""
        turn = await self.gate.acquire()
        try:
            await self.gate.take_file()
            if not self._begin_at_once(begin):
                await self.gate.run(begin)
        except BaseException:
            self.gate.release_file()
            turn.release()
            raise
        self._turn = turn

    def _begin_at_once(self, begin: Callable[[], None]) -> bool:
        """``begin`` on the loop's thread if SQLite's write lock is free (no waiting); False if not."""
        self._conn.execute("PRAGMA busy_timeout=0")
        try:
            begin()
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode != sqlite3.SQLITE_BUSY:
                raise
            return False
        finally:
            self._conn.execute(f"PRAGMA busy_timeout={round(self.gate.timeout * 1000)}")
        return True

    def _end(self) -> None:
        turn, self._turn = self._turn, None
        if turn is not None:
            self.gate.release_file()
            turn.release()

    def cursor(self) -> Cursor:
        """A cursor (entered with ``async with``, as aiosqlite's; creating it touches no file)."""
        return Cursor(self)

    async def execute(self, operation: str, parameters: Sequence[Any] | dict[str, Any] = ()) -> Cursor:
        cursor = Cursor(self)
        return await cursor.execute(operation, parameters)

    async def commit(self) -> None:
        try:
            if self.writing:
                self._conn.commit()
            else:
                await self.gate.run(self._conn.commit)
        finally:
            self._end()

    async def rollback(self) -> None:
        # Inline either way: a rollback waits for no lock, and most end a read (or nothing at all).
        try:
            self._conn.rollback()
        finally:
            self._end()

    async def close(self) -> None:
        self.stop()

    def stop(self) -> None:
        """Close at once (SQLAlchemy's terminate): an open transaction is rolled back by SQLite."""
        self._end()
        if self._connection is not None:
            self._connection = None
            self._conn.close()

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        self._conn.create_function(*args, **kwargs)


def writers_lock_path(args: Sequence[Any], kwargs: Mapping[str, Any]) -> str | None:
    """The file lock of a database file's writers (``WriterGate``): ``<database>-writers`` beside it,
    as SQLite keeps ``-wal`` and ``-shm``; None for a database in memory or given as a URI."""
    database = str(args[0]) if args else ""
    if not database or database == ":memory:" or kwargs.get("uri"):
        return None
    return f"{database}-writers"


def connector(args: Sequence[Any], kwargs: dict[str, Any], gate: WriterGate) -> Callable[[], Any]:
    """An ``async_creator`` for ``create_async_engine``: a new connection, opened in a worker thread."""

    async def connect() -> Connection:
        options = {**kwargs, "check_same_thread": False, "timeout": gate.timeout}
        conn = await gate.run(lambda: sqlite3.connect(*args, **options))
        return Connection(conn, gate)

    return connect
