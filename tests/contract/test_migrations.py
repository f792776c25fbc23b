"""The Alembic migrations build exactly the models' schema, and undo it, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import bindparam, inspect, text
from sqlmodel import SQLModel
from sqlmodel.sql.sqltypes import UTCDateTime

import scheduler.db.event_tables  # registers its tables
import scheduler.db.inbox  # registers its table
import scheduler.db.outbox  # registers its table
import scheduler.db.tables
import scheduler.db.waitlist_tables  # noqa: F401  (registers the tables)
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


async def _write(url: str, statement: str, rows: list[dict[str, Any]]) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(text(statement).bindparams(bindparam("at", type_=UTCDateTime())), rows)
    finally:
        await engine.dispose()


def _typed_columns(connection: Any) -> dict[str, tuple[str, int | None, int | None]]:
    rows = connection.execute(text("SELECT kind, event, offset_minutes, sequence FROM outbox_message"))
    return {row.kind: (row.event, row.offset_minutes, row.sequence) for row in rows}


def test_typed_kind_columns_are_filled_from_the_kinds_already_queued(database: DatabaseHandle) -> None:
    config = alembic_config(database.url)
    command.downgrade(config, "0004")
    kinds = ["booked", "booked@1", "moved@3", "cancelled", "cancelled@2", "reminder-2880@0", "reminder-90@12",
             "reminder-morning@1"]
    asyncio.run(
        _write(
            database.url,
            (
                "INSERT INTO outbox_message (id, appointment_id, recipient, kind, status, due_at, attempts, needs_lookup, "  # noqa: E501 (one literal, clearer whole)
                "created_at, updated_at) VALUES (:id, 'a1', 'family', :kind, 'pending', :at, 0, false, :at, :at)"  # noqa: E501 (one literal, clearer whole)
            ),
            [
                {"id": f"m{index}", "kind": kind, "at": datetime(2026, 12, 1, 8, tzinfo=UTC)}
                for index, kind in enumerate(kinds)
            ],
        )
    )
    command.upgrade(config, "head")
    assert asyncio.run(_inspect(database.url, _typed_columns)) == {
        "booked": ("booked", None, None),
        "booked@1": ("booked", None, 1),
        "moved@3": ("moved", None, 3),
        "cancelled": ("cancelled", None, None),
        "cancelled@2": ("cancelled", None, 2),
        "reminder-2880@0": ("reminder", 2880, 0),
        "reminder-90@12": ("reminder", 90, 12),
        "reminder-morning@1": ("reminder", None, 1),
    }


def _sms_counters(connection: Any) -> list[tuple[str, int, int]]:
    rows = connection.execute(text("SELECT id, sms_sent, sms_segments FROM appointment ORDER BY id"))
    return [tuple(row) for row in rows]


# An hour after the rows' ``at``, as both databases read a literal (and SQLite's text compares).
LATER = "'2026-12-01 09:00:00.000000+00:00'"


def test_sms_counters_are_filled_from_the_messages_already_sent(database: DatabaseHandle) -> None:
    config = alembic_config(database.url)
    command.downgrade(config, "0010")
    rows = {
        "site": "INSERT INTO site (id, name, kind, timezone, public_label, created_at) "
                "VALUES ('s1', 'École', 'school', 'Europe/Paris', 'École', :at)",
        "staff": "INSERT INTO staff (id, name, role, created_at) VALUES ('p1', 'Mme A', 'psychologist', :at)",
        "service": "INSERT INTO service (id, name, duration_minutes, capacity, min_notice_minutes, "
                   "horizon_days, created_at) VALUES ('v1', 'Entretien', 60, 1, 0, 365, :at)",
        "family": "INSERT INTO family (id, reference, language, sms_consent, created_at, updated_at) "
                  "VALUES ('f1', 'PRE-1', 'fr', true, :at, :at)",
        "hold": "INSERT INTO hold (id, resource_id, resource_kind, service_id, starts_at, ends_at, capacity, "
                f"taken) VALUES ('h1', 'p1', 'staff', 'v1', :at, {LATER}, 1, 1)",
    }
    at = datetime(2026, 12, 1, 8, tzinfo=UTC)
    for statement in rows.values():
        asyncio.run(_write(database.url, statement, [{"at": at}]))
    asyncio.run(_write(
        database.url,
        "INSERT INTO appointment (id, status, service_id, staff_id, site_id, family_id, starts_at, ends_at, "
        "staff_hold_id, sequence, created_at, updated_at) "
        f"VALUES (:id, 'attended', 'v1', 'p1', 's1', 'f1', :at, {LATER}, 'h1', 0, :at, :at)",
        [{"id": "a1", "at": at}, {"id": "a2", "at": at}],
    ))
    message = ("INSERT INTO outbox_message (id, appointment_id, recipient, kind, event, status, due_at, "
               "attempts, needs_lookup, segments, sent_at, created_at, updated_at) "
               "VALUES (:id, 'a1', 'family', :kind, 'reminder', {status}, :at, 1, false, {sent}, :at, :at)")
    asyncio.run(_write(database.url, message.format(status="'delivered'", sent=":segments, :at"),
                       [{"id": "m1", "kind": "booked", "segments": 1, "at": at},
                        {"id": "m2", "kind": "reminder-90", "segments": 3, "at": at}]))
    asyncio.run(_write(database.url, message.format(status="'pending'", sent="NULL, NULL"),
                       [{"id": "m3", "kind": "reminder-30", "at": at}]))
    command.upgrade(config, "head")
    assert asyncio.run(_inspect(database.url, _sms_counters)) == [("a1", 2, 4), ("a2", 0, 0)]
