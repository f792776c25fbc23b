"""The Alembic migrations build exactly the models' schema, and undo it, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlmodel import SQLModel

import notifications.inbox  # registers its table
import notifications.outbox  # noqa: F401  (registers its table)
import scheduler.db.event_tables  # registers its tables
import scheduler.db.tables  # noqa: F401  (registers the tables)
from scheduler.db.engine import create_engine
from scheduler.db.migrate import alembic_config
from tests.support.databases import DatabaseHandle


async def _inspect(url: str, check: Any) -> Any:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(check)
    finally:
        await engine.dispose()


def _differences(connection: Any) -> list[Any]:
    return list(compare_metadata(MigrationContext.configure(connection), SQLModel.metadata))


def _tables(connection: Any) -> set[str]:
    return set(inspect(connection).get_table_names()) - {"alembic_version"}


def test_migrated_schema_matches_the_models(database: DatabaseHandle) -> None:
    assert asyncio.run(_inspect(database.url, _differences)) == []


def test_migrations_go_down_and_up_again(database: DatabaseHandle) -> None:
    config = alembic_config(database.url)
    command.downgrade(config, "base")
    assert asyncio.run(_inspect(database.url, _tables)) == set()
    command.upgrade(config, "head")
    assert asyncio.run(_inspect(database.url, _tables)) == set(SQLModel.metadata.tables)
