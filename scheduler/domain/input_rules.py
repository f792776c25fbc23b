"""What any input must be, whatever its field: a date in the service's window, text without control
characters.

Each function returns what is wrong, in words for the caller, or None (as in ``consistency.py``):
the API raises it as a 422 naming the field, the service layer (a cursor) as ``InvalidInput``.
Neither message ever repeats the value.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Final

# Every computation on a date adds at most a few years to it (a day's margin in a zone, a
# 92-day search, a 730-day horizon, a VTIMEZONE's whole years): this window keeps all of them
# far from datetime's year 1 and year 9999, where they would overflow.
FIRST_DATE: Final = date(1900, 1, 1)
LAST_DATE: Final = date(2999, 12, 31)

# Control characters (C0, DEL, C1), the Unicode line and paragraph separators (line ends to
# some parsers) and unpaired surrogates (not encodable in UTF-8: PostgreSQL cannot store them).
# NUL, which PostgreSQL refuses in text while SQLite stores it, is one of the C0 controls.
_SINGLE_LINE_REFUSED: Final = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
# The same, but a line feed is allowed: "\n" and only "\n" separates lines.
_MULTI_LINE_REFUSED: Final = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")


def date_problem(value: date) -> str | None:
    """A date (or a datetime's local date) must lie within years 1900 to 2999."""
    day = value.date() if isinstance(value, datetime) else value
    if not FIRST_DATE <= day <= LAST_DATE:
        return f"must be between {FIRST_DATE.isoformat()} and {LAST_DATE.isoformat()}"
    return None


def instant_problem(value: datetime) -> str | None:
    """An instant must carry its UTC offset and lie in the service's window."""
    if value.utcoffset() is None:
        return "must carry a UTC offset"
    return date_problem(value)


def text_problem(value: str, *, multiline: bool = False) -> str | None:
    """Stored text holds no control character; multi-line text may hold line feeds ("\\n") only."""
    refused = _MULTI_LINE_REFUSED if multiline else _SINGLE_LINE_REFUSED
    if refused.search(value) is None:
        return None
    if multiline:
        return "must not contain control characters (lines are separated by \\n only)"
    return "must be one line without control characters"


def has_control_character(value: str) -> bool:
    """Whether a URL's decoded path segment or query value holds a control character."""
    return _SINGLE_LINE_REFUSED.search(value) is not None
