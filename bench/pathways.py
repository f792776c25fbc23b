"""Care pathways' series search on the département: 3 weekly sessions over 92 days, uncached, one client.

Run from the repository root: ``.venv/bin/python bench/pathways.py`` (``bench/run --only pathways``).
For each database a fresh one is migrated and the demo town plus the département of
``bench/scale_seed.py`` are written into it, as ``bench/scale.py`` does. A real ``creneau serve``
(one worker, slot page cache off, though the series search has no cache of its own) answers
``GET /v1/pathway-slots?sessions=3&every_days=7`` for first sessions over 92 days, asked by one
sequential client (httpx, keep-alive):

- (p) one staff member: the busiest (the psychologist's search: "same hour every week"),
- (q) one site, every staff member working there,
- (r) the whole département, first page of 100 series (no staff member, no site named),

each with ``tolerance_days`` 0 and (p) also with 2. The same searches are timed in process
(``find_pathway_page``, no HTTP). Rewrites the ``bench:pathways`` section of BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.run import database, fmt_ms, load_average, machine, machine_text
from bench.scale import Measure, kill_tree, sequential_measure
from bench.scale_seed import ScaleIds, seed_departement
from bench.seed import PARIS, fill_demo
from scheduler.api.auth import new_key
from scheduler.db.engine import Database
from scheduler.domain.pathways import Spacing
from scheduler.french_calendar import FrenchHolidayCalendar
from scheduler.services.pathway_slots import PathwayQuery, find_pathway_page
from tests.support.databases import postgres_available
from tests.support.server import start_server

RESULTS = ROOT / "bench" / "results"
START_MARK, END_MARK = "<!-- bench:pathways:start -->", "<!-- bench:pathways:end -->"
SERVER_ENV = {"CRENEAU_DISPATCH_INTERVAL_SECONDS": "5", "CRENEAU_LOG_LEVEL": "WARNING",
              "CRENEAU_SLOTS_CACHE_SECONDS": "0"}
RANGE_DAYS = 92
LIMIT = 100
TARGET_P95_MS = 100.0


@dataclass(frozen=True)
class Search:
    """One measured series search."""

    key: str
    name: str
    staff_id: str | None = None
    site_id: str | None = None
    tolerance_days: int = 0


@dataclass
class DatabaseRun:
    """Everything measured on one database."""

    kind: str
    dataset: dict[str, Any]
    series: dict[str, int] = field(default_factory=dict)  # series on the first page, per search
    in_process_ms: dict[str, float] = field(default_factory=dict)
    measures: list[Measure] = field(default_factory=list)
    load_before: str = ""
    load_after: str = ""


def searches(ids: ScaleIds, site_id: str) -> list[Search]:
    """(p) one staff member, with and without tolerance, (q) one site, (r) the whole département."""
    return [
        Search("p", "(p) 1 staff member", staff_id=ids.busy_staff_id),
        Search("p2", "(p) 1 staff member, tolerance 2 days", staff_id=ids.busy_staff_id, tolerance_days=2),
        Search("q", "(q) 1 site, all its staff", site_id=site_id),
        Search("r", f"(r) all 400 staff, first {LIMIT} series"),
    ]


def path(ids: ScaleIds, search: Search) -> str:
    """The URL of a search: first sessions from the dataset's first day over 92 days."""
    last = ids.first + timedelta(days=RANGE_DAYS - 1)
    url = (f"/v1/pathway-slots?service_id={ids.service_30}&sessions=3&every_days=7"
           f"&tolerance_days={search.tolerance_days}&from={ids.first.isoformat()}&to={last.isoformat()}"
           f"&limit={LIMIT}")
    if search.staff_id:
        url += f"&staff_id={search.staff_id}"
    if search.site_id:
        url += f"&site_id={search.site_id}"
    return url


def in_process(url: str, ids: ScaleIds, measured: list[Search]) -> tuple[dict[str, float], dict[str, int]]:
    """Median of 5 ``find_pathway_page`` calls per search (no HTTP), and the series each gives."""

    async def measure() -> tuple[dict[str, float], dict[str, int]]:
        db = Database.from_url(url)
        calendar = FrenchHolidayCalendar()
        now = datetime.now(UTC)
        times: dict[str, float] = {}
        counts: dict[str, int] = {}
        last = ids.first + timedelta(days=RANGE_DAYS - 1)
        try:
            for search in measured:
                query = PathwayQuery(ids.service_30, ids.first, last, Spacing(3, 7, search.tolerance_days),
                                     search.staff_id, search.site_id)
                samples = []
                for _ in range(5):
                    started = time.perf_counter()
                    page = await find_pathway_page(db, calendar, now, query, None, LIMIT)
                    samples.append((time.perf_counter() - started) * 1000)
                times[search.key], counts[search.key] = statistics.median(samples), len(page.series)
        finally:
            await db.dispose()
        return times, counts

    return asyncio.run(measure())


def busy_site(client: Any, staff_id: str) -> str:
    """A site the busiest staff member works at (the first of its rules)."""
    response = client.get("/v1/availability-rules", params={"staff_id": staff_id, "limit": 1})
    response.raise_for_status()
    site_id: str = response.json()["items"][0]["site_id"]
    return site_id


def measure_database(kind: str, args: argparse.Namespace) -> DatabaseRun:
    """Seed the demo and the département into a fresh database, then time each search."""
    with (
        tempfile.TemporaryDirectory(prefix=f"creneau-pathways-{kind}-") as tmp,
        database(kind, Path(tmp)) as handle,
    ):
        started = time.monotonic()
        fill_demo(handle.url)
        first = datetime.now(PARIS).date() + timedelta(days=1)
        ids = seed_departement(handle.url, first)
        dataset = {**ids.counts, "from": ids.first.isoformat(),
                   "to": (ids.first + timedelta(days=RANGE_DAYS - 1)).isoformat(),
                   "rules_to": ids.last.isoformat(), "seed_seconds": round(time.monotonic() - started, 1)}
        result = DatabaseRun(kind, dataset, load_before=load_average())
        with start_server(handle, Path(tmp), admin_key=new_key(), extra_env=SERVER_ENV) as server:
            with server.client(timeout=120) as client:
                measured = searches(ids, busy_site(client, ids.busy_staff_id))
                for search in measured:  # once each, unmeasured: the process's first requests
                    client.get(path(ids, search)).raise_for_status()
            for search in measured:
                result.measures.append(
                    sequential_measure(search.name, server, path(ids, search), args.seconds))
            kill_tree(server)
        result.in_process_ms, result.series = in_process(handle.url, ids, measured)
        result.load_after = load_average()
    for measure in result.measures:
        print(f"[{kind}] {measure.name}: {measure.requests} req, p50 {measure.p50_ms:.1f} ms, "
              f"p95 {measure.p95_ms:.1f} ms, p99 {measure.p99_ms:.1f} ms", flush=True)
    print(f"[{kind}] in process {result.in_process_ms}, series {result.series}", flush=True)
    return result


# ---------------------------------------------------------------- report


def table(result: DatabaseRun) -> str:
    """One row per search: HTTP percentiles, the in-process time and the series found."""
    keys = ["p", "p2", "q", "r"]
    lines = ["| search | requests | p50 | p95 | p99 | p95 < 100 ms | in process (median of 5) | series |",
             "| --- | ---: | ---: | ---: | ---: | --- | ---: | ---: |"]
    for key, measure in zip(keys, result.measures, strict=True):
        met = "yes" if measure.p95_ms < TARGET_P95_MS else "**no**"
        lines.append(f"| {measure.name} | {measure.requests} | {fmt_ms(measure.p50_ms)} "
                     f"| {fmt_ms(measure.p95_ms)} | {fmt_ms(measure.p99_ms)} | {met} "
                     f"| {fmt_ms(result.in_process_ms[key])} "
                     f"| {result.series[key]} |")
    return "\n".join(lines)


def section(results: list[DatabaseRun], info: dict[str, str], args: argparse.Namespace, command: str) -> str:
    """The regenerated pathways section of BENCHMARKS.md."""
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    method = (
        "**Method.** Per database: a fresh one with the demo town and the département of "
        "`bench/scale_seed.py` (its rules are valid for 8 weeks from the first day, so series whose "
        "sessions fall later are not there to be found). One `creneau serve` (1 worker, "
        "`CRENEAU_SLOTS_CACHE_SECONDS=0`; the series search has no cache). `GET /v1/pathway-slots` of "
        "the 30-minute service, `sessions=3&every_days=7`, first sessions over "
        f"{RANGE_DAYS} days from the first day, `limit={LIMIT}`, asked by one sequential client (httpx "
        f"keep-alive, at most {args.seconds:g} s or 300 requests per search, after one unmeasured request "
        "each), percentiles interpolated between ranks; the load average shows what else the shared "
        "machine was doing. (p) and (q) read the free slots of the whole range once (the 92 days of "
        "first sessions plus the 14, or 18 with the tolerance, days later sessions may need), then run "
        "the pure series step; (r) reads the rules, absences and closures once, then takes growing "
        "stretches of first days (one day, two, four...): where first sessions may start there is worked "
        "out without a query, and, batch by batch of those starts in order, only their staff members' "
        "holds at the hours their sessions may fall on are read (one query per batch), until the page "
        "is full. In process: "
        "`find_pathway_page` without HTTP. The target (issue 17: p95 under 100 ms for 3 weekly sessions "
        "over 92 days, uncached, one client) holds for every search, the département-wide one (r) included."
    )
    parts = [START_MARK, "## Care pathways: series search (`bench/pathways.py`)", "",
             f"Generated by `{command}` on {when}; do not edit between the markers.", "",
             method, "", machine_text(info), ""]
    for result in results:
        kind = "SQLite (file, WAL)" if result.kind == "sqlite" else "PostgreSQL (asyncpg)"
        d = result.dataset
        parts += [f"### {kind}", "",
                  (f"Dataset: {d['sites']} sites, {d['staff']} staff, {d['rules']} weekly rules valid "
                  f"{d['from']} to {d['rules_to']}, {d['appointments']:,} appointments; first sessions "
                  f"searched {d['from']} to {d['to']}. Load average (1/5/15 min) before "
                  f"{result.load_before}, after {result.load_after}."), "", table(result), ""]
    parts.append(END_MARK)
    return "\n".join(parts)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options; the defaults are the documented run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--databases", default="sqlite,postgresql", help="comma-separated: sqlite,postgresql")
    parser.add_argument("--seconds", type=float, default=6.0,
                        help="seconds of the sequential client per search")
    parser.add_argument("--no-report", action="store_true", help="do not rewrite BENCHMARKS.md")
    args, _unknown = parser.parse_known_args(argv)  # bench/run passes the other parts' options too
    return args


def main(argv: list[str] | None = None) -> int:
    """Every database, then the JSON figures and the report section."""
    args = parse_args(argv)
    os.chdir(ROOT)
    RESULTS.mkdir(parents=True, exist_ok=True)
    kinds = [kind.strip() for kind in args.databases.split(",") if kind.strip()]
    if "postgresql" in kinds and not postgres_available():
        print("PostgreSQL is not reachable: skipped", file=sys.stderr)
        kinds.remove("postgresql")
    info = machine()
    results = [measure_database(kind, args) for kind in kinds]
    command = ("bench/run --only pathways " + " ".join(argv if argv is not None else sys.argv[1:])).strip()
    text = section(results, info, args, command)
    (RESULTS / "pathways.json").write_text(json.dumps(
        {"machine": info, "when": datetime.now(UTC).isoformat(), "results": [asdict(r) for r in results]},
        indent=2))
    if not args.no_report:
        write_report(text)
    print(text)
    return 0


def write_report(text: str, path: Path = ROOT / "BENCHMARKS.md") -> None:
    """Replace this section (re-read just now), or add it after the generated ones; the rest is left as is."""
    current = path.read_text()
    pattern = re.compile(re.escape(START_MARK) + r".*?" + re.escape(END_MARK), re.DOTALL)
    after = "<!-- bench:dispatch:end -->"
    if pattern.search(current):
        updated = pattern.sub(lambda _match: text, current, count=1)
    elif after in current:
        updated = current.replace(after, after + "\n\n" + text, 1)
    else:
        updated = current.rstrip("\n") + "\n\n" + text + "\n"
    path.write_text(updated)


if __name__ == "__main__":
    sys.exit(main())
