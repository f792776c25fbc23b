"""Appointment figures as CSV that French spreadsheet software opens as it is.

Excel and LibreOffice in a French locale split columns on ``;`` (the comma is the decimal
mark there) and read a file as UTF-8 only when it starts with a byte order mark; without
it "Collège Émile-Zola" comes out as "CollÃ¨ge". Lines end in CRLF, as RFC 4180 says. Every
figure is a whole count, so no decimal mark is ever written.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from scheduler.services.appointment_stats import FIGURES, AppointmentStats

MEDIA_TYPE = "text/csv; charset=utf-8"
BOM = "\ufeff"
SEPARATOR = ";"


def wants_csv(accept: str | None) -> bool:
    """True when the client asked for ``text/csv`` (JSON stays the default)."""
    return accept is not None and any(
        part.split(";")[0].strip().lower() == "text/csv" for part in accept.split(","))


def stats_csv(stats: AppointmentStats) -> bytes:
    """A header line, one line per row (its keys, then the figures), encoded UTF-8 with a BOM."""
    header = [*stats.key_columns, *FIGURES]
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=SEPARATOR, lineterminator="\r\n")
    writer.writerow(header)
    for row in stats.rows:
        writer.writerow([_cell(row.get(name)) for name in header])
    return (BOM + buffer.getvalue()).encode("utf-8")


def filename(stats: AppointmentStats) -> str:
    """``rendez-vous_2026-01-01_2026-12-31.csv``."""
    return f"rendez-vous_{stats.request.first.isoformat()}_{stats.request.last.isoformat()}.csv"


def _cell(value: Any) -> str:
    return "" if value is None else str(value)
