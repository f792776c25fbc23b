"""The async engine and its transactions, with SQLite tuned for a writer that never double-books."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

if TYPE_CHECKING:
    from scheduler.db.access import SiteAccess

# How long a SQLite writer waits for the lock before giving up: booking bursts queue up
# behind BEGIN IMMEDIATE, and a few seconds is far more than one booking transaction takes.
SQLITE_BUSY_TIMEOUT_MS = 15_000
DEFAULT_TIMEOUT_SECONDS = 5.0
ACCESS_KEY = "creneau_site_access"
"""Where a session keeps its caller's ``SiteAccess`` (read by ``scheduler.db.access``)."""
AUDIT_PURGE = "creneau_audit_purge"
"""On SQLite, a SQL function of every connection (no argument) that answers 1 while the connection's
``info[AUDIT_PURGE]`` is set, else 0: the ``audit_entry`` DELETE trigger (migration 0018) lets a
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
        engine = create_async_engine(url, echo=echo, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
        _tune_sqlite(engine)
        return engine
    return create_async_engine(
        url,
        echo=echo,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        pool_timeout=timeout,
        connect_args={"timeout": timeout},
    )


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


class _Generation:
    value = 0


class Database:
    """The engine plus two kinds of transaction: read-only and writing.

    ``within(access)`` is a view of the same database whose sessions see some sites only
    (``scheduler.db.access``); ``access`` is None on the plain one.
    """

    access: SiteAccess | None = None

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._generation = _Generation()
        self._reader = async_sessionmaker(engine, expire_on_commit=False)
        self._writer = async_sessionmaker(
            engine.execution_options(creneau_write=True), expire_on_commit=False
        )

    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> Database:
        """Build the engine for ``url``."""
        return cls(create_engine(url, **kwargs))

    @property
    def generation(self) -> int:
        """Raised after every committed write of this process: caches of derived data compare it."""
        return self._generation.value

    @generation.setter
    def generation(self, value: int) -> None:
        self._generation.value = value

    def within(self, access: SiteAccess) -> Database:
        """This database, seen by a caller limited to ``access``'s sites (same engine and generation)."""
        view = copy.copy(self)
        view.access = access
        return view

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A session for reads; its transaction is rolled back at the end."""
        async with self._reader() as session:
            if self.access is not None:
                session.info[ACCESS_KEY] = self.access
            yield session

    @asynccontextmanager
    async def write(self, *, bookkeeping: bool = False) -> AsyncIterator[AsyncSession]:
        """A session whose transaction commits when the block ends without error.

        ``bookkeeping``: the write changes nothing that caches derive (an audit entry, when a key
        was last used), so ``generation`` stays as it is and the caches stay warm.
        """
        async with self._writer() as session, session.begin():
            if self.access is not None:
                session.info[ACCESS_KEY] = self.access
            yield session
        if not bookkeeping:
            self.generation += 1

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self.engine.dispose()
