"""Test databases: a SQLite file, or a throw-away PostgreSQL database, each migrated with Alembic."""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import asyncpg

from scheduler.db.migrate import upgrade

DEFAULT_POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"


@dataclass(frozen=True, slots=True)
class DatabaseHandle:
    """A migrated database: its kind and its SQLAlchemy URL."""

    kind: str
    url: str


def postgres_url() -> str:
    """The server the PostgreSQL tests use (its database is only used to create others)."""
    return os.environ.get("CRENEAU_TEST_POSTGRES_URL", DEFAULT_POSTGRES)


def _dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


@lru_cache(maxsize=1)
def postgres_available() -> bool:
    """True when the PostgreSQL server answers."""

    async def probe() -> bool:
        try:
            connection = await asyncpg.connect(_dsn(postgres_url()), timeout=3)
        except (TimeoutError, OSError, asyncpg.PostgresError):
            return False
        await connection.close()
        return True

    return asyncio.run(probe())


def sqlite_database(folder: Path) -> DatabaseHandle:
    """A migrated SQLite file in ``folder``."""
    url = f"sqlite+aiosqlite:///{folder / 'creneau-test.db'}"
    upgrade(url)
    return DatabaseHandle("sqlite", url)


@contextmanager
def temporary_postgres() -> Iterator[DatabaseHandle]:
    """A new PostgreSQL database, migrated, dropped afterwards."""
    name = f"creneau_test_{secrets.token_hex(6)}"
    admin = postgres_url()
    asyncio.run(_execute(admin, f'CREATE DATABASE "{name}"'))
    url = admin.rsplit("/", 1)[0] + "/" + name
    try:
        upgrade(url)
        yield DatabaseHandle("postgresql", url)
    finally:
        asyncio.run(_execute(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _execute(url: str, statement: str) -> None:
    connection = await asyncpg.connect(_dsn(url))
    try:
        await connection.execute(statement)
    finally:
        await connection.close()
