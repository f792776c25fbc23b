"""The async engine and its transactions, with SQLite tuned for a writer that never double-books."""

from __future__ import annotations

import copy
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from sqlalchemy import event
from sqlalchemy.dialects.sqlite.aiosqlite import SQLiteDialect_aiosqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from scheduler.db import sqlite_driver

if TYPE_CHECKING:
    from scheduler.db.access import SiteAccess

# How long a SQLite writer waits for the lock before giving up: booking bursts queue up
# behind BEGIN IMMEDIATE, and a few seconds is far more than one booking transaction takes.
SQLITE_BUSY_TIMEOUT_MS = 15_000
DEFAULT_TIMEOUT_SECONDS = 5.0
PING_AFTER_IDLE_SECONDS = 2.0
"""A PostgreSQL connection unused that long is pinged before use (see ``_ping_when_idle``)."""
IDLE_SINCE = "creneau_idle_since"
ACCESS_KEY = "creneau_site_access"
"""Where a session keeps its caller's ``SiteAccess`` (read by ``scheduler.db.access``)."""
AUDIT_PURGE = "creneau_audit_purge"
"""On SQLite, a SQL function of every connection (no argument) that answers 1 while the connection's
``info[AUDIT_PURGE]`` is set, else 0: the ``audit_entry`` DELETE trigger (migration 0017) lets a
delete through only then, and only ``scheduler.db.audit.purge_older_than`` sets it."""


def is_sqlite(url: str) -> bool:
    """True for a SQLite URL."""
    return make_url(url).get_backend_name() == "sqlite"


def create_engine(url: str, *, echo: bool = False, pool_size: int = 10,
                  timeout: float = DEFAULT_TIMEOUT_SECONDS) -> AsyncEngine:
    """An async engine for ``url`` (``sqlite+aiosqlite://`` or ``postgresql+asyncpg://``).

    ``timeout`` bounds the wait for a PostgreSQL connection and for a free pooled one, so that
    an unreachable server makes requests fail fast (503) instead of queueing for a minute
    (asyncpg's own connect timeout is 60 s, SQLAlchemy's pool timeout 30 s).
    """
    if is_sqlite(url):
        # A write transaction without a thread hop per statement: see ``sqlite_driver``.
        args, kwargs = SQLiteDialect_aiosqlite().create_connect_args(make_url(url))
        lock_path = sqlite_driver.writers_lock_path(args, kwargs)
        gate = sqlite_driver.WriterGate(SQLITE_BUSY_TIMEOUT_MS / 1000, lock_path)
        connect = sqlite_driver.connector(args, dict(kwargs), gate)
        # A pool as large as the reads that may run at once (the driver's threads), no overflow:
        # an overflow connection is closed when given back, so under load each request beyond
        # the pool opened and closed its own (5 % of a slot search's CPU, and memory churn).
        # Requests beyond it wait their turn (SQLAlchemy's default 30 s: no server to lose here).
        engine = create_async_engine(url, echo=echo, async_creator=connect,
                                     pool_size=sqlite_driver.READ_THREADS, max_overflow=0)
        _tune_sqlite(engine)
        return engine
    engine = create_async_engine(
        url,
        echo=echo,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_timeout=timeout,
        connect_args={"timeout": timeout},
    )
    _ping_when_idle(engine)
    return engine


def _ping_when_idle(engine: AsyncEngine) -> None:
    """``pool_pre_ping``, only for a connection that sat unused in the pool for a while.

    asyncpg's ping is three round trips (BEGIN, an empty query, ROLLBACK): on every checkout it
    cost a booking as many trips as its writes. A connection back in use within
    ``PING_AFTER_IDLE_SECONDS`` is not pinged; if the server went away meanwhile, the request
    fails on its first statement and SQLAlchemy drops the whole pool (a disconnect), so the
    next ones reconnect.
    """

    @event.listens_for(engine.sync_engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info[IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get(IDLE_SINCE)
        if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE_SECONDS:
            return  # new, or used a moment ago
        try:
            dbapi_connection.ping()
        except Exception as exc:  # any failure: the pool replaces the connection
            raise DisconnectionError from exc


def _tune_sqlite(engine: AsyncEngine) -> None:
    # SQLAlchemy's documented recipe for real SQLite transactions: take control of BEGIN.
    # Writers start with BEGIN IMMEDIATE so the second of two racing bookings waits for the
    # first and then sees its row, instead of failing to upgrade a read lock.
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()
        # The record, not its ``info`` at this moment: the flag is read at each call, per connection.
        dbapi_connection.create_function(
            AUDIT_PURGE, 0, lambda: 1 if record.info.get(AUDIT_PURGE) else 0)

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        writes = connection.get_execution_options().get("creneau_write", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if writes else "BEGIN")


def dialect_name(session: AsyncSession) -> str:
    """``sqlite`` or ``postgresql``: the database behind a session."""
    return session.get_bind().dialect.name


class Database:
    """The engine plus two kinds of transaction: read-only and writing.

    ``within(access)`` is a view of the same database whose sessions see some sites only
    (``scheduler.db.access``); ``access`` is None on the plain one.
    """

    access: SiteAccess | None = None

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._reader = async_sessionmaker(engine, expire_on_commit=False)
        self._writer = async_sessionmaker(
            engine.execution_options(creneau_write=True), expire_on_commit=False
        )

    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> Database:
        """Build the engine for ``url``."""
        return cls(create_engine(url, **kwargs))

    def within(self, access: SiteAccess) -> Database:
        """This database, seen by a caller limited to ``access``'s sites (same engine)."""
        view = copy.copy(self)
        view.access = access
        return view

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    @asynccontextmanager
    async def read(self, *, snapshot: bool = False, apart: bool = False) -> AsyncIterator[AsyncSession]:
        """A session for reads; its transaction is rolled back at the end.

        ``snapshot``: every statement of the session sees the database as of its first one (what
        a cache needs that reads change counters with the data they guard, ``scheduler.db.counters``).
        SQLite's read transactions always do (WAL); on PostgreSQL the transaction is REPEATABLE
        READ, which costs no extra round trip (the isolation level goes with the BEGIN).

        ``apart``: the reads need no common view, each statement sees the latest commits (a
        counter read *before* the data it guards may, ``LoadedSearches``). On PostgreSQL the
        session then runs no transaction at all: two round trips fewer (BEGIN, ROLLBACK). SQLite
        runs both on the loop's thread, at no such cost, and keeps its transaction.
        """
        async with self._reader() as session:
            if self.access is not None:
                session.info[ACCESS_KEY] = self.access
            if self.engine.dialect.name == "postgresql" and (snapshot or apart):
                level = "REPEATABLE READ" if snapshot else "AUTOCOMMIT"
                await session.connection(execution_options={"isolation_level": level})
            yield session

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """A session whose transaction commits when the block ends without error.

        Caches learn of the write from the change counters its triggers raise in the same
        transaction (``scheduler.db.counters``), whichever process reads them.
        """
        async with self._writer() as session, session.begin():
            if self.access is not None:
                session.info[ACCESS_KEY] = self.access
            yield session

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self.engine.dispose()
