"""Calendar feed benchmark: a staff feed of 2,000 and of 20,000 events over HTTP, on SQLite and PostgreSQL.

Run from the repository root: ``.venv/bin/python bench/feeds.py``. For each database it starts
a real ``creneau serve`` process, seeds the appointments with Core inserts (hold, family,
appointment), creates the feeds through the API, then measures with httpx (one keep-alive
connection, requests one after another):

- cold, first: the very first request of each feed after start-up;
- cold, after a change: an appointment is touched (as a change does: sequence and
  updated_at) before each timed request, so each one reloads and rebuilds the feed;
- warm: the same version again, served from the in-process body cache;
- 304: ``If-None-Match`` with the current ETag;
- the same run's ``GET /health/live`` as the ceiling (ratio = median / its median).

Figures go to BENCHMARKS.md between ``<!-- bench:feeds:start -->`` and
``<!-- bench:feeds:end -->``; nothing else in that file is touched.
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import re
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx
from sqlalchemy import insert, update

from scheduler.db.engine import Database
from scheduler.db.tables import Appointment, Family, HoldRecord, new_id
from tests.support.api import created
from tests.support.databases import DatabaseHandle, postgres_available, sqlite_database, temporary_postgres
from tests.support.server import RunningServer, start_server

REPORT = ROOT / "BENCHMARKS.md"
START_MARK, END_MARK = "<!-- bench:feeds:start -->", "<!-- bench:feeds:end -->"
REPORT_HEADER = "# Benchmarks\n"
SIZES = (2_000, 20_000)
# Samples per measurement: fewer for the slow cold rebuilds of the big feed.
COLD_RUNS = {2_000: 15, 20_000: 7}
FAST_RUNS = 200
CHUNK = 1_000
NOTES = (None, None, "Venir avec le carnet de santé", None, "Prévoir la salle du rez-de-chaussée")
SERVER_ENV = {"CRENEAU_DISPATCH_INTERVAL_SECONDS": "5", "CRENEAU_LOG_LEVEL": "WARNING"}


@dataclass(frozen=True, slots=True)
class Timing:
    """Milliseconds of one measured request kind."""

    name: str
    samples: list[float]

    @property
    def median(self) -> float:
        """Median in ms."""
        return statistics.median(self.samples)

    @property
    def p95(self) -> float:
        """95th percentile in ms (nearest rank)."""
        ordered = sorted(self.samples)
        return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


@dataclass(frozen=True, slots=True)
class FeedRun:
    """The figures of one feed size on one database."""

    database: str
    events: int
    body_kib: float
    timings: list[Timing]


# --- seeding ---------------------------------------------------------------------------------


def seed(url: str, staff_id: str, site_id: str, service_id: str, count: int) -> list[str]:
    """Insert ``count`` appointments of one staff member spread over the feed window; their ids."""
    return asyncio.run(_seed(url, staff_id, site_id, service_id, count))


async def _seed(url: str, staff_id: str, site_id: str, service_id: str, count: int) -> list[str]:
    db = Database.from_url(url)
    now = datetime.now(UTC).replace(microsecond=0)
    first = now - timedelta(days=80)
    step = timedelta(days=450) / count  # 20,000 events: one every 32 minutes, 20 minutes long
    length = min(timedelta(minutes=60), step * 0.6)
    ids: list[str] = []
    try:
        for offset in range(0, count, CHUNK):
            rows = [_rows(staff_id, site_id, service_id, first + step * n, length, n, now)
                    for n in range(offset, min(count, offset + CHUNK))]
            async with db.write() as session:
                await session.execute(insert(HoldRecord.__table__), [hold for hold, _, _ in rows])  # type: ignore[attr-defined]
                families = [family for _, family, _ in rows if family is not None]
                if families:
                    await session.execute(insert(Family.__table__), families)  # type: ignore[attr-defined]
                await session.execute(insert(Appointment.__table__), [appt for _, _, appt in rows])  # type: ignore[attr-defined]
            ids.extend(appt["id"] for _, _, appt in rows)
    finally:
        await db.dispose()
    return ids


def _rows(staff_id: str, site_id: str, service_id: str, start: datetime, length: timedelta, n: int,
          now: datetime) -> tuple[dict[str, Any], dict[str, Any] | None, dict[str, Any]]:
    """A hold, maybe a new family (one per ten appointments), and an appointment."""
    hold = {"id": new_id(), "resource_id": staff_id, "resource_kind": "staff", "service_id": service_id,
            "starts_at": start, "ends_at": start + length, "capacity": 1, "taken": 1}
    family_id = f"{staff_id[:20]}-fam-{n // 10}"
    family = None if n % 10 else {
        "id": family_id, "reference": f"PRE-{staff_id[:8]}-{n // 10:05d}", "phone": "+33612345678",
        "language": "fr", "sms_consent": True, "created_at": now, "updated_at": now}
    status = "cancelled" if n % 17 == 0 else ("attended" if start < now else "booked")
    appointment = {"id": new_id(), "status": status, "service_id": service_id, "staff_id": staff_id,
                   "site_id": site_id, "family_id": family_id, "starts_at": start, "ends_at": start + length,
                   "staff_hold_id": hold["id"], "note": NOTES[n % len(NOTES)], "sequence": n % 3,
                   "created_at": now - timedelta(days=1), "updated_at": now - timedelta(hours=n % 500)}
    return hold, family, appointment


def touch(url: str, appointment_id: str) -> None:
    """Change one appointment the way every change does: a new sequence and updated_at."""

    async def run() -> None:
        db = Database.from_url(url)
        try:
            async with db.write() as session:
                table = Appointment.__table__  # type: ignore[attr-defined]
                await session.execute(update(table).where(table.c.id == appointment_id).values(
                    sequence=table.c.sequence + 1, updated_at=datetime.now(UTC)))
        finally:
            await db.dispose()

    asyncio.run(run())


# --- measuring -------------------------------------------------------------------------------


def timed(request: Callable[[], httpx.Response], expected: int) -> float:
    """Milliseconds of one request, checking its status."""
    started = time.perf_counter()
    response = request()
    elapsed = (time.perf_counter() - started) * 1000
    assert response.status_code == expected, (response.status_code, response.text[:300])
    return elapsed


def measure_feed(server: RunningServer, http: httpx.Client, size: int, ids: list[str], url: str) -> FeedRun:
    """First, cold-after-change, warm and 304 timings of one feed."""
    get = lambda: http.get(url)
    first = timed(get, 200)
    cold = []
    for n in range(COLD_RUNS[size]):
        touch(server.database.url, ids[len(ids) // 2 + n])
        cold.append(timed(get, 200))
    body = http.get(url)
    etag = body.headers["etag"]
    warm = [timed(get, 200) for _ in range(FAST_RUNS // 4)]
    not_modified = [
        timed(lambda: http.get(url, headers={"If-None-Match": etag}), 304) for _ in range(FAST_RUNS)
    ]
    return FeedRun(server.database.kind, size, len(body.content) / 1024, [
        Timing("cold, first request", [first]),
        Timing("cold, after a change", cold),
        Timing("warm (cached body)", warm),
        Timing("304 (If-None-Match)", not_modified),
    ])


def run_database(handle: DatabaseHandle, folder: Path) -> tuple[Timing, list[FeedRun]]:
    """Start a server on the database, seed both feeds, measure."""
    folder.mkdir(parents=True, exist_ok=True)
    with start_server(handle, folder, admin_key=secrets.token_urlsafe(24), extra_env=SERVER_ENV) as server, \
            httpx.Client(base_url=server.base_url, timeout=120,
                         headers={"Authorization": f"Bearer {server.admin_key}"}) as http:
        site = created(
            http.post(
                "/v1/sites",
                json={
                    "name": "CCAS Centre",
                    "kind": "office",
                    "public_label": "CCAS",
                    "address": "1 place de la Mairie, 59000 Lille",
                },
            )
        )["id"]
        service = created(http.post("/v1/services", json={"name": "Entretien psychologue",
                                                          "duration_minutes": 60}))["id"]
        feeds = []
        for size in SIZES:
            staff = created(
                http.post("/v1/staff", json={"name": f"Mme Bench {size}", "role": "psychologist"})
            )["id"]
            ids = seed(handle.url, staff, site, service, size)
            token = created(http.post(f"/v1/staff/{staff}/feeds", json={"privacy": "full"}))["url"]
            feeds.append((size, ids, token))
        live = Timing(
            "GET /health/live", [timed(lambda: http.get("/health/live"), 200) for _ in range(FAST_RUNS)]
        )
        return live, [measure_feed(server, http, size, ids, url) for size, ids, url in feeds]


@contextmanager
def databases(kinds: list[str]) -> Iterator[list[tuple[DatabaseHandle, Path]]]:
    """Fresh migrated databases of the requested kinds."""
    with tempfile.TemporaryDirectory() as folder:
        handles = []
        if "sqlite" in kinds:
            handles.append((sqlite_database(Path(folder)), Path(folder)))
        if "postgresql" in kinds and postgres_available():
            with temporary_postgres() as handle:
                yield [*handles, (handle, Path(folder))]
                return
        yield handles


# --- report ----------------------------------------------------------------------------------


def report(results: list[tuple[str, Timing, list[FeedRun]]]) -> str:
    """The Markdown section."""
    lines = [
        START_MARK,
        "## Calendar feeds (`bench/feeds.py`)",
        "",
        (
            f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {machine()}. "
            "A staff member's feed (privacy `full`), served"
        ),
        "by one `creneau serve` worker; httpx, one keep-alive connection, sequential requests.",
        "Ratio = median / the same run's `GET /health/live` median. Targets (issue 7): a 2,000-event",
        "feed at most 50 ms cold and 2 ms as a 304.",
        "",
        "| database | events | body KiB | request | n | median ms | p95 ms | × /health/live |",
        "|---|---:|---:|---|---:|---:|---:|---:|",
    ]
    for database, live, runs in results:
        lines.append(f"| {database} | – | – | {live.name} | {len(live.samples)} | {live.median:.2f} | "
                     f"{live.p95:.2f} | 1 |")
        for run in runs:
            for timing in run.timings:
                lines.append(f"| {database} | {run.events:,} | {run.body_kib:,.0f} | {timing.name} | "
                             f"{len(timing.samples)} | {timing.median:.2f} | {timing.p95:.2f} | "
                             f"{timing.median / live.median:.1f} |")
    lines += ["", "Where the time goes: see *Targets missed: where the time goes* (hand-written, below).",
              END_MARK]
    return "\n".join(lines)


def write_report(section: str, path: Path = REPORT) -> None:
    """Replace this benchmark's section of BENCHMARKS.md (re-read just now), or append it."""
    current = path.read_text() if path.exists() else REPORT_HEADER
    pattern = re.compile(re.escape(START_MARK) + r".*?" + re.escape(END_MARK), re.DOTALL)
    if pattern.search(current):
        updated = pattern.sub(lambda _match: section, current, count=1)
    else:
        updated = current.rstrip("\n") + "\n\n" + section + "\n"
    path.write_text(updated)


def machine() -> str:
    """CPU, cores and Python version."""
    names = [line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
             if line.startswith("model name")] if Path("/proc/cpuinfo").exists() else []
    cpu = f"{names[0]} ×{len(names)}" if names else platform.machine()
    return f"{cpu}, Python {platform.python_version()}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--databases", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument(
        "--no-write", action="store_true", help="print the section, leave BENCHMARKS.md alone"
    )
    args = parser.parse_args()
    results = []
    with databases(args.databases) as handles:
        for handle, folder in handles:
            live, runs = run_database(handle, folder / handle.kind)
            results.append((handle.kind, live, runs))
    section = report(results)
    print(section)
    if not args.no_write:
        write_report(section)
        print(f"updated {REPORT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
