"""The read sessions of ``Database``: what each statement of a plain, ``snapshot`` or ``apart`` read
sees when another session commits between two of its statements, on both databases."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, text, update
from sqlmodel import col

from scheduler.db.engine import Database
from scheduler.db.tables import Site
from tests.support.databases import DatabaseHandle

pytestmark = pytest.mark.anyio


@pytest.fixture
async def db(database: DatabaseHandle) -> AsyncIterator[Database]:
    engine_db = Database.from_url(database.url)
    async with engine_db.write() as session:
        session.add(Site(id="s", name="before", kind="office", public_label="Accueil",
                         created_at=datetime(2026, 12, 1, tzinfo=UTC)))
    yield engine_db
    await engine_db.dispose()


async def _names_around_a_commit(db: Database, **mode: bool) -> tuple[str, str]:
    """The site's name read twice in one read session, renamed by another session in between."""
    async with db.read(**mode) as session:
        first = (await session.execute(select(col(Site.name)))).scalar_one()
        async with db.write() as other:
            await other.execute(update(Site).values(name="after"))
        second = (await session.execute(select(col(Site.name)))).scalar_one()
    async with db.write() as other:
        await other.execute(update(Site).values(name="before"))
    return first, second


async def test_a_snapshot_read_sees_the_database_as_of_its_first_statement(db: Database) -> None:
    assert await _names_around_a_commit(db, snapshot=True) == ("before", "before")


async def test_an_apart_read_on_postgresql_runs_no_transaction(db: Database) -> None:
    if db.dialect == "sqlite":
        # SQLite keeps its read transaction (its BEGIN and ROLLBACK cost no round trip).
        assert await _names_around_a_commit(db, apart=True) == ("before", "before")
        return
    assert await _names_around_a_commit(db, apart=True) == ("before", "after")
    async with db.read(apart=True) as session:
        first = (await session.execute(text("SELECT transaction_timestamp()"))).scalar_one()
        second = (await session.execute(text("SELECT transaction_timestamp()"))).scalar_one()
    assert second > first  # each statement its own transaction: no BEGIN ... ROLLBACK around them
    async with db.read() as session:  # the pooled connection is back in a transaction afterwards
        first = (await session.execute(text("SELECT transaction_timestamp()"))).scalar_one()
        second = (await session.execute(text("SELECT transaction_timestamp()"))).scalar_one()
    assert second == first
