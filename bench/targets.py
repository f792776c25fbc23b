"""The targets of issue 21, with 2 server processes: uncached slots, booking, feed 304, memory, scaling.

Run from the repository root: ``.venv/bin/python bench/targets.py`` (or ``bench/run --only
targets``). For each database (SQLite file in WAL mode; a throw-away PostgreSQL database) a fresh
one is migrated and seeded like the core benchmark (``bench/seed.py``: the demo town, a busy staff
member with 250 bookings over 8 weeks, a team whose year of free slots the booking run walks) plus a
staff member with 2,000 appointments and a calendar feed. Then a real ``creneau serve`` with 2
worker processes (``CRENEAU_WORKERS=2``), and after it one with 1, each measured with wrk (2 threads,
64 connections) against its own ceiling (``GET /health/live``):

- free slots of one day of one staff member, the slot page cache off
  (``CRENEAU_SLOTS_CACHE_SECONDS=0``) and each request asking for another day (``bench/wrk/paths.lua``);
- booking distinct free slots (``bench/wrk/book.lua``);
- (2 processes only) the feed asked with ``If-None-Match`` and its current ETag, answered 304, on
  one connection, against ``GET /health/live`` on one connection;
- the peak resident set (``VmHWM``) of each server process.

Each figure is judged against its target (met / missed) and rewrites the ``bench:targets``
section of BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import feeds
from bench.run import (
    REPORT,
    cpu_seconds,
    database_kinds,
    demo_database,
    fmt_ms,
    fmt_rps,
    load_average,
    machine,
    machine_text,
    proc_status_kib,
    run_booking,
    save_json,
    write_report,
)
from bench.scale import kill_tree, tree, tree_cpu, wait_idle
from bench.seed import Dataset, build, local_starts
from bench.wrkrun import WrkResult, run_wrk
from scheduler.api.auth import new_key
from scheduler.settings import Settings
from tests.support.api import created, unique
from tests.support.databases import DatabaseHandle
from tests.support.server import RunningServer, start_server

RESULTS = ROOT / "bench" / "results"
LUA_PATHS = ROOT / "bench" / "wrk" / "paths.lua"
START_MARK, END_MARK = "<!-- bench:targets:start -->", "<!-- bench:targets:end -->"
# The slot page cache off; SMS sent at any hour (quiet hours would hold them back at night, so the
# dispatcher's share of the booking run would depend on when the benchmark runs).
SERVER_ENV = {"CRENEAU_DISPATCH_INTERVAL_SECONDS": "5", "CRENEAU_LOG_LEVEL": "WARNING",
              "CRENEAU_SLOTS_CACHE_SECONDS": "0", "CRENEAU_QUIET_HOURS": ""}
FEED_EVENTS = 2_000
BOOKING_WARMUP = 100  # slots booked, unmeasured, before each booking run
PROCESSES = (2, 1)  # the configuration the targets are about first
STARTUP_SECONDS = 120.0  # a loaded machine can take a minute to start a server

# The targets (issue 21, "What" 4).
SLOTS_SHARE, SLOTS_P99_MS = 0.15, 50.0
BOOKING_SHARE, BOOKING_P99_MS = 0.05, 200.0
FEED_304_MS = 2.0
RSS_BYTES = 200_000_000  # 200 MB


@dataclass
class Measure:
    """One wrk run: its figures, the answers by status, and the server's CPU during it."""

    name: str
    connections: int
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p99_ms: float
    statuses: dict[str, int]
    expected: str  # the status every answer should have
    socket_errors: str = ""
    cpu_seconds: float = 0.0

    @property
    def good_rps(self) -> float:
        """Answers per second with the expected status (failures are not throughput)."""
        return self.statuses.get(self.expected, 0) / self.seconds if self.seconds else 0.0

    @property
    def unexpected(self) -> int:
        """Answers with another status than the expected one."""
        return sum(count for status, count in self.statuses.items() if status != self.expected)


@dataclass
class ServerRun:
    """One server configuration (1 or 2 worker processes) and what it measured."""

    processes: int
    measures: dict[str, Measure] = field(default_factory=dict)
    rss_hwm_kib: dict[str, int] = field(default_factory=dict)  # "role pid" → VmHWM
    startup_seconds: float = 0.0  # from starting the server until every worker served a warm-up
    rss_start_kib: int = 0  # the largest worker's VmRSS then


@dataclass
class DatabaseRun:
    """Everything measured on one database."""

    kind: str
    dataset: dict[str, Any]
    runs: list[ServerRun] = field(default_factory=list)
    load_before: str = ""
    load_after: str = ""
    failures: list[str] = field(default_factory=list)  # server configurations that could not be measured

    def run(self, processes: int) -> ServerRun | None:
        """The run with that many processes, if it was measured."""
        return next((run for run in self.runs if run.processes == processes), None)


@dataclass(frozen=True, slots=True)
class Row:
    """One line of the verdict table."""

    target: str
    measured: str
    ratio: str
    verdict: str


# ---------------------------------------------------------------- measuring


@dataclass(frozen=True, slots=True)
class Workload:
    """What the measures ask for: seeded once per database, used by every server."""

    data: Dataset
    day_paths: list[str]
    feed_path: str
    bookable: list[list[tuple[str, str]]]  # one slice per server: warm-up first, then measured


def measure_wrk(name: str, server: RunningServer, path: str, *, seconds: float, connections: int,
                threads: int, expected: str = "200", headers: dict[str, str] | None = None,
                paths_file: Path | None = None) -> Measure:
    """wrk on ``path`` (or on the paths of ``paths_file``, in turn), with the server's CPU."""
    script = [str(paths_file), str(threads)] if paths_file else None
    before = tree_cpu(server.process.pid)
    result = run_wrk(server.base_url + path, seconds=seconds, connections=connections, threads=threads,
                     headers=headers, script=LUA_PATHS if paths_file else None, script_args=script)
    return to_measure(name, result, connections, expected, tree_cpu(server.process.pid) - before)


def to_measure(name: str, result: WrkResult, connections: int, expected: str, cpu: float) -> Measure:
    """A wrk result as a measure; without a status-counting script, wrk's own non-2xx/3xx count."""
    statuses = {key: value for key, value in result.statuses.items() if value}
    if not result.statuses:
        statuses = {expected: result.requests - result.non_2xx}
        if result.non_2xx:
            statuses["other"] = result.non_2xx
    return Measure(name, connections, result.requests, result.seconds, result.rps, result.p50_ms,
                   result.p99_ms, statuses, expected, result.socket_errors, cpu)


def measure_server(handle: DatabaseHandle, folder: Path, work: Workload, processes: int,
                   bookable: list[tuple[str, str]], args: argparse.Namespace) -> ServerRun:
    """Start a server with ``processes`` workers and measure it; killed at the end."""
    run = ServerRun(processes)
    wrk = {"seconds": args.duration, "connections": args.connections, "threads": args.threads}
    warm = {**wrk, "seconds": args.warmup}
    label = f"[{handle.kind} ×{processes}]"
    started = time.monotonic()
    with serving(handle, folder, processes) as server:
        pid = server.process.pid
        auth = {"Authorization": f"Bearer {server.admin_key}"}
        days = folder / f"days-{processes}.txt"
        days.write_text("".join(path + "\n" for path in work.day_paths))

        wait_workers(server, processes, warm)
        run.startup_seconds = round(time.monotonic() - started, 1)
        run.rss_start_kib = max(proc_status_kib(member, "VmRSS") for member in workers(pid))
        run.measures["ceiling"] = measure_wrk("ceiling: GET /health/live", server, "/health/live", **wrk)
        wait_idle(pid)
        if processes == 2:
            one = {"seconds": args.sequential, "connections": 1, "threads": 1}
            run.measures["ceiling_1"] = measure_wrk("ceiling, 1 connection", server, "/health/live", **one)
            etag = feed_etag(server, work.feed_path)
            not_modified = {"If-None-Match": etag}
            run_wrk(server.base_url + work.feed_path, headers=not_modified, **{**one, "seconds": args.warmup})
            run.measures["feed_304"] = measure_wrk(
                f"feed of {FEED_EVENTS:,} events, If-None-Match → 304, 1 connection", server,
                work.feed_path, expected="304", headers=not_modified, paths_file=single(folder, work),
                **one)
        run_wrk(server.base_url + work.day_paths[0], headers=auth, script=LUA_PATHS,
                script_args=[str(days), str(args.threads)], **warm)
        wait_idle(pid)
        run.measures["slots"] = measure_wrk("free slots, 1 staff, 1 day, uncached", server,
                                            work.day_paths[0], headers=auth, paths_file=days, **wrk)
        wait_idle(pid)
        run_booking(server, work.data, bookable[:BOOKING_WARMUP], folder, warm)
        wait_idle(pid)
        before = tree_cpu(pid)
        booked = run_booking(server, work.data, bookable[BOOKING_WARMUP:], folder, wrk)
        run.measures["booking"] = to_measure("book distinct slots: POST /v1/appointments", booked,
                                             args.connections, "201", tree_cpu(pid) - before)
        wait_idle(pid)
        run.rss_hwm_kib = process_hwm(pid)
        if server.process.poll() is not None:
            raise RuntimeError(f"server died:\n{server.log()[-3000:]}")
        kill_tree(server)
    for measure in run.measures.values():
        print(f"{label} {measure.name}: {measure.rps:,.0f} req/s, p50 {measure.p50_ms:.2f} ms, "
              f"p99 {measure.p99_ms:.2f} ms, {measure.statuses}", flush=True)
    print(f"{label} VmHWM: {run.rss_hwm_kib}; start-up {run.startup_seconds} s, "
          f"all {time.monotonic() - started:.0f} s", flush=True)
    return run


@contextmanager
def serving(handle: DatabaseHandle, folder: Path, processes: int) -> Iterator[RunningServer]:
    """``creneau serve`` with ``processes`` workers, given up to ``STARTUP_SECONDS`` to answer.

    uvicorn's supervisor kills a worker that does not answer its health ping within 5 s and starts
    another: on a loaded machine a worker can take longer than that to start, several times over.
    """
    with start_server(handle, folder, admin_key=new_key(), workers=processes, extra_env=SERVER_ENV,
                      startup_seconds=STARTUP_SECONDS) as server:
        yield server


def workers(pid: int) -> list[int]:
    """The server's worker processes: itself with 1 worker, else the children uvicorn spawned."""
    found = [member for member in tree(pid)[1:] if b"spawn_main" in _cmdline(member)]
    return found or [pid]


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _cpu(pid: int) -> float:
    """CPU seconds of a process, or -1 once it is gone."""
    try:
        return cpu_seconds(pid)
    except OSError:
        return -1.0


def wait_workers(server: RunningServer, processes: int, warm: dict[str, Any], timeout: float = 120.0) -> None:
    """Warm up with ``GET /health/live`` until every worker is up and served part of a warm-up."""
    deadline = time.monotonic() + timeout
    while True:
        before = {member: _cpu(member) for member in workers(server.process.pid)}
        run_wrk(server.base_url + "/health/live", **warm)
        after = workers(server.process.pid)
        if len(after) == processes and set(after) == set(before) and all(
            _cpu(member) - before[member] > 0.05 for member in after
        ):
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"not every worker serves after {timeout:.0f} s:\n{server.log()[-3000:]}")
        time.sleep(1)


def single(folder: Path, work: Workload) -> Path:
    """A paths file holding only the feed's path (so that the 304s are counted)."""
    path = folder / "feed-path.txt"
    path.write_text(work.feed_path + "\n")
    return path


def feed_etag(server: RunningServer, path: str) -> str:
    """The feed's current ETag; checks that asking with it answers 304."""
    with server.client(timeout=60) as client:
        etag = client.get(path).raise_for_status().headers["etag"]
        answer = client.get(path, headers={"If-None-Match": etag})
        if answer.status_code != 304:
            raise RuntimeError(f"the feed does not answer 304 to its own ETag: {answer.status_code}")
    return str(etag)


def process_hwm(pid: int) -> dict[str, int]:
    """VmHWM (KiB) of the server's processes: with 2 workers the supervisor, the workers, and
    multiprocessing's resource tracker."""
    found = {}
    serving_pids = workers(pid)
    for member in tree(pid):
        role = "worker" if member in serving_pids else "supervisor" if member == pid else "tracker"
        try:
            found[f"{role} {member}"] = proc_status_kib(member, "VmHWM")
        except OSError:
            continue
    return found


def prepare(server: RunningServer, handle: DatabaseHandle, args: argparse.Namespace) -> Workload:
    """Seed the slots, booking and feed data through the running server (and the feed's rows directly)."""
    with server.client(timeout=120) as client:
        data = build(client, bookings=args.bookings, booking_staff=args.booking_staff)
        staff = created(client.post("/v1/staff", json={"name": unique("bench-feed"), "role": "psychologist"}))
        feeds.seed(handle.url, staff["id"], data.site_id, data.service_id, FEED_EVENTS)
        feed_url = created(client.post(f"/v1/staff/{staff['id']}/feeds", json={"privacy": "full"}))["url"]
        day_paths = [day_path(data, day) for day in weekdays(data.first, data.last)]
        for path in day_paths:  # each day answers, and the busy staff member has free slots on most
            client.get(path).raise_for_status()
    shares = len(PROCESSES)
    bookable = [data.bookable[index::shares] for index in range(shares)]
    return Workload(data, day_paths, urlsplit(feed_url).path, bookable)


def weekdays(first: date, last: date) -> list[date]:
    """The days between ``first`` and ``last`` on which the busy staff member's rules open."""
    return sorted({date.fromisoformat(start[:10]) for start in local_starts(first, last)})


def day_path(data: Dataset, day: date) -> str:
    """GET /v1/slots for the busy staff member on one day."""
    return (f"/v1/slots?service_id={data.service_id}&staff_id={data.busy_staff_id}"
            f"&from={day.isoformat()}&to={day.isoformat()}&limit=100")


def measure_database(kind: str, args: argparse.Namespace) -> DatabaseRun:
    """Seed a fresh database of ``kind``, then measure each server configuration on it."""
    started = time.monotonic()
    with demo_database(kind, "targets") as (handle, folder):
        with start_server(handle, folder, admin_key=new_key(), extra_env=SERVER_ENV,
                          startup_seconds=STARTUP_SECONDS) as server:
            work = prepare(server, handle, args)
        data = work.data
        dataset = {"busy_bookings": data.busy_bookings, "busy_free_slots": data.busy_free_slots,
                   "days": len(work.day_paths), "from": data.first.isoformat(), "to": data.last.isoformat(),
                   "bookable": len(data.bookable), "booking_staff": len(data.booking_staff),
                   "seed_seconds": round(time.monotonic() - started, 1)}
        print(f"[{kind}] seeded: {dataset}", flush=True)
        result = DatabaseRun(kind, dataset, load_before=load_average())
        for processes, bookable in zip(PROCESSES, work.bookable, strict=True):
            try:
                result.runs.append(measure_server(handle, folder, work, processes, bookable, args))
            except RuntimeError as error:  # the other configuration may still be measured
                reason = str(error).splitlines()[0].rstrip(":")
                if processes > 1 and "not healthy" in reason:
                    reason += (" (uvicorn's supervisor kills a worker that does not answer its ping within"
                               f" 5 s and starts another; load average {load_average()})")
                print(f"[{kind} ×{processes}] not measured: {reason}", file=sys.stderr, flush=True)
                result.failures.append(f"{processes} processes: {reason}")
        result.load_after = load_average()
    return result


# ---------------------------------------------------------------- verdicts (no I/O)


def verdict(met: bool) -> str:
    """The word of the verdict column."""
    return "**met**" if met else "**missed**"


def megabytes(kib: int) -> str:
    """KiB as decimal megabytes (the target's unit) with MiB beside."""
    return f"{kib * 1024 / 1e6:.0f} MB ({kib / 1024:.0f} MiB)"


def throughput_row(label: str, measure: Measure, ceiling: Measure, share: float) -> Row:
    """Answers per second of the expected status, as a share of the ceiling's req/s."""
    ratio = measure.good_rps / ceiling.good_rps
    return Row(f"{label} ≥ {share:g} × ceiling",
               f"{fmt_rps(measure.good_rps)} req/s (ceiling {fmt_rps(ceiling.good_rps)})",
               f"{ratio:.3f}", verdict(ratio >= share))


def latency_row(label: str, measure: Measure, ceiling: Measure, limit_ms: float) -> Row:
    """p99 against an absolute limit, with the ceiling's p99 for scale."""
    return Row(f"{label} p99 ≤ {limit_ms:g} ms",
               f"p99 {fmt_ms(measure.p99_ms)} (p50 {fmt_ms(measure.p50_ms)})",
               f"p99 {measure.p99_ms / ceiling.p99_ms:.1f} × ceiling's", verdict(measure.p99_ms <= limit_ms))


def feed_row(measure: Measure, ceiling: Measure) -> Row:
    """The 304's median against the target (the target of issue 7 was a median); p99 beside it."""
    met = measure.p50_ms <= FEED_304_MS
    tail = "" if not met else " (p99 too)" if measure.p99_ms <= FEED_304_MS else " at p50; p99 over"
    if measure.unexpected:
        met, tail = False, f": {measure.unexpected} answers were not 304"
    return Row(f"feed 304 ≤ {FEED_304_MS:g} ms (1 connection)",
               f"p50 {fmt_ms(measure.p50_ms)}, p99 {fmt_ms(measure.p99_ms)}",
               f"p50 {measure.p50_ms / ceiling.p50_ms:.1f} × `/health/live`'s", verdict(met) + tail)


def memory_row(runs: list[ServerRun]) -> Row:
    """The largest VmHWM of any server process, in every configuration."""
    parts, largest = [], 0
    for run in runs:
        largest = max([largest, *run.rss_hwm_kib.values()])
        by_role: dict[str, list[int]] = {}
        for name, kib in run.rss_hwm_kib.items():
            by_role.setdefault(name.split()[0], []).append(kib)
        roles = ", ".join(f"{role}{'s' if len(values) > 1 else ''} "
                          + " / ".join(f"{kib * 1024 / 1e6:.0f}" for kib in sorted(values, reverse=True))
                          for role, values in sorted(by_role.items(), key=lambda item: -max(item[1])))
        parts.append(f"{run.processes} process{'es' if run.processes > 1 else ''}: {roles} "
                     f"(largest worker after start-up {run.rss_start_kib * 1024 / 1e6:.0f})")
    return Row(f"peak RSS per server process ≤ {RSS_BYTES / 1e6:.0f} MB",
               f"largest {megabytes(largest)}; MB by process, " + "; ".join(parts), "–",
               verdict(largest * 1024 <= RSS_BYTES))


def scaling_row(label: str, key: str, one: ServerRun, two: ServerRun) -> Row:
    """Throughput with 2 processes over throughput with 1 (no target: reported)."""
    low, high = one.measures[key].good_rps, two.measures[key].good_rps
    return Row(f"scaling: {label}, 1 → 2 processes", f"{fmt_rps(low)} → {fmt_rps(high)} req/s",
               f"× {high / low:.2f}" if low else "–", "no target")


def rows(result: DatabaseRun) -> list[Row]:
    """The verdict table of one database."""
    two, one = result.run(2), result.run(1)
    found: list[Row] = []
    if two is not None:
        ceiling, slots, booking = (two.measures[key] for key in ("ceiling", "slots", "booking"))
        found += [throughput_row("uncached slots, 1 staff, 1 day:", slots, ceiling, SLOTS_SHARE),
                  latency_row("uncached slots", slots, ceiling, SLOTS_P99_MS),
                  throughput_row("booking distinct slots:", booking, ceiling, BOOKING_SHARE),
                  latency_row("booking", booking, ceiling, BOOKING_P99_MS)]
        if "feed_304" in two.measures:
            found.append(feed_row(two.measures["feed_304"], two.measures["ceiling_1"]))
    if result.runs:
        found.append(memory_row(result.runs))
    if one is not None and two is not None:
        found += [scaling_row("`/health/live` (the ceiling)", "ceiling", one, two),
                  scaling_row("uncached slots", "slots", one, two),
                  scaling_row("booking", "booking", one, two)]
    return found


# ---------------------------------------------------------------- report


def verdict_table(result: DatabaseRun) -> str:
    """Targets, figures and verdicts."""
    lines = ["| target (2 processes, 64 connections unless said) | measured | × ceiling | verdict |",
             "| --- | --- | ---: | --- |"]
    lines += [f"| {row.target} | {row.measured} | {row.ratio} | {row.verdict} |" for row in rows(result)]
    return "\n".join(lines)


def detail_table(result: DatabaseRun) -> str:
    """Every wrk run, with its server's CPU and the answers by status."""
    header = "| processes | measure | conn. | requests | req/s | × ceiling | p50 | p99 | server CPU |"
    lines = [header + " answers |", "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
    for run in result.runs:
        ceiling = run.measures["ceiling"]
        for measure in run.measures.values():
            loaded = measure.connections == ceiling.connections  # the 1-connection runs have their own
            ratio = f"{measure.good_rps / ceiling.good_rps:.3f}" if loaded else "–"
            cores = measure.cpu_seconds / measure.seconds if measure.seconds else 0.0
            per_request = 1000 * measure.cpu_seconds / measure.requests if measure.requests else 0.0
            answers = ", ".join(f"{status}: {count:,}" for status, count in sorted(measure.statuses.items()))
            if measure.socket_errors:
                answers += f"; socket errors: {measure.socket_errors}"
            lines.append(f"| {run.processes} | {measure.name} | {measure.connections} | {measure.requests:,} "
                         f"| {fmt_rps(measure.rps)} | {ratio} | {fmt_ms(measure.p50_ms)} "
                         f"| {fmt_ms(measure.p99_ms)} | {cores:.2f} core, {fmt_ms(per_request)}/req "
                         f"| {answers} |")
    return "\n".join(lines)


def how_to_read(connections: int) -> str:
    """The paragraph that says what the tables mean."""
    slots_rps, booking_rps = connections * 1000 / SLOTS_P99_MS, connections * 1000 / BOOKING_P99_MS
    return (
        "**How to read.** One row per target of issue 21; *met* or *missed* is this run's figure against "
        "the target. Throughput targets are fractions of the ceiling, `GET /health/live` (no database) on "
        "the same server a minute earlier, so a slower or busier machine moves both and the ratio stays "
        "comparable across runs and machines; the latency and memory targets are absolute, so they also "
        "depend on the machine and on its load. wrk, the server and PostgreSQL share this machine's cores: "
        "a load average well above the core count before or after the run means other work took cores, "
        "and the latencies (not so much the ratios) of that run are not to be trusted: run it again. "
        "Throughput counts only answers with the expected status (200, 201, 304); any other answer is "
        f"listed under *answers* in the detail table. With {connections} connections kept busy the mean "
        f"latency is {connections} ÷ throughput (Little's law): a p99 ≤ {SLOTS_P99_MS:g} ms needs at least "
        f"{slots_rps:,.0f} slot answers/s, and a booking p99 ≤ {BOOKING_P99_MS:g} ms at least "
        f"{booking_rps:,.0f} bookings/s, so each latency target is also a throughput target. *Scaling* is "
        "the throughput with 2 processes over the throughput with 1, each measured the same way; the "
        "ceiling's own scaling shows what a second process can give on this machine at all (with 2 "
        "cores shared with wrk, well under × 2)."
    )


def method_text(args: argparse.Namespace) -> str:
    """How the figures were made."""
    return (
        "**Method.** Per database, a fresh one, migrated, with the demo town, a *busy* staff member "
        "(weekday rules 09:00-17:00, 30-minute slots, "
        f"{args.bookings} random bookings over 8 weeks) and {args.booking_staff} more staff members with the "
        f"same rules (their year of free slots, shuffled, is what the booking run books: `bench/seed.py`, as "
        f"in the core section), and a staff member with {FEED_EVENTS:,} appointments written straight "
        "into the database (`bench/feeds.py`) and a calendar feed (privacy `full`). Then a real `creneau "
        "serve` (uvicorn, access log off) with **2 worker processes** (`CRENEAU_WORKERS=2`), and after it "
        "one with 1, each on that database. Two workers of one `creneau serve` is what an operator runs on "
        "one machine: one command and one port, the kernel spreads connections over both processes, "
        "uvicorn restarts a worker that dies, and it works on SQLite too (several replicas behind a proxy "
        "need PostgreSQL, and the proxy would take cores from the 2 the processes share). Server settings: "
        "`CRENEAU_SLOTS_CACHE_SECONDS=0` (no slot page cache), `CRENEAU_QUIET_HOURS=` (the SMS of the "
        "bookings are sent during the run whatever its hour, as in the daytime), dispatcher every 5 s. "
        f"wrk {args.threads} threads, {args.connections} connections, `--latency`, {args.duration:g} s per "
        f"measure after a {args.warmup:g} s unmeasured warm-up of the same kind; each measure starts once "
        "the server is idle again. **Slots:** each request asks for one day of the busy staff member "
        "(`from` = `to`), the next weekday of the 8 weeks each time (`bench/wrk/paths.lua`), so even a "
        "cache of pages could not answer it. **Booking:** `bench/wrk/book.lua`, a distinct free slot per "
        "request, the family with SMS consent (so each booking also writes its SMS, which the "
        "dispatchers send to the console backend during the run). **Feed 304:** one connection, "
        "`If-None-Match` with the feed's current ETag, against `GET /health/live` on one connection "
        f"({args.sequential:g} s each). **Memory:** `VmHWM` (peak resident set) of each server "
        "process (uvicorn's supervisor and its workers) at the end of its server's run; 200 MB is "
        "200 × 10⁶ bytes. Server CPU: user + system time of all the server's processes during the "
        "measure. wrk's percentiles leave out requests that timed out (10 s), listed as socket errors."
    )


def dataset_text(result: DatabaseRun) -> str:
    """The dataset and load line of a database."""
    d = result.dataset
    return (
        f"Dataset: busy staff member with {d['busy_bookings']} bookings, {d['busy_free_slots']} free slots "
        f"on {d['days']} days from {d['from']} to {d['to']}; {d['bookable']:,} bookable slots of "
        f"{d['booking_staff']} staff members; created and seeded in {d['seed_seconds']} s. Load average "
        f"(1/5/15 min) before the measures {result.load_before}, after {result.load_after}."
    )


def section(results: list[DatabaseRun], info: dict[str, str], args: argparse.Namespace, command: str) -> str:
    """The regenerated targets section of BENCHMARKS.md."""
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    title = "## Targets of issue 21: 2 server processes, ratios to the ceiling (`bench/targets.py`)"
    parts = [START_MARK, title, "", f"Generated by `{command}` on {when}; do not edit between the markers.",
             "", how_to_read(args.connections), "", method_text(args), "", machine_text(info), ""]
    for result in results:
        kind = "SQLite (file, WAL)" if result.kind == "sqlite" else "PostgreSQL (asyncpg)"
        startup = ", ".join(f"{run.processes} process{'es' if run.processes > 1 else ''} "
                            f"{run.startup_seconds:g} s" for run in result.runs)
        missing = [f"**Not measured:** {failure}\n" for failure in result.failures]
        parts += [f"### {kind}", "", dataset_text(result), "", *missing, verdict_table(result), "",
                  f"Every measure (start-up, until every worker served part of a warm-up: {startup}):", "",
                  detail_table(result), ""]
    parts.append(END_MARK)
    return "\n".join(parts)


# ---------------------------------------------------------------- main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options; the defaults are the documented run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--databases", default="sqlite,postgresql", help="comma-separated: sqlite,postgresql")
    parser.add_argument("--duration", type=float, default=8.0, help="seconds per measured wrk run")
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds of unmeasured warm-up")
    parser.add_argument("--sequential", type=float, default=4.0, help="seconds of each 1-connection run")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--bookings", type=int, default=250, help="bookings of the busy staff member")
    parser.add_argument("--booking-staff", type=int, default=8, help="staff members whose slots are booked")
    parser.add_argument("--no-report", action="store_true", help="do not rewrite BENCHMARKS.md")
    args, _unknown = parser.parse_known_args(argv)  # bench/run passes every part's options
    return args


def main(argv: list[str] | None = None) -> int:
    """Every database, then the JSON figures and the report section."""
    args = parse_args(argv)
    if shutil.which("wrk") is None:
        print("wrk is not installed (apt-get install -y wrk, or use bench/run)", file=sys.stderr)
        return 2
    if "slots_cache_seconds" not in Settings.model_fields:  # the uncached figure would be a cached one
        print("CRENEAU_SLOTS_CACHE_SECONDS is gone: turn the slot cache off in SERVER_ENV", file=sys.stderr)
        return 2
    os.chdir(ROOT)
    kinds = database_kinds(args.databases)
    started = time.monotonic()
    info = machine()
    results = [measure_database(kind, args) for kind in kinds]
    failed = [f"{result.kind}, {failure}" for result in results for failure in result.failures]
    command = ("bench/run --only targets " + " ".join(argv if argv is not None else sys.argv[1:])).strip()
    text = section(results, info, args, command)
    print(f"raw figures: {save_json(results, info, 'targets').relative_to(ROOT)}")
    if not args.no_report and not failed:
        write_report(text, REPORT, (START_MARK, END_MARK))
        print(f"updated {REPORT.relative_to(ROOT)}")
    print(text)
    print(f"\ntargets total {time.monotonic() - started:.0f}s")
    if failed:  # an incomplete run does not replace the last complete one
        print("not measured, so BENCHMARKS.md was left alone:\n" + "\n".join(failed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
