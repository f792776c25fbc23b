"""Keyset paging, written once: opaque cursors, and a page cut from ``limit + 1`` fetched rows."""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from scheduler.domain.errors import InvalidInput
from scheduler.domain.input_rules import has_control_character, instant_problem

Item = TypeVar("Item")
FORGED = "The cursor is not one this service gave."


@dataclass(frozen=True, slots=True)
class PageOf(Generic[Item]):
    """Rows of a page and the cursor of the next one."""

    rows: Sequence[Item]
    next_cursor: str | None


def encode_cursor(*parts: str) -> str:
    """An opaque cursor."""
    return base64.urlsafe_b64encode("|".join(parts).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, count: int) -> list[str]:
    """The parts of a cursor, or InvalidInput."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        parts = base64.urlsafe_b64decode(padded.encode()).decode().split("|")
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput(FORGED) from None
    # A forged part holding NUL would reach PostgreSQL, which refuses it in text (a 500).
    if len(parts) != count or any(has_control_character(part) for part in parts):
        raise InvalidInput(FORGED)
    return parts


def cursor_instant(text: str) -> datetime:
    """The aware instant a cursor carries, or InvalidInput (a forged cursor is bad input, not a bug)."""
    try:
        instant = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(FORGED) from None
    # An instant out of the service's window (a forged cursor) would overflow date arithmetic.
    if instant_problem(instant) is not None:
        raise InvalidInput(FORGED)
    return instant


def after_instant(cursor: str | None) -> tuple[datetime, str] | None:
    """Where a page ordered by (instant, id) stopped: None for the first page."""
    if not cursor:
        return None
    instant, ident = decode_cursor(cursor, 2)
    return cursor_instant(instant), ident


def cut(fetched: Sequence[Item], limit: int, position: Callable[[Item], Sequence[str]]) -> PageOf[Item]:
    """The page from up to ``limit + 1`` fetched rows: the extra one only says a next page exists.

    ``position`` gives the cursor parts of a row (its sort key), read from the page's last row.
    """
    rows = fetched[:limit]
    more = len(fetched) > limit
    return PageOf(rows, encode_cursor(*position(rows[-1])) if more else None)
