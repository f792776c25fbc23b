"""What differs between SQLite and PostgreSQL, handled once: upserts, and times read back as aware UTC.

The one other difference, the guard against overlapping holds (an exclusion constraint on
PostgreSQL, triggers on SQLite), lives with the schema in the initial migration and in
``scheduler/db/holds.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Final, Generic, TypeVar

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from scheduler.db.engine import dialect_name

DIALECTS: Final = ("sqlite", "postgresql")

UpsertInsert = postgresql.Insert | sqlite.Insert
Built = TypeVar("Built")


def insert_for(session_or_dialect_name: AsyncSession | str, table: Any) -> UpsertInsert:
    """An INSERT that knows ON CONFLICT (``on_conflict_do_update``/``_do_nothing``) for the database.

    Both dialects spell the clause alike, so one statement builder serves both.
    """
    name = session_or_dialect_name if isinstance(session_or_dialect_name, str) else dialect_name(
        session_or_dialect_name)
    return postgresql.insert(table) if name == "postgresql" else sqlite.insert(table)


class PerDialect(Generic[Built]):
    """A statement built once for each database, picked by the session that runs it.

    Hot statements are built once with bound parameters: building and cache-keying one costs
    more Python than running it.
    """

    __slots__ = ("_built",)

    def __init__(self, build: Callable[[str], Built]) -> None:
        self._built = {name: build(name) for name in DIALECTS}

    def of(self, session: AsyncSession) -> Built:
        """The statement for the session's database."""
        return self._built[dialect_name(session)]

    def __getitem__(self, dialect: str) -> Built:
        """The statement for ``sqlite`` or ``postgresql`` (a caller that already knows which)."""
        return self._built[dialect]


def as_utc(value: datetime | str) -> datetime:
    """A stored time as an aware UTC datetime, whatever the driver gave back.

    Typed columns (sqlmodel's UTCDateTime) already read aware UTC; this is for values that
    bypass the type: raw event columns read for speed, aggregates, RETURNING on SQLite. SQLite
    gives UTC as naive ISO 8601 text or a naive datetime, PostgreSQL an aware datetime.
    """
    if isinstance(value, str):
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    return value.astimezone(UTC) if value.utcoffset() is not None else value.replace(tzinfo=UTC)
