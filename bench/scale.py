"""Département-scale free slots: one staff member over 8 weeks, and a service across all staff.

Run from the repository root: ``.venv/bin/python bench/scale.py`` (``bench/run`` runs it with
the other benchmarks). For each database a fresh one is migrated, the demo town is written
into it (the small-town scale), then the département (``bench/scale_seed.py``: 400 staff,
100 sites, 8 weeks of rules, 20,000 appointments) with Core bulk inserts. A real
``creneau serve`` process is started four times: 1 and 2 workers (``CRENEAU_WORKERS``), each
with the slot page cache on (the default, 2 s) and off (``CRENEAU_SLOTS_CACHE_SECONDS=0``).
Each server gets the ceiling (``GET /health/live``), then wrk at 64 connections on

- (a) free slots of one staff member over 8 weeks (``staff_id``, one page of 500), and
- (b) free slots of the 30-minute service across all 400 staff over one week (no ``staff_id``,
  first page of 500),

plus (b) with one sequential client (httpx, keep-alive), which gives the unloaded service time.
p95 comes from wrk's own latency histogram (``bench/wrk/percentiles.lua``). Rewrites the
``bench:scale`` section of BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


from bench.run import database, fmt_ms, fmt_rps, load_average, machine, machine_text
from bench.scale_seed import ScaleIds, seed_departement
from bench.seed import PARIS, fill_demo
from bench.wrkrun import WrkResult, run_wrk
from scheduler.api.auth import new_key
from scheduler.db.engine import Database
from scheduler.domain.slots import Slot
from scheduler.french_calendar import FrenchHolidayCalendar
from scheduler.services.availability import SlotQuery, find_slot_page, find_slots
from tests.support.databases import postgres_available
from tests.support.server import RunningServer, start_server

BENCH = ROOT / "bench"
RESULTS = BENCH / "results"
LUA_PERCENTILES = BENCH / "wrk" / "percentiles.lua"
REPORT = ROOT / "BENCHMARKS.md"
START_MARK, END_MARK = "<!-- bench:scale:start -->", "<!-- bench:scale:end -->"
SERVER_ENV = {"CRENEAU_DISPATCH_INTERVAL_SECONDS": "5", "CRENEAU_LOG_LEVEL": "WARNING"}
LIMIT = 500
SEQUENTIAL_MAX = 300


@dataclass
class Measure:
    """One measured request kind on one server."""

    name: str
    tool: str  # "wrk" or "sequential"
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    timeouts: int = 0
    errors: str = ""
    cpu_seconds: float = 0.0
    rss_peak_kib: int = 0  # largest worker VmHWM
    rss_total_kib: int = 0  # sum of the processes' VmHWM


@dataclass
class ServerRun:
    """One server configuration: workers and cache, with its measures (the ceiling first)."""

    workers: int
    cache: bool
    measures: list[Measure] = field(default_factory=list)
    profiles: list[str] = field(default_factory=list)


@dataclass
class DatabaseRun:
    """Everything measured on one database."""

    kind: str
    dataset: dict[str, Any]
    in_process: dict[str, float]
    runs: list[ServerRun] = field(default_factory=list)
    load_before: str = ""
    load_after: str = ""


# ---------------------------------------------------------------- processes


def tree(pid: int) -> list[int]:
    """``pid`` and its descendants (uvicorn's workers when CRENEAU_WORKERS > 1)."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").glob("*"):
            try:
                todo += [int(child) for child in (task / "children").read_text().split()]
            except OSError:
                pass
    return found


def tree_cpu(pid: int) -> float:
    """User + system CPU seconds of the server's processes so far."""
    total = 0.0
    for member in tree(pid):
        try:
            fields = Path(f"/proc/{member}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def tree_hwm(pid: int) -> tuple[int, int]:
    """Largest and summed VmHWM (KiB) of the server's processes (the supervisor is tiny)."""
    values = []
    for member in tree(pid):
        try:
            match = re.search(r"^VmHWM:\s+(\d+) kB", Path(f"/proc/{member}/status").read_text(), re.MULTILINE)
        except OSError:
            continue
        if match:
            values.append(int(match.group(1)))
    return (max(values), sum(values)) if values else (0, 0)


def wait_idle(pid: int, *, step: float = 0.5, timeout: float = 30.0) -> None:
    """Wait until the server stops finishing requests its clients gave up on."""
    started = time.monotonic()
    before = tree_cpu(pid)
    while time.monotonic() - started < timeout:
        time.sleep(step)
        after = tree_cpu(pid)
        if after - before < 0.15 * step:
            return
        before = after


def kill_tree(server: RunningServer) -> None:
    """SIGKILL the server and its workers (ids we started): a saturated queue is not drained."""
    members = tree(server.process.pid)
    for member in reversed(members):
        try:
            os.kill(member, signal.SIGKILL)
        except ProcessLookupError:
            pass
    server.process.wait(timeout=10)


# ---------------------------------------------------------------- measuring


def wrk_measure(name: str, server: RunningServer, path: str, args: argparse.Namespace, seconds: float,
                connections: int | None = None) -> Measure:
    """wrk with the percentile script, plus the server's CPU and memory during the run."""
    pid = server.process.pid
    cpu = tree_cpu(pid)
    result = run_wrk(server.base_url + path, headers={"Authorization": f"Bearer {server.admin_key}"},
                     seconds=seconds, connections=connections or args.connections, threads=args.threads,
                     script=LUA_PERCENTILES)
    cpu = tree_cpu(pid) - cpu
    peak, total = tree_hwm(pid)
    return _from_wrk(name, result, cpu, peak, total)


def _from_wrk(name: str, result: WrkResult, cpu: float, peak: int, total: int) -> Measure:
    match = re.search(r"BENCH_LATENCY_US (.*)", result.raw)
    if not match:
        raise RuntimeError(f"no percentiles in wrk output:\n{result.raw}")
    values = {key: int(value) / 1000 for key, value in (item.split("=") for item in match.group(1).split())}
    timeouts = re.search(r"timeout (\d+)", result.socket_errors)
    errors = [f"{result.non_2xx} non-2xx"] if result.non_2xx else []
    if result.socket_errors and not re.fullmatch(
        r"connect 0, read 0, write 0, timeout \d+", result.socket_errors
    ):
        errors.append(f"socket errors: {result.socket_errors}")
    return Measure(
        name,
        "wrk",
        result.requests,
        result.seconds,
        result.rps,
        values["p50"],
        values["p95"],
        values["p99"],
        int(timeouts.group(1)) if timeouts else 0,
        "; ".join(errors),
        cpu,
        peak,
        total,
    )


def sequential_measure(name: str, server: RunningServer, path: str, seconds: float) -> Measure:
    """One client, one request at a time (keep-alive), for at most ``seconds``."""
    pid = server.process.pid
    samples: list[float] = []
    cpu = tree_cpu(pid)
    started = time.monotonic()
    with server.client(timeout=60) as client:
        while time.monotonic() - started < seconds and len(samples) < SEQUENTIAL_MAX:
            begin = time.perf_counter()
            response = client.get(path)
            samples.append((time.perf_counter() - begin) * 1000)
            if response.status_code != 200:
                raise RuntimeError(f"{path}: {response.status_code} {response.text[:300]}")
    elapsed = time.monotonic() - started
    cpu = tree_cpu(pid) - cpu
    peak, total = tree_hwm(pid)
    return Measure(name, "sequential", len(samples), elapsed, len(samples) / elapsed, percentile(samples, 50),
                   percentile(samples, 95), percentile(samples, 99), 0, "", cpu, peak, total)


def percentile(samples: list[float], rank: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    ordered = sorted(samples)
    if len(ordered) == 1:
        return ordered[0]
    position = (len(ordered) - 1) * rank / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def paths(ids: ScaleIds) -> dict[str, str]:
    """The two slot searches: (a) one staff member over 8 weeks, (b) all staff over one week."""
    week_last = ids.first + timedelta(days=6)
    return {
        "a": (f"/v1/slots?service_id={ids.service_30}&staff_id={ids.busy_staff_id}"
              f"&from={ids.first.isoformat()}&to={ids.last.isoformat()}&limit={LIMIT}"),
        "b": (f"/v1/slots?service_id={ids.service_30}&from={ids.first.isoformat()}"
              f"&to={week_last.isoformat()}&limit={LIMIT}"),
    }


A_NAME = "(a) free slots, 1 staff, 8 weeks"
B_NAME = "(b) free slots, all 400 staff, 1 week"


def run_server(handle: Any, folder: Path, ids: ScaleIds, workers: int, cache: bool,
               args: argparse.Namespace) -> ServerRun:
    """Start one server configuration and measure ceiling, (a), (b) sequential, (b) at 64 connections."""
    env = {**SERVER_ENV, "CRENEAU_SLOTS_CACHE_SECONDS": "2" if cache else "0"}
    run = ServerRun(workers, cache)
    urls = paths(ids)
    label = f"[{handle.kind} w{workers} cache {'on' if cache else 'off'}]"
    with start_server(handle, folder, admin_key=new_key(), workers=workers, extra_env=env) as server:
        pid = server.process.pid
        with server.client(timeout=120) as client:
            for path in urls.values():
                client.get(path).raise_for_status()
        run_wrk(server.base_url + "/health/live", seconds=args.warmup, connections=args.connections,
                threads=args.threads)
        run.measures.append(
            wrk_measure("ceiling: GET /health/live", server, "/health/live", args, args.duration)
        )
        run_wrk(server.base_url + urls["a"], headers={"Authorization": f"Bearer {server.admin_key}"},
                seconds=args.warmup, connections=args.connections, threads=args.threads)
        wait_idle(pid)
        run.measures.append(wrk_measure(A_NAME, server, urls["a"], args, args.duration))
        wait_idle(pid)
        if args.profile and workers == 1 and not cache:
            run.profiles = profile(server, handle.kind, urls, args)
        run.measures.append(sequential_measure(B_NAME, server, urls["b"], args.sequential))
        if cache:  # warm-up at 64 connections only where it leaves no long queue behind
            run_wrk(server.base_url + urls["b"], headers={"Authorization": f"Bearer {server.admin_key}"},
                    seconds=args.warmup, connections=args.connections, threads=args.threads)
            wait_idle(pid)
        run.measures.append(wrk_measure(B_NAME, server, urls["b"], args, args.duration))
        if server.process.poll() is not None:
            raise RuntimeError(f"server died:\n{server.log()[-3000:]}")
        kill_tree(server)
    for measure in run.measures:
        print(
            f"{label} {measure.name} ({measure.tool}): {measure.rps:,.1f} req/s, "
            f"p50 {measure.p50_ms:.1f} ms, "
            f"p95 {measure.p95_ms:.1f} ms, p99 {measure.p99_ms:.1f} ms, timeouts {measure.timeouts}",
            flush=True,
        )
    return run


def profile(server: RunningServer, kind: str, urls: dict[str, str], args: argparse.Namespace) -> list[str]:
    """py-spy (raw collapsed stacks) on the uncached 1-worker server: (a) at 64 connections, (b) at 4."""
    py_spy = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or shutil.which("py-spy")
    if py_spy is None:
        return []
    written = []
    seconds = 6
    for name, connections in (("a", args.connections), ("b", 4)):
        out = RESULTS / f"profile-scale-{kind}-{name}.txt"
        spy = subprocess.Popen(
            [
                py_spy,
                "record",
                "--pid",
                str(server.process.pid),
                "--duration",
                str(seconds),
                "--rate",
                "100",
                "--format",
                "raw",
                "-o",
                str(out),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        run_wrk(server.base_url + urls[name], headers={"Authorization": f"Bearer {server.admin_key}"},
                seconds=seconds, connections=connections, threads=min(args.threads, connections))
        spy.wait(timeout=60)
        wait_idle(server.process.pid)
        written.append(str(out.relative_to(ROOT)))
    return written


Search = Callable[[AsyncSession], Awaitable[list[Slot]]]


def in_process(url: str, ids: ScaleIds) -> dict[str, float]:
    """Free-slot counts and search times in this process (no HTTP, no serialisation).

    ``find_slots`` gives the whole list; ``find_slot_page`` the first page of ``LIMIT``, as
    ``GET /v1/slots`` asks for it (``b_page_ms``).
    """

    async def timed(db: Database, search: Search) -> tuple[float, list[Slot]]:
        times = []
        for _ in range(5):
            started = time.perf_counter()
            async with db.read() as session:
                slots = await search(session)
            times.append((time.perf_counter() - started) * 1000)
        return statistics.median(times), slots

    async def measure() -> dict[str, float]:
        db = Database.from_url(url)
        calendar = FrenchHolidayCalendar()
        now = datetime.now(UTC)
        figures: dict[str, float] = {}
        queries = {"a": SlotQuery(ids.service_30, ids.first, ids.last, ids.busy_staff_id),
                   "b": SlotQuery(ids.service_30, ids.first, ids.first + timedelta(days=6))}
        try:
            for name, query in queries.items():
                figures[f"{name}_ms"], slots = await timed(
                    db, lambda session, query=query: find_slots(session, calendar, query, now))
                figures[f"{name}_slots"] = len(slots)
                figures[f"{name}_staff"] = len({slot.resource_id for slot in slots})
            figures["b_page_ms"], _ = await timed(
                db, lambda session: _first_page(session, calendar, queries["b"], now))
        finally:
            await db.dispose()
        return figures

    return asyncio.run(measure())


async def _first_page(session: AsyncSession, calendar: FrenchHolidayCalendar, query: SlotQuery,
                      now: datetime) -> list[Slot]:
    return (await find_slot_page(session, calendar, query, now, limit=LIMIT)).slots


def measure_database(kind: str, args: argparse.Namespace) -> DatabaseRun:
    """Seed the demo and the département into a fresh database, then run every server configuration."""
    with (
        tempfile.TemporaryDirectory(prefix=f"creneau-scale-{kind}-") as tmp,
        database(kind, Path(tmp)) as handle,
    ):
        started = time.monotonic()
        fill_demo(handle.url)
        first = datetime.now(PARIS).date() + timedelta(days=1)
        ids = seed_departement(handle.url, first)
        seeded = time.monotonic() - started
        figures = in_process(handle.url, ids)
        print(f"[{kind}] seeded in {seeded:.1f}s: {ids.counts}; in process {figures}", flush=True)
        dataset = {**ids.counts, "busy_appointments": ids.busy_appointments, "from": ids.first.isoformat(),
                   "to": ids.last.isoformat(), "week_to": (ids.first + timedelta(days=6)).isoformat(),
                   "seed_seconds": round(seeded, 1)}
        result = DatabaseRun(kind, dataset, figures, load_before=load_average())
        for workers in args.workers:
            for cache in (True, False):
                result.runs.append(run_server(handle, Path(tmp), ids, workers, cache, args))
        result.load_after = load_average()
    return result


# ---------------------------------------------------------------- report


def row(measure: Measure, ceiling: Measure, run: ServerRun) -> str:
    """One table row, with ratios to the same server's ceiling."""
    per_request = 1000 * measure.cpu_seconds / measure.requests if measure.requests else 0.0
    tool = f"wrk, {measure.requests:,} req" if measure.tool == "wrk" else f"1 client, {measure.requests} req"
    notes = [f"timeouts (>10 s): {measure.timeouts}"] if measure.timeouts else []
    if measure.errors:
        notes.append(measure.errors)
    wrk = measure.tool == "wrk"  # the sequential client's figures are not comparable with the ceiling's
    rps_ratio = f"{measure.rps / ceiling.rps:.3f}" if wrk else "–"
    p99_ratio = f"{measure.p99_ms / ceiling.p99_ms:.1f}" if wrk else "–"
    return (
        f"| {run.workers} | {'on' if run.cache else 'off'} | {measure.name} | {tool} "
        f"| {fmt_rps(measure.rps)} | {rps_ratio} "
        f"| {fmt_ms(measure.p50_ms)} | {fmt_ms(measure.p95_ms)} | {fmt_ms(measure.p99_ms)} | "
        f"{p99_ratio} | {measure.cpu_seconds / measure.seconds:.2f} core, "
        f"{fmt_ms(per_request)}/req "
        f"| {measure.rss_peak_kib / 1024:.0f} / {measure.rss_total_kib / 1024:.0f} MiB "
        f"| {'; '.join(notes)} |"
    )


def table(result: DatabaseRun) -> str:
    """All server configurations of one database."""
    lines = [
        (
            "| workers | cache | measure | tool | req/s | × ceiling | p50 | p95 | p99 | p99 × ceiling "
            "| server CPU "
            "| peak RSS (worker / all) | notes |"
        ),
        "| ---: | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for run in result.runs:
        ceiling = run.measures[0]
        lines += [row(measure, ceiling, run) for measure in run.measures]
    return "\n".join(lines)


def method_text(args: argparse.Namespace) -> str:
    """How the figures were made."""
    return (
        "**Method.** Per database: a fresh one, migrated; the demo town (the small-town scale, measured in "
        "the core section) and the département from `bench/scale_seed.py` written straight into it with "
        "Core bulk inserts (one hold per booked block, `taken` = its appointments; no overlapping holds of a "
        "staff member). Rules are half-days (08:30-12:00, 13:30-17:00 local) valid for the 8 measured weeks; "
        "rules at schools follow the school calendar of their zone (so the Christmas holidays close them). "
        "Every rule offers the 30-minute service, half of them the 60-minute one too, and one rule of 40 "
        "staff members the collective service (capacity 8). A real `creneau serve` (uvicorn, access log "
        "off) is started for each of 1 and 2 workers (`CRENEAU_WORKERS`), with the slot page cache on "
        "(default `CRENEAU_SLOTS_CACHE_SECONDS=2`) and off (`=0`). **Cache on:** wrk repeats one URL, so "
        "nearly every answer is a cached page (one computation per 2 s per worker): it measures the cache, "
        "not the search. **Cache off:** every request runs the real search. Each server: ceiling "
        f"`GET /health/live`, then (a) and (b) with wrk ({args.threads} threads, {args.connections} "
        f"connections, {args.duration:g} s, `--timeout 10s`, after a {args.warmup:g} s warm-up except (b) "
        "with the cache off), and (b) with one sequential client (httpx keep-alive, at most "
        f"{args.sequential:g} s or {SEQUENTIAL_MAX} requests): the unloaded latency. p50/p95/p99 come from "
        "wrk's latency histogram through `bench/wrk/percentiles.lua`. Only completed requests are in it: "
        "requests that timed out, and those still in flight when wrk stops (up to 64; with (b) uncached, "
        "most of them), are not, so where few requests completed the percentiles are lower bounds. The "
        "sequential client's are interpolated between ranks. × ceiling: req/s as a fraction of the same "
        "server's ceiling, p99 as a multiple of its p99. "
        "Server CPU and RSS cover the server's processes (the supervisor and its workers with 2 workers). "
        "The server is killed after (b) rather than left to drain the requests wrk gave up on."
    )


def dataset_text(result: DatabaseRun) -> str:
    """The dataset line of a database."""
    d, f = result.dataset, result.in_process
    return (
        f"Dataset: {d['sites']} sites ({d['offices']} offices, {d['schools']} schools, "
        f"{d['overseas_sites']} in "
        f"Indian/Reunion), {d['staff']} staff, {d['rules']} weekly rules giving {d['openings']:,} half-day "
        f"openings from {d['from']} to {d['to']}, {d['appointments']:,} appointments in {d['holds']:,} holds "
        f"({d['collective_holds']} collective), seeded in {d['seed_seconds']} s (with the demo). "
        f"(a): a staff member with {d['busy_appointments']} appointments, {f['a_slots']:.0f} free slots over "
        f"8 weeks; (b): {f['b_slots']:,.0f} free 30-minute slots of {f['b_staff']:.0f} staff members from "
        f"{d['from']} to {d['week_to']}, the first {LIMIT} returned. `find_slots` in process (no HTTP, no "
        f"JSON; median of 5): (a) {fmt_ms(f['a_ms'])}, (b) {fmt_ms(f['b_ms'])}{_page_text(f)}. "
        f"Load average (1/5/15 min) "
        f"before {result.load_before}, after {result.load_after}."
    )


def _page_text(figures: dict[str, float]) -> str:
    if "b_page_ms" not in figures:  # a scale.json written before the paged search
        return ""
    page_ms = fmt_ms(figures["b_page_ms"])
    return f"; (b)'s first page of {LIMIT} (`find_slot_page`, what `GET /v1/slots` runs) {page_ms}"


def section(results: list[DatabaseRun], info: dict[str, str], args: argparse.Namespace, command: str,
            measured: datetime | None = None) -> str:
    """The regenerated scale section of BENCHMARKS.md."""
    when = (measured or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M UTC")
    parts = [START_MARK, "## Département scale: free slots (`bench/scale.py`)", "",
             f"Generated by `{command}` on {when}; do not edit between the markers.", "",
             method_text(args), "", machine_text(info), ""]
    for result in results:
        kind = "SQLite (file, WAL)" if result.kind == "sqlite" else "PostgreSQL (asyncpg)"
        parts += [f"### {kind}", "", dataset_text(result), "", table(result), ""]
        profiles = [path for run in result.runs for path in run.profiles]
        if profiles:
            listed = ", ".join(f"`{path}`" for path in profiles)
            parts += [
                f"Profiles (py-spy, 1 worker, cache off, extra runs; local files, git-ignored): {listed}",
                "",
            ]
    parts.append(END_MARK)
    return "\n".join(parts)


def write_report(text: str, path: Path = REPORT) -> None:
    """Replace the scale section (re-read just now), or add it after the core section."""
    current = path.read_text()
    pattern = re.compile(re.escape(START_MARK) + r".*?" + re.escape(END_MARK), re.DOTALL)
    if pattern.search(current):
        updated = pattern.sub(lambda _match: text, current, count=1)
    else:
        updated = current.rstrip("\n") + "\n\n" + text + "\n"
    path.write_text(updated)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options; the defaults are the documented run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--databases", default="sqlite,postgresql", help="comma-separated: sqlite,postgresql")
    parser.add_argument("--workers", default="1,2", type=lambda text: [int(n) for n in text.split(",")])
    parser.add_argument("--duration", type=float, default=6.0, help="seconds per measured wrk run")
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--sequential", type=float, default=6.0, help="seconds of the sequential client")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--profile", action="store_true", help="py-spy on the uncached 1-worker server")
    parser.add_argument("--no-report", action="store_true", help="do not rewrite BENCHMARKS.md")
    parser.add_argument(
        "--report-only",
        metavar="COMMAND",
        default="",
        help="rewrite the section from bench/results/scale.json; COMMAND: the options of that run",
    )
    args, _unknown = parser.parse_known_args(argv)  # bench/run passes the core options too
    return args


def from_json(path: Path) -> tuple[list[DatabaseRun], dict[str, str]]:
    """The results of an earlier run, from its ``scale.json``."""
    saved = json.loads(path.read_text())
    results = []
    for item in saved["results"]:
        runs = [
            ServerRun(run["workers"], run["cache"], [Measure(**m) for m in run["measures"]], run["profiles"])
            for run in item.pop("runs")
        ]
        results.append(DatabaseRun(**item, runs=runs))
    return results, saved["machine"]


def main(argv: list[str] | None = None) -> int:
    """Every database, then the JSON figures and the report section."""
    args = parse_args(argv)
    os.chdir(ROOT)
    if args.report_only:  # rewrite the section from the last run's figures (after a change of wording)
        results, info = from_json(RESULTS / "scale.json")
        measured = datetime.fromisoformat(json.loads((RESULTS / "scale.json").read_text())["when"])
        text = section(results, info, args, ("bench/run " + args.report_only).strip(), measured)
        write_report(text)
        print(text)
        return 0
    RESULTS.mkdir(parents=True, exist_ok=True)
    kinds = [kind.strip() for kind in args.databases.split(",") if kind.strip()]
    if "postgresql" in kinds and not postgres_available():
        print("PostgreSQL is not reachable: skipped", file=sys.stderr)
        kinds.remove("postgresql")
    started = time.monotonic()
    info = machine()
    results = [measure_database(kind, args) for kind in kinds]
    command = "bench/run " + " ".join(argv if argv is not None else sys.argv[1:])
    text = section(results, info, args, command.strip())
    (RESULTS / "scale.json").write_text(json.dumps({"machine": info, "when": datetime.now(UTC).isoformat(),
                                                     "results": [asdict(r) for r in results]}, indent=2))
    if not args.no_report:
        write_report(text)
    print(text)
    print(f"\nscale total {time.monotonic() - started:.0f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
