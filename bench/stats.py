"""Appointment figures of a year of a département, grouped by site and month, on SQLite and PostgreSQL.

Run from the repository root: ``.venv/bin/python bench/stats.py``. For each database a fresh
one is migrated, then the département of ``bench/scale_seed.py`` is written stretched to 52
weeks, 480 staff and 200,000 appointments, with what a year leaves behind: outcomes (70 % attended, 12 %
no-show, 10 % cancelled, a third of those less than 24 h before), families coming back (about
four appointments each), other languages and interpreters, and about 1.6 SMS sent per
appointment in the outbox. PostgreSQL is VACUUM ANALYZEd after the load, as autovacuum would do.

The measurement is the service call the endpoint makes (``appointment_stats``: one read
transaction, one statement for the groups and the totals), site and month over the whole
year: one cold run, then the median and the worst of ``--runs`` warm runs. Rewrites the
``bench:stats`` section of BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import re
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, text

from bench import scale_seed
from bench.run import database, load_average, machine
from scheduler.db.engine import Database
from scheduler.db.outbox import OutboxMessage
from scheduler.db.tables import Appointment, Family, HoldRecord
from scheduler.services.appointment_stats import StatsRequest, appointment_stats
from tests.support.databases import postgres_available

REPORT = ROOT / "BENCHMARKS.md"
START_MARK, END_MARK = "<!-- bench:stats:start -->", "<!-- bench:stats:end -->"
APPOINTMENTS = 200_000
STAFF = 480
WEEKS = 52
FIRST = date(2025, 1, 6)  # a Monday; the year measured is 2025
TARGET_SECONDS = 1.0
LANGUAGES = ("fr",) * 14 + ("ar", "tr", "ro", "ps", "uk", "ta")
OUTCOMES = (("attended", 70), ("no_show", 12), ("cancelled", 10), ("booked", 8))
CHUNK = 5_000


@dataclass(frozen=True, slots=True)
class Measured:
    """One database's timings, in seconds."""

    kind: str
    rows: int
    appointments: int
    outbox: int
    seed_seconds: float
    cold: float
    median: float
    worst: float
    cpu: float
    """Median CPU seconds of this process per warm run: SQLite's whole work, the client's on PostgreSQL."""


def build(seed: int = scale_seed.SEED) -> tuple[Any, list[dict[str, Any]]]:
    """The year's rows: the département seed stretched, then given outcomes, returning families and SMS."""
    # The seed reads its size from these module constants: a year, ten times the appointments, and
    # a fifth more staff (400 staff members' rules hold 170,000 appointments in a year).
    scale_seed.WEEKS, scale_seed.APPOINTMENTS, scale_seed.STAFF = WEEKS, APPOINTMENTS, STAFF
    rows, _ = scale_seed.build_rows(FIRST, datetime.now(UTC).replace(microsecond=0), seed)
    rng = random.Random(seed + 7)
    families = rows.families[: len(rows.appointments) // 4]
    for family in families:
        family["language"] = rng.choice(LANGUAGES)
    outbox: list[dict[str, Any]] = []
    statuses = [status for status, weight in OUTCOMES for _ in range(weight)]
    taken: dict[str, list[tuple[datetime, datetime]]] = {}
    for number, appointment in enumerate(rows.appointments):
        family = _free_family(families, taken, appointment, rng)
        appointment["family_id"] = family["id"]
        appointment["status"] = rng.choice(statuses)
        appointment["cancelled_at"] = appointment["interpreter_language"] = None  # every row has every key
        if appointment["status"] == "cancelled":
            before = timedelta(hours=rng.choice((2, 12, 30, 72, 200)))
            appointment["cancelled_at"] = appointment["starts_at"] - before
        if family["language"] != "fr" and rng.random() < 0.6:
            appointment["interpreter_language"] = family["language"]
        messages = _messages(appointment, number, rng)
        # What the dispatcher counts on the appointment as it sends each one.
        appointment["sms_sent"] = len(messages)
        appointment["sms_segments"] = sum(message["segments"] for message in messages)
        outbox += messages
    rows.families = families
    return rows, outbox


def _free_family(
    families: list[dict[str, Any]], taken: dict[str, list[tuple[datetime, datetime]]],
    appointment: dict[str, Any], rng: random.Random,
) -> dict[str, Any]:
    """A random family not already booked at an overlapping time (the database refuses a family
    in two places at once)."""
    span = (appointment["starts_at"], appointment["ends_at"])
    while True:
        family = families[rng.randrange(len(families))]
        held = taken.setdefault(family["id"], [])
        if all(end <= span[0] or start >= span[1] for start, end in held):
            held.append(span)
            return family


def _messages(appointment: dict[str, Any], number: int, rng: random.Random) -> list[dict[str, Any]]:
    """A confirmation and a reminder, sent, most of the time."""
    messages = []
    for kind, event, offset in (("booked", "booked", None), ("reminder-1440", "reminder", 1440)):
        if rng.random() < 0.8:
            at = appointment["starts_at"] - timedelta(days=1 if kind != "booked" else 10)
            messages.append({
                "id": f"{number:024d}{len(messages):08d}", "appointment_id": appointment["id"],
                "recipient": "family", "kind": kind, "event": event, "offset_minutes": offset,
                "status": "delivered", "due_at": at, "attempts": 1,
                "needs_lookup": False, "segments": rng.choice((1, 1, 1, 2, 3)), "sent_at": at,
                "created_at": at, "updated_at": at})
    return messages


async def _insert(url: str, rows: Any, outbox: list[dict[str, Any]]) -> None:
    db = Database.from_url(url)
    try:
        for model, values in ((HoldRecord, rows.holds), (Family, rows.families),
                              (Appointment, rows.appointments), (OutboxMessage, outbox)):
            for offset in range(0, len(values), CHUNK):
                async with db.write() as session:
                    table = model.__table__  # type: ignore[attr-defined]
                    await session.execute(insert(table), values[offset:offset + CHUNK])
        if db.dialect == "postgresql":
            # What autovacuum does to a table that has lived a year: statistics, and the
            # visibility map that lets index-only scans skip the table.
            async with db.engine.connect() as connection:
                await connection.execution_options(isolation_level="AUTOCOMMIT")
                await connection.execute(text("VACUUM ANALYZE"))
        else:
            async with db.write() as session:
                await session.execute(text("ANALYZE"))
    finally:
        await db.dispose()


async def _insert_small(url: str, rows: Any) -> None:
    db = Database.from_url(url)
    try:
        async with db.write() as session:
            for model, values in ((scale_seed.Site, rows.sites), (scale_seed.Staff, rows.staff),
                                  (scale_seed.Service, rows.services)):
                await session.execute(insert(model.__table__), values)  # type: ignore[attr-defined]
    finally:
        await db.dispose()


async def _time(url: str, runs: int) -> tuple[int, float, list[float], list[float]]:
    db = Database.from_url(url)
    request = StatsRequest(FIRST, FIRST + timedelta(weeks=WEEKS) - timedelta(days=1), ("site", "month"))
    try:
        started = time.perf_counter()
        stats = await appointment_stats(db, request)
        cold = time.perf_counter() - started
        warm, cpu = [], []
        for _ in range(runs):
            started, used = time.perf_counter(), time.process_time()
            await appointment_stats(db, request)
            warm.append(time.perf_counter() - started)
            cpu.append(time.process_time() - used)
        assert stats.totals["booked"] == APPOINTMENTS, stats.totals
        return len(stats.rows), cold, warm, cpu
    finally:
        await db.dispose()


def measure(kind: str, runs: int) -> Measured:
    """Seed a fresh database of ``kind`` with the year, then time the grouped figures."""
    started = time.perf_counter()
    rows, outbox = build()
    with (tempfile.TemporaryDirectory(prefix=f"creneau-stats-{kind}-") as tmp,
          database(kind, Path(tmp)) as handle):
        asyncio.run(_insert_small(handle.url, rows))
        asyncio.run(_insert(handle.url, rows, outbox))
        seeded = time.perf_counter() - started
        count, cold, warm, cpu = asyncio.run(_time(handle.url, runs))
    return Measured(kind, count, len(rows.appointments), len(outbox), seeded, cold,
                    statistics.median(warm), max(warm), statistics.median(cpu))


def report(results: list[Measured], info: dict[str, str], load: str) -> str:
    """The section's text."""
    lines = [
        "## Appointment figures: a year of a département by site and month (`bench/stats.py`)",
        "",
        (f"`appointment_stats`, `group_by=site,month` over 52 weeks: {APPOINTMENTS:,} appointments "
        f"({STAFF} staff, 100 sites, 2 in La Réunion; outcomes, returning families, languages, "
        "interpreters) and their "
        "sent SMS in the outbox. One statement gives the groups and the totals; target "
        f"under {TARGET_SECONDS:.0f} s."),
        "",
        (f"**Machine.** {info['nproc']} CPUs ({info['cpu']}), {info['ram']} RAM, Python {info['python']}. "
        f"Code: {info['code']}. Load average before the run: {load}."),
        "",
        ("| database | rows | SMS in outbox | cold | median warm | worst warm | CPU of this process "
        "| target met |"),
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for r in results:
        met = "yes" if r.worst < TARGET_SECONDS else "no"
        lines.append(f"| {r.kind} | {r.rows} | {r.outbox:,} | {r.cold * 1000:.0f} ms "
                     f"| {r.median * 1000:.0f} ms | {r.worst * 1000:.0f} ms | {r.cpu * 1000:.0f} ms "
                     f"| {met} |")
    return "\n".join(lines)


def write_section(body: str) -> None:
    """Replace (or append) this benchmark's section of BENCHMARKS.md."""
    current = REPORT.read_text(encoding="utf-8")
    section = f"{START_MARK}\n{body}\n{END_MARK}"
    pattern = re.compile(re.escape(START_MARK) + ".*?" + re.escape(END_MARK), re.DOTALL)
    if pattern.search(current):
        updated = pattern.sub(lambda _: section, current)
    else:
        updated = current.rstrip() + "\n\n" + section + "\n"
    REPORT.write_text(updated, encoding="utf-8")


def main() -> None:
    """Measure on both databases (PostgreSQL when reachable) and rewrite the section."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--databases", default="sqlite,postgresql")
    args = parser.parse_args()
    info, load = machine(), load_average()
    kinds = [kind for kind in args.databases.split(",") if kind != "postgresql" or postgres_available()]
    results = []
    for kind in kinds:
        result = measure(kind, args.runs)
        print(result, flush=True)
        results.append(result)
    write_section(report(results, info, load))


if __name__ == "__main__":
    main()
