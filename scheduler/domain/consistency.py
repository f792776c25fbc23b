"""Cross-field rules of the setting-up data, checked on a create and on a row merged with a PATCH.

Each function returns what is wrong, in words for the caller, or None: the API schemas raise it
as a ``ValueError`` (pydantic's 422) and the service layer as ``InvalidInput`` on a merged row,
so a PATCH can never store what a create would refuse.
"""

from __future__ import annotations

from datetime import date, datetime

# Overseas académies keep their own school calendar, which the metropolitan zones A-C do not
# describe: a school there has no zone (its public holidays still come from its calendar key).
OVERSEAS_CALENDAR_PREFIX = "FR-97"


def validity_problem(valid_from: date, valid_until: date | None) -> str | None:
    """A weekly rule's validity must not end before it starts."""
    if valid_until is not None and valid_until < valid_from:
        return "valid_until must not be before valid_from"
    return None


def interpreter_rule_problem(interpreter_id: str | None, follows_school_calendar: bool) -> str | None:
    """An interpreter has no school, hence no school zone whose holidays its rule could follow."""
    if interpreter_id is not None and follows_school_calendar:
        return "an interpreter's rule cannot follow a school calendar: it has no school's zone"
    return None


def interval_problem(start: datetime, end: datetime) -> str | None:
    """An absence or an opening must end after it starts."""
    if end <= start:
        return "end must be after start"
    return None


def school_zone_problem(kind: str, school_zone: str | None, holiday_calendar: str) -> str | None:
    """A metropolitan school needs its zone, or its school-calendar rules would never close."""
    if kind == "school" and school_zone is None and not holiday_calendar.startswith(OVERSEAS_CALENDAR_PREFIX):
        return "a school site needs its school_zone (A, B or C)"
    return None
