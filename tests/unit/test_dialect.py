"""The one place SQLite and PostgreSQL differ for upserts and stored times (no database needed)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy.dialects import postgresql, sqlite

from scheduler.db.dialect import DIALECTS, PerDialect, as_utc, insert_for
from scheduler.db.tables import Family

family = Family.__table__  # type: ignore[attr-defined]
COMPILERS = {"sqlite": sqlite.dialect(), "postgresql": postgresql.dialect()}  # type: ignore[no-untyped-call]


def test_one_upsert_builder_writes_on_conflict_for_each_database() -> None:
    for name in DIALECTS:
        statement = insert_for(name, family).on_conflict_do_nothing(index_elements=["reference"])
        assert "ON CONFLICT (reference) DO NOTHING" in str(statement.compile(dialect=COMPILERS[name]))


def test_statements_built_per_dialect_are_built_once_each() -> None:
    built: list[str] = []

    def build(name: str) -> str:
        built.append(name)
        return name.upper()

    statements = PerDialect(build)
    assert statements["sqlite"] == "SQLITE" and statements["postgresql"] == "POSTGRESQL"
    assert built == ["sqlite", "postgresql"]


def test_stored_times_read_as_aware_utc() -> None:
    noon_utc = datetime(2026, 3, 29, 12, 0, tzinfo=UTC)
    assert as_utc(datetime(2026, 3, 29, 12, 0)) == noon_utc  # SQLite: naive UTC
    assert as_utc("2026-03-29 12:00:00.000000") == noon_utc  # SQLite: raw text
    paris_summer = timezone(timedelta(hours=2))
    assert (
        as_utc(datetime(2026, 3, 29, 14, 0, tzinfo=paris_summer)).isoformat() == "2026-03-29T12:00:00+00:00"
    )
