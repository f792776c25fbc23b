"""Which errors mean "the database is unavailable now" (503) rather than a bug (500), on real drivers'
errors."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError

from scheduler.db.outage import is_database_outage


def _sqlite_error(path: Path, statement: str) -> sqlite3.OperationalError:
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE IF NOT EXISTS t (x)")
    holder.execute("BEGIN EXCLUSIVE")
    other = sqlite3.connect(path, timeout=0)
    try:
        other.execute(statement)
    except sqlite3.OperationalError as exc:
        return exc
    finally:
        other.close()
        holder.close()
    raise AssertionError("no error")


def test_a_locked_sqlite_database_is_an_outage(tmp_path: Path) -> None:
    locked = _sqlite_error(tmp_path / "db.sqlite", "INSERT INTO t VALUES (1)")
    assert "locked" in str(locked)
    assert is_database_outage(locked)
    assert is_database_outage(OperationalError("INSERT ...", {}, locked))  # as SQLAlchemy wraps it


def test_a_schema_error_is_a_bug_not_an_outage(tmp_path: Path) -> None:
    with (
        sqlite3.connect(tmp_path / "db.sqlite") as connection,
        pytest.raises(sqlite3.OperationalError) as caught,
    ):
        connection.execute("SELECT * FROM missing_table")
    assert not is_database_outage(caught.value)
    assert not is_database_outage(OperationalError("SELECT ...", {}, caught.value))


def test_a_refused_connection_is_an_outage_even_when_chained() -> None:
    try:
        try:
            raise ConnectionRefusedError(111, "Connect call failed ('127.0.0.1', 1)")
        except ConnectionRefusedError as exc:
            raise RuntimeError("while checking out a connection") from exc
    except RuntimeError as chained:
        assert is_database_outage(chained)


@pytest.mark.parametrize("error", [ValueError("bad"), KeyError("x"), FileNotFoundError(2, "template")])
def test_ordinary_errors_are_not_outages(error: Exception) -> None:
    assert not is_database_outage(error)
