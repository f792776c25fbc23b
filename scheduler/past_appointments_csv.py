"""The coordinator's file of past appointments (``creneau import FILE.csv``): read and check every line.

One header line, then one appointment per line, separated by ``;`` (as French spreadsheets save
CSV) or ``,``; UTF-8, with or without a byte order mark. Columns: ``external_id``, ``service_id``,
``staff_id``, ``site_id``, ``start``, ``end`` (ISO 8601 with their offset), ``status``
(``attended``, ``no_show`` or ``cancelled``), ``family_reference``, ``family_language``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from scheduler.domain.errors import InvalidInput
from scheduler.languages import normalize_language
from scheduler.services.appointment_import import STATUSES, PastAppointment

COLUMNS = ("external_id", "service_id", "staff_id", "site_id", "start", "end", "status", "family_reference",
           "family_language")
FIRST_DATA_LINE = 2  # line 1 is the header


@dataclass(frozen=True, slots=True)
class LineError:
    """What is wrong on a line of the file (1-based, as an editor numbers it)."""

    line: int
    detail: str


@dataclass(frozen=True, slots=True)
class ParsedFile:
    """The appointments read, each with its line, and every problem found."""

    items: list[PastAppointment]
    lines: list[int]
    errors: list[LineError]


def parse(content: str) -> ParsedFile:
    """Every line checked; ``errors`` empty means every line made an appointment."""
    content = content.removeprefix("\ufeff")
    header = content.split("\n", 1)[0]
    delimiter = ";" if header.count(";") >= header.count(",") else ","
    reader = csv.DictReader(io.StringIO(content, newline=""), delimiter=delimiter)
    missing = [name for name in COLUMNS if name not in (reader.fieldnames or [])]
    if missing:
        return ParsedFile([], [], [LineError(1, f"Missing column(s): {', '.join(missing)}.")])
    items, lines, errors = [], [], []
    for row in reader:
        line = reader.line_num
        try:
            items.append(_appointment(row))
            lines.append(line)
        except (ValueError, InvalidInput) as exc:
            errors.append(LineError(line, str(exc)))
    if not items and not errors:
        errors.append(LineError(FIRST_DATA_LINE, "The file has no appointment."))
    return ParsedFile(items, lines, errors)


def _appointment(row: Mapping[str, str | None]) -> PastAppointment:
    values = {name: (row.get(name) or "").strip() for name in COLUMNS}
    empty = [name for name, value in values.items() if not value]
    if empty:
        raise ValueError(f"Empty: {', '.join(empty)}.")
    if values["status"] not in STATUSES:
        raise ValueError(f"`status` must be one of {', '.join(STATUSES)}, not {values['status']!r}.")
    return PastAppointment(
        values["external_id"], values["service_id"], values["staff_id"], values["site_id"],
        _instant(values["start"], "start"), _instant(values["end"], "end"), values["status"],
        values["family_reference"], normalize_language(values["family_language"]))


def _instant(text: str, name: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"`{name}` is not an ISO 8601 date and time: {text!r}.") from None
    if value.utcoffset() is None:
        raise ValueError(f"`{name}` must carry its UTC offset (2025-03-04T10:00:00+01:00): {text!r}.")
    return value
