"""Keyset paging, the one helper every listing uses: cursors that round-trip, forged ones refused,
and a page cut from ``limit + 1`` fetched rows.

Also what the paging rests on: no controller opens a transaction or reaches the database itself,
so that every listing goes through a service, and through this helper.
"""

from __future__ import annotations

import ast
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from scheduler.domain.errors import InvalidInput
from scheduler.services.paging import after_instant, cursor_instant, cut, decode_cursor, encode_cursor

ROOT = Path(__file__).resolve().parents[2]
CONTROLLER_PACKAGES = ("scheduler/api", "scheduler/family_page")


def test_a_cursor_gives_back_its_parts() -> None:
    cursor = encode_cursor("2026-11-25T13:00:00+00:00", "appt-7")

    assert decode_cursor(cursor, 2) == ["2026-11-25T13:00:00+00:00", "appt-7"]


def test_a_cursor_is_opaque_and_url_safe() -> None:
    assert encode_cursor("site-1") == "c2l0ZS0x"


@pytest.mark.parametrize("cursor", ["not base64 !", "c2l0ZS0x", "//79", ""], ids=["garbage", "one_part",
                                                                                     "not_utf8", "empty"])
def test_a_forged_cursor_is_bad_input(cursor: str) -> None:
    with pytest.raises(InvalidInput):
        decode_cursor(cursor, 2)


@pytest.mark.parametrize("text", ["yesterday", "2026-11-25T13:00:00"], ids=["not_a_date", "naive"])
def test_a_cursor_instant_must_be_an_aware_time(text: str) -> None:
    with pytest.raises(InvalidInput):
        cursor_instant(text)


def test_after_instant_reads_where_the_previous_page_stopped() -> None:
    paris_winter = timezone(timedelta(hours=1))

    assert after_instant(None) is None
    assert after_instant(encode_cursor("2026-11-25T14:00:00+01:00", "appt-7")) == (
        datetime(2026, 11, 25, 14, 0, tzinfo=paris_winter), "appt-7")
    assert after_instant(encode_cursor("2026-11-25T13:00:00+00:00", "appt-7")) == (
        datetime(2026, 11, 25, 13, 0, tzinfo=UTC), "appt-7")


def test_the_extra_fetched_row_only_says_a_next_page_exists() -> None:
    page = cut(["a", "b", "c"], 2, lambda row: (row,))

    assert list(page.rows) == ["a", "b"]
    assert page.next_cursor is not None
    assert decode_cursor(page.next_cursor, 1) == ["b"]


@pytest.mark.parametrize("fetched", [[], ["a"], ["a", "b"]], ids=["empty", "short", "exactly_full"])
def test_the_last_page_has_no_next_cursor(fetched: list[str]) -> None:
    page = cut(fetched, 2, lambda row: (row,))

    assert list(page.rows) == fetched
    assert page.next_cursor is None


def _database_reaches(path: Path) -> list[str]:
    """What a module does that belongs below the API: database imports and transactions opened."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            names = []
        found += [f"{path.name} imports {name}" for name in names
                  if name.split(".")[0] == "sqlalchemy" or name.startswith("scheduler.db")]
        if (isinstance(node, ast.Attribute) and node.attr in {"read", "write"}
                and isinstance(node.value, ast.Attribute) and node.value.attr.lstrip("_") == "db"):
            found.append(f"{path.name}:{node.lineno} opens a transaction")
    return found


def test_controllers_leave_the_database_to_the_services() -> None:
    modules = [path for package in CONTROLLER_PACKAGES for path in sorted((ROOT / package).glob("*.py"))]

    assert len(modules) > 10
    assert [reach for path in modules for reach in _database_reaches(path)] == []
