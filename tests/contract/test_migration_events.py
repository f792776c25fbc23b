"""Migration 0006 on both databases: appointments cancelled before it get ``cancelled_at`` from their last
change."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from alembic import command
from sqlalchemy import text

from scheduler.db.engine import create_engine
from scheduler.db.migrate import alembic_config
from tests.support.databases import DatabaseHandle

CREATED = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
CANCELLED = datetime(2026, 11, 20, 17, 30, tzinfo=UTC)
START = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
END = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)

ROWS = [
    (
        (
            "INSERT INTO site (id, name, kind, timezone, public_label, created_at)"
            " VALUES ('s1', 'Site', 'office', 'Europe/Paris', 'Accueil', :created)"
        ),
        {},
    ),
    ("INSERT INTO staff (id, name, role, created_at) VALUES ('p1', 'Staff', 'other', :created)", {}),
    (
        (
            "INSERT INTO service (id, name, duration_minutes, capacity, min_notice_minutes, horizon_days, created_at)"  # noqa: E501 (one literal, clearer whole)
            " VALUES ('v1', 'Service', 60, 1, 0, 92, :created)"
        ),
        {},
    ),
    (
        (
            "INSERT INTO family (id, reference, language, sms_consent, created_at, updated_at)"
            " VALUES ('f1', 'PRE-1', 'fr', false, :created, :created)"
        ),
        {},
    ),
    *[
        (
            (
                f"INSERT INTO hold (id, resource_id, resource_kind, service_id, starts_at, ends_at, capacity, taken)"  # noqa: E501 (one literal, clearer whole)
                f" VALUES ('{hold}', 'p1', 'staff', 'v1', :start, :end, 1, 0)"
            ),
            {"start": START.replace(hour=hour), "end": END.replace(hour=hour + 1)},
        )
        for hold, hour in (("h1", 9), ("h2", 11))
    ],
    *[
        (
            (
                f"INSERT INTO appointment (id, status, service_id, staff_id, site_id, family_id, starts_at, ends_at,"  # noqa: E501 (one literal, clearer whole)
                f" staff_hold_id, sequence, created_at, updated_at) VALUES ('{ident}', '{status}', 'v1', 'p1', 's1', 'f1',"  # noqa: E501 (one literal, clearer whole)
                f" :start, :end, '{hold}', 1, :created, :updated)"
            ),
            {"start": START, "end": END, "updated": CANCELLED},
        )
        for ident, status, hold in (("a-cancelled", "cancelled", "h1"), ("a-booked", "booked", "h2"))
    ],
]


async def _insert(url: str, statements: list[tuple[str, dict[str, Any]]]) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            for statement, values in statements:
                await connection.execute(text(statement), {"created": CREATED, **values})
    finally:
        await engine.dispose()


async def _cancelled_columns(url: str) -> list[Any]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(
                text(
                    "SELECT id, cancelled_at = updated_at, cancelled_at IS NULL, cancelled_by, attendees, pathway_id"  # noqa: E501 (one literal, clearer whole)
                    " FROM appointment ORDER BY id"
                )
            )
            return [tuple(row) for row in rows.all()]
    finally:
        await engine.dispose()


def test_appointments_cancelled_before_0006_get_their_cancellation_time(database: DatabaseHandle) -> None:
    config = alembic_config(database.url)
    command.downgrade(config, "0004")
    asyncio.run(_insert(database.url, ROWS))
    command.upgrade(config, "head")
    assert asyncio.run(_cancelled_columns(database.url)) == [
        ("a-booked", None, True, None, None, None),
        ("a-cancelled", True, False, None, None, None),
    ]
