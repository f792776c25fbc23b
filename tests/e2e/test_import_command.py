"""``creneau import FILE.csv`` as a coordinator runs it: a real process on a real database of each kind.

A file with any wrong line imports nothing and names every wrong line by its number; a good file
imports once, and importing it again changes nothing.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select

from scheduler.db.engine import Database
from scheduler.db.tables import Appointment, Family
from tests.support.databases import DatabaseHandle
from tests.support.seed import SeededProgramme, programme

HEADER = "external_id;service_id;staff_id;site_id;start;end;status;family_reference;family_language"


def _run(database: DatabaseHandle, path: Path) -> subprocess.CompletedProcess[str]:
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("CRENEAU_")},
           "CRENEAU_DATABASE_URL": database.url}
    return subprocess.run([sys.executable, "-m", "scheduler.cli", "import", str(path)], env=env,
                          capture_output=True, text=True, timeout=60, check=False)


async def _seed(url: str) -> SeededProgramme:
    db = Database.from_url(url)
    try:
        return await programme(db)
    finally:
        await db.dispose()


async def _counts(url: str) -> tuple[int, list[tuple[str, str]]]:
    db = Database.from_url(url)
    try:
        async with db.read() as session:
            appointments = (await session.execute(select(func.count()).select_from(Appointment))).scalar_one()
            families = (await session.execute(select(Family.reference, Family.language)
                                              .order_by(Family.reference))).all()
        return appointments, [tuple(row) for row in families]
    finally:
        await db.dispose()


def _line(prog: SeededProgramme, external_id: str, start: str, end: str, status: str, family: str) -> str:
    return f"{external_id};{prog.service_id};{prog.staff_id};{prog.site_id};{start};{end};{status};{family}"


def test_a_file_with_wrong_lines_imports_nothing_and_names_each_line(database: DatabaseHandle,
                                                                      tmp_path: Path) -> None:
    prog = asyncio.run(_seed(database.url))
    lines = [
        HEADER,
        _line(prog, "A-1", "2025-03-04T10:00:00+01:00", "2025-03-04T10:30:00+01:00", "attended", "P-1;fr"),
        _line(prog, "A-2", "2025-03-04T11:00:00", "2025-03-04T11:30:00+01:00", "attended", "P-2;fr"),
        _line(prog, "A-3", "2025-03-04T12:00:00+01:00", "2025-03-04T12:30:00+01:00", "excused", "P-3;fr"),
        _line(prog, "A-4", "2099-03-04T12:00:00+01:00", "2099-03-04T12:30:00+01:00", "no_show", "P-4;fr"),
        _line(prog, "A-5", "2025-03-04T13:00:00+01:00", "2025-03-04T13:30:00+01:00", "no_show", "P-5;xx"),
    ]
    file = tmp_path / "passes.csv"
    file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    done = _run(database, file)
    assert done.returncode == 1, done.stderr
    assert [line.split(":")[0] for line in done.stderr.splitlines()[:-1]] == ["line 3", "line 4", "line 6"]
    assert asyncio.run(_counts(database.url)) == (0, [])
    # Every field is right now: only the future line is left, found against the database.
    lines[2] = lines[2].replace("T11:00:00;", "T11:00:00+01:00;")
    lines[3] = lines[3].replace("excused", "cancelled")
    lines[5] = lines[5].replace(";xx", ";ar")
    file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    done = _run(database, file)
    assert done.returncode == 1
    assert done.stderr.splitlines()[0].startswith("line 5: Only past appointments")
    assert asyncio.run(_counts(database.url)) == (0, [])


def test_a_good_file_imports_once(database: DatabaseHandle, tmp_path: Path) -> None:
    prog = asyncio.run(_seed(database.url))
    file = tmp_path / "passes.csv"
    rows = [
        _line(prog, "B-1", "2025-03-04T10:00:00+01:00", "2025-03-04T10:30:00+01:00", "attended", "Q-1;fr"),
        _line(prog, "B-2", "2025-03-04T11:00:00+01:00", "2025-03-04T11:30:00+01:00", "no_show", "Q-2;tr"),
        _line(prog, "B-3", "2025-03-05T11:00:00+01:00", "2025-03-05T11:30:00+01:00", "cancelled", "Q-1;fr"),
    ]
    # As a French spreadsheet saves it: a byte order mark and CRLF line ends.
    file.write_bytes(("\ufeff" + "\r\n".join([HEADER, *rows]) + "\r\n").encode("utf-8"))
    done = _run(database, file)
    assert (done.returncode, done.stdout.strip()) == (0, "3 imported, 0 already imported."), done.stderr
    assert asyncio.run(_counts(database.url)) == (3, [("Q-1", "fr"), ("Q-2", "tr")])
    again = _run(database, file)
    assert (again.returncode, again.stdout.strip()) == (0, "0 imported, 3 already imported.")
    assert asyncio.run(_counts(database.url))[0] == 3
