"""``creneau import FILE.csv``: past appointments from the coordinator's file, all lines or none.

Every line is checked (its fields, then the ids it names and whether it is past); any error is
printed with its line number and nothing is imported.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import TextIO

from scheduler.db.engine import Database
from scheduler.past_appointments_csv import LineError, ParsedFile, parse
from scheduler.ports import SystemClock
from scheduler.services.appointment_import import ImportRefused, ImportResult, import_past
from scheduler.settings import Settings

# Exit statuses: refused file (nothing imported), unreadable file.
REFUSED, UNREADABLE = 1, 2


def import_file(settings: Settings, path: str, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    """Import the file at ``path``; 0 when every line was imported (or had been before)."""
    try:
        content = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        print(f"creneau import: cannot read {path}: {exc.__class__.__name__}", file=err)
        return UNREADABLE
    parsed = parse(content)
    if parsed.errors:
        return _refused(parsed.errors, err)
    try:
        result = asyncio.run(_import(settings, parsed))
    except ImportRefused as refused:
        return _refused([LineError(parsed.lines[e.index], e.detail) for e in refused.errors], err)
    print(f"{result.imported} imported, {result.already_imported} already imported.", file=out)
    return 0


async def _import(settings: Settings, parsed: ParsedFile) -> ImportResult:
    db = Database.from_url(settings.database_url)
    try:
        return await import_past(db, parsed.items, SystemClock().now())
    finally:
        await db.dispose()


def _refused(errors: list[LineError], err: TextIO) -> int:
    for error in sorted(errors, key=lambda error: error.line):
        print(f"line {error.line}: {error.detail}", file=err)
    print(f"{len(errors)} error(s): nothing was imported.", file=err)
    return REFUSED
