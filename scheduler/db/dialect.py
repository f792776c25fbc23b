"""What differs between SQLite and PostgreSQL, said once: the upsert INSERT and how datetimes come back."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from scheduler.db.engine import dialect_name


def insert_for(session_or_dialect_name: AsyncSession | str, table: Any) -> Any:
    """An INSERT with ``on_conflict_do_nothing``/``on_conflict_do_update`` for the session's database
    (or the dialect named ``sqlite`` or ``postgresql``)."""
    name = (session_or_dialect_name if isinstance(session_or_dialect_name, str)
            else dialect_name(session_or_dialect_name))
    return postgresql.insert(table) if name == "postgresql" else sqlite.insert(table)


def as_utc(value: datetime) -> datetime:
    """An aware UTC datetime: SQLite may give back naive UTC datetimes, PostgreSQL gives aware ones."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
