"""Core HTTP benchmarks: ceiling, 8-week free slots, booking, on SQLite and PostgreSQL.

Run from the repository root: ``.venv/bin/python bench/run.py`` (or ``bench/run``). For each
database it starts a real ``creneau serve`` process, seeds the demo town plus a busy staff
member, measures with wrk, and rewrites its own section of BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx

from bench.seed import Dataset, build, fill_demo
from bench.wrkrun import WrkResult, run_wrk
from scheduler.api.auth import new_key
from tests.support.databases import DatabaseHandle, postgres_available, sqlite_database, temporary_postgres
from tests.support.server import RunningServer, start_server

BENCH = ROOT / "bench"
RESULTS = BENCH / "results"
LUA_BOOK = BENCH / "wrk" / "book.lua"
REPORT = ROOT / "BENCHMARKS.md"
START_MARK, END_MARK = "<!-- bench:core:start -->", "<!-- bench:core:end -->"
WARMUP_BOOKINGS = 20
# The production default (the test harness uses 1 s): the dispatcher runs as it would in production.
SERVER_ENV = {"CRENEAU_DISPATCH_INTERVAL_SECONDS": "5"}
REPORT_HEADER = """# Benchmarks

Each benchmark owns a section between `<!-- bench:NAME:start -->` and `<!-- bench:NAME:end -->`
markers and rewrites only that section; text outside the markers is written by hand.
"""


@dataclass
class PhaseResult:
    """One measured endpoint, with its ratios to the same run's ceiling."""

    name: str
    wrk: WrkResult
    rss_hwm_kib: int
    cpu_seconds: float
    note: str = ""


@dataclass
class DatabaseResult:
    """Everything measured on one database."""

    kind: str
    dataset: dict[str, object]
    phases: list[PhaseResult] = field(default_factory=list)
    rss_start_kib: int = 0
    load_before: str = ""
    load_after: str = ""
    profiles: list[str] = field(default_factory=list)


# ---------------------------------------------------------------- options and machine


def alternate_trees(
    script: str, old: Path, rounds: int, child_args: list[str]
) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """Run ``script --child TREE --database KIND *child_args`` for the old tree and this one in turn,
    ``rounds`` times on each database; each child prints its figures as JSON on its last line.

    Old and new alternate in one run, so the machine's noise falls on both alike.
    """
    results: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for kind in ("sqlite", "postgresql"):
        for _ in range(rounds):
            for name, code in (("before", old), ("after", ROOT)):
                output = subprocess.run(
                    [sys.executable, script, "--child", str(code), "--database", kind, *child_args],
                    check=True, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(code)},
                ).stdout
                results.setdefault((kind, name), []).append(json.loads(output.strip().splitlines()[-1]))
    return results


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options; the defaults are the documented run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--databases", default="sqlite,postgresql", help="comma-separated: sqlite,postgresql")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per measured wrk run")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of unmeasured wrk warm-up per GET")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--bookings", type=int, default=250, help="existing bookings of the busy staff member"
    )
    parser.add_argument("--booking-staff", type=int, default=12,
                        help="staff members whose year of free 30-minute slots the booking run walks")
    parser.add_argument("--profile", action="store_true", help="also record py-spy profiles (extra runs)")
    parser.add_argument("--no-report", action="store_true", help="do not rewrite BENCHMARKS.md")
    args, _unknown = parser.parse_known_args(argv)  # bench/run passes the scale options too
    return args


def machine() -> dict[str, str]:
    """Cores, CPU model, RAM, OS and Python of this machine."""
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem_kib = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))  # type: ignore[union-attr]
    wrk_version = "not installed"
    if shutil.which("wrk"):
        wrk = subprocess.run(["wrk", "--version"], capture_output=True, text=True, check=False)
        wrk_version = (wrk.stdout or wrk.stderr).split("[")[0].strip()
    return {
        "code": code_version(),
        "nproc": str(os.cpu_count()),
        "cpu": cpu,
        "ram": f"{mem_kib / 1024 / 1024:.1f} GiB",
        "os": platform.platform(),
        "python": platform.python_version(),
        "wrk": wrk_version,
    }


def code_version() -> str:
    """The commit measured, flagged when the working tree had uncommitted changes (read-only git)."""
    head = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False, cwd=ROOT
    )
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    commit = head.stdout.strip() or "unknown"
    return f"{commit} + uncommitted changes" if dirty.stdout.strip() else commit


def load_average() -> str:
    """The 1/5/15-minute load averages: other work on this shared machine shows up here."""
    return " / ".join(f"{value:.1f}" for value in os.getloadavg())


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_idle(pid: int, *, busy_share: float = 0.15, step: float = 0.5, timeout: float = 45.0) -> float:
    """Wait until the server stops working on requests wrk gave up on; the seconds waited.

    uvicorn finishes a request even after its client left, so a saturated endpoint leaves a
    queue behind that would otherwise be measured as part of the next endpoint.
    """
    started = time.monotonic()
    before = cpu_seconds(pid)
    while time.monotonic() - started < timeout:
        time.sleep(step)
        after = cpu_seconds(pid)
        if after - before < busy_share * step:
            break
        before = after
    return time.monotonic() - started


def proc_status_kib(pid: int, field_name: str) -> int:
    """A ``/proc/<pid>/status`` memory field in KiB (VmHWM is the peak resident set)."""
    match = re.search(rf"^{field_name}:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text(), re.MULTILINE)
    return int(match.group(1)) if match else 0


# ---------------------------------------------------------------- one database


@contextmanager
def database(kind: str, folder: Path) -> Iterator[DatabaseHandle]:
    """A fresh migrated database of ``kind``."""
    if kind == "sqlite":
        yield sqlite_database(folder)
    elif kind == "postgresql":
        with temporary_postgres() as handle:
            yield handle
    else:
        raise ValueError(f"unknown database {kind!r}")


@contextmanager
def demo_database(kind: str, name: str) -> Iterator[tuple[DatabaseHandle, Path]]:
    """A fresh migrated database of ``kind`` holding the demo town, and a temporary folder beside it."""
    with (
        tempfile.TemporaryDirectory(prefix=f"creneau-{name}-{kind}-") as tmp,
        database(kind, Path(tmp)) as handle,
    ):
        fill_demo(handle.url)
        yield handle, Path(tmp)


def measure_database(kind: str, args: argparse.Namespace) -> DatabaseResult:
    """Seed a fresh database of ``kind`` and measure the three endpoints on a real server."""
    started = time.monotonic()
    with (
        demo_database(kind, "bench") as (handle, folder),
        start_server(handle, folder, admin_key=new_key(), extra_env=SERVER_ENV) as server,
    ):
        rss_start = proc_status_kib(server.process.pid, "VmRSS")
        with server.client(timeout=60) as client:
            data = build(client, bookings=args.bookings, booking_staff=args.booking_staff)
            check_slots(client, data)
        print(f"[{kind}] seeded in {time.monotonic() - started:.1f}s: {data.busy_bookings} bookings, "
              f"{data.busy_free_slots} free slots, {len(data.bookable)} bookable slots", flush=True)
        result = DatabaseResult(
            kind, dataset_summary(data), rss_start_kib=rss_start, load_before=load_average()
        )
        measured, spare = split_bookable(data.bookable, args)
        run_phases(server, data, measured, folder, args, result)
        result.load_after = load_average()
        if args.profile:
            result.profiles = profile_phases(server, data, spare, folder, args)
        _server_healthy(server)
    return result


def check_slots(client: httpx.Client, data: Dataset) -> None:
    """The slots URL answers 200 with the whole 8 weeks in one page."""
    response = client.get(slots_path(data))
    response.raise_for_status()
    body = response.json()
    if body["next_cursor"] is not None or len(body["items"]) != data.busy_free_slots:
        raise RuntimeError(
            f"slots page not complete: {len(body['items'])} items, cursor {body['next_cursor']}"
        )


def slots_path(data: Dataset) -> str:
    """GET /v1/slots for the busy staff member over 8 weeks, in one page (limit 500)."""
    return (f"/v1/slots?service_id={data.service_id}&staff_id={data.busy_staff_id}"
            f"&from={data.first.isoformat()}&to={data.last.isoformat()}&limit=500")


def dataset_summary(data: Dataset) -> dict[str, object]:
    """The dataset's figures, for the report."""
    return {"busy_bookings": data.busy_bookings, "busy_free_slots": data.busy_free_slots,
            "bookable": len(data.bookable), "booking_staff": len(data.booking_staff),
            "from": data.first.isoformat(), "to": data.last.isoformat()}


Slots = list[tuple[str, str]]


def split_bookable(slots: Slots, args: argparse.Namespace) -> tuple[Slots, Slots]:
    """Slots for the measured booking run, and the rest (warm-up first, then profiling)."""
    spare_count = len(slots) // 3 if args.profile else WARMUP_BOOKINGS
    return slots[spare_count:], slots[:spare_count]


def run_phases(
    server: RunningServer, data: Dataset, bookable: Slots, folder: Path, args: argparse.Namespace,
    result: DatabaseResult,
) -> None:
    """Ceiling, slots, booking: each warmed up, then measured with the same wrk settings."""
    pid = server.process.pid
    auth = {"Authorization": f"Bearer {server.admin_key}"}
    wrk_opts = {"seconds": args.duration, "connections": args.connections, "threads": args.threads}
    warm = {**wrk_opts, "seconds": args.warmup}
    for name, url, headers in (
        ("ceiling: GET /health/live", server.base_url + "/health/live", None),
        ("free slots, 1 staff, 8 weeks", server.base_url + slots_path(data), auth),
    ):
        run_wrk(url, headers=headers, **warm)
        wait_idle(pid)
        cpu = cpu_seconds(pid)
        measured = run_wrk(url, headers=headers, **wrk_opts)
        cpu = cpu_seconds(pid) - cpu
        wait_idle(pid)
        result.phases.append(
            PhaseResult(name, measured, proc_status_kib(pid, "VmHWM"), cpu, _errors_note(measured))
        )
        print(f"[{result.kind}] {name}: {measured.rps:.0f} req/s, p50 {measured.p50_ms:.2f} ms, "
              f"p99 {measured.p99_ms:.2f} ms", flush=True)
    warm_bookings(server, data)
    wait_idle(pid)
    cpu = cpu_seconds(pid)
    booked = run_booking(server, data, bookable, folder, wrk_opts)
    cpu = cpu_seconds(pid) - cpu
    wait_idle(pid)
    result.phases.append(
        PhaseResult(
            "book: POST /v1/appointments", booked, proc_status_kib(pid, "VmHWM"), cpu, _booking_note(booked)
        )
    )
    print(f"[{result.kind}] booking: {booked.rps:.0f} req/s, p50 {booked.p50_ms:.2f} ms, "
          f"p99 {booked.p99_ms:.2f} ms, {booked.statuses}", flush=True)


def warm_bookings(server: RunningServer, data: Dataset) -> None:
    """A few sequential bookings, so the measured run starts with warm code paths."""
    with server.client() as client:
        for index, (staff_id, start) in enumerate(data.bookable[:WARMUP_BOOKINGS]):
            response = client.post(
                "/v1/appointments", json=booking_body(data, staff_id, start, f"WARM-{index}")
            )
            if response.status_code != 201:
                raise RuntimeError(f"warm-up booking refused: {response.status_code} {response.text[:300]}")


def booking_body(data: Dataset, staff_id: str, start: str, reference: str) -> dict[str, object]:
    """The same body the Lua script sends."""
    return {
        "service_id": data.service_id,
        "staff_id": staff_id,
        "start": start,
        "family": {"reference": reference, "phone": "06 12 34 56 78", "language": "fr", "sms_consent": True},
    }


def run_booking(
    server: RunningServer, data: Dataset, bookable: Slots, folder: Path, wrk_opts: dict[str, float | int],
) -> WrkResult:
    """wrk with the Lua script walking ``bookable``, one distinct slot per request."""
    slots_file = folder / f"bookable-{time.monotonic_ns()}.txt"
    slots_file.write_text("".join(f"{staff} {start}\n" for staff, start in bookable))
    return run_wrk(
        server.base_url + "/v1/appointments", script=LUA_BOOK,
        script_args=[str(slots_file), server.admin_key, data.service_id, str(wrk_opts["threads"])],
        **wrk_opts,  # type: ignore[arg-type]
    )


def _errors_note(result: WrkResult) -> str:
    parts = []
    if result.non_2xx:
        parts.append(f"{result.non_2xx} non-2xx")
    if result.socket_errors:
        parts.append(f"socket errors: {result.socket_errors}")
    return "; ".join(parts)


def _booking_note(result: WrkResult) -> str:
    statuses = result.statuses
    note = f"201: {statuses.get('201', 0)}, 409: {statuses.get('409', 0)}, other: {statuses.get('other', 0)}"
    return "; ".join(filter(None, [note, f"{result.seconds:.1f} s",
                                   f"socket errors: {result.socket_errors}" if result.socket_errors else ""]))


def _server_healthy(server: RunningServer) -> None:
    if server.process.poll() is not None:
        raise RuntimeError(f"server died during the benchmark:\n{server.log()[-4000:]}")


# ---------------------------------------------------------------- profiling


def profile_phases(
    server: RunningServer, data: Dataset, spare: Slots, folder: Path, args: argparse.Namespace
) -> list[str]:
    """Extra runs under py-spy (not the measured ones): a flame graph and collapsed stacks each."""
    py_spy = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or shutil.which("py-spy")
    if py_spy is None:
        print("py-spy not installed: .venv/bin/pip install py-spy", file=sys.stderr)
        return []
    auth = {"Authorization": f"Bearer {server.admin_key}"}
    seconds = 6
    wrk_opts = {"seconds": seconds, "connections": args.connections, "threads": args.threads}
    half = len(spare) // 2
    written = []
    kind = server.database.kind
    for fmt, suffix in (("flamegraph", "svg"), ("raw", "txt")):
        for phase in ("slots", "booking"):
            out = RESULTS / f"profile-{kind}-{phase}.{suffix}"
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
                    fmt,
                    "-o",
                    str(out),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            if phase == "slots":
                run_wrk(server.base_url + slots_path(data), headers=auth, **wrk_opts)
            else:
                part = (
                    spare[WARMUP_BOOKINGS:][:half] if fmt == "flamegraph" else spare[WARMUP_BOOKINGS:][half:]
                )
                run_booking(server, data, part, folder, wrk_opts)
            spy.wait(timeout=60)
            wait_idle(server.process.pid)
            written.append(str(out.relative_to(ROOT)))
    return written


# ---------------------------------------------------------------- report


def fmt_rps(value: float) -> str:
    """Requests per second, rounded."""
    return f"{value:,.0f}"


def fmt_ms(value: float) -> str:
    """Milliseconds with sensible precision."""
    return f"{value:.2f} ms" if value < 10 else f"{value:.1f} ms" if value < 100 else f"{value:,.0f} ms"


def cpu_text(phase: PhaseResult) -> str:
    """Server CPU during the run: cores used on average, and CPU time per completed request."""
    w = phase.wrk
    per_request = 1000 * phase.cpu_seconds / w.requests if w.requests else 0.0
    return f"{phase.cpu_seconds / w.seconds:.2f} core, {fmt_ms(per_request)}/req"


def table(result: DatabaseResult) -> str:
    """The Markdown table of one database, with ratios to its ceiling."""
    ceiling = result.phases[0].wrk
    lines = [
        "| measure | req/s | × ceiling | p50 | × ceiling | p99 | × ceiling | server CPU | peak RSS | notes |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for phase in result.phases:
        w = phase.wrk
        lines.append(
            f"| {phase.name} | {fmt_rps(w.rps)} | {w.rps / ceiling.rps:.3f} | {fmt_ms(w.p50_ms)} | "
            f"{w.p50_ms / ceiling.p50_ms:.1f} | {fmt_ms(w.p99_ms)} | {w.p99_ms / ceiling.p99_ms:.1f} | "
            f"{cpu_text(phase)} | {phase.rss_hwm_kib / 1024:.0f} MiB | {phase.note} |"
        )
    return "\n".join(lines)


def method_text(args: argparse.Namespace) -> str:
    """How the figures were made, for the report."""
    return (
        "**Method.** For each database a fresh one is created and migrated, the demo town "
        "(`scheduler.demo.fill_if_empty`) is written into it, and a real `creneau serve` process "
        "(1 worker, uvicorn, access log off) is started on loopback. Through the API a *busy* staff member "
        "gets a rule every weekday 09:00-17:00 with 30-minute slots and "
        f"{args.bookings} random bookings over the next 8 weeks. For booking, "
        f"{args.booking_staff} more staff members get the same 30-minute weekday rules (same service), "
        "their free starts over a year (checked against the API) are shuffled, and `bench/wrk/book.lua` "
        "books a distinct one per request, naming the staff member, with SMS consent (409s counted apart "
        f"from 201s). wrk runs {args.threads} threads, {args.connections} connections, {args.duration:g} s "
        f"per measure with `--latency` (after a {args.warmup:g} s unmeasured warm-up for the GETs, "
        f"{WARMUP_BOOKINGS} bookings for the POST). The ceiling is `GET /health/live` (no database) "
        "measured in the same run; every figure is also given as a ratio to it (req/s: fraction of the "
        "ceiling's throughput; p50/p99: multiples of the ceiling's latency), since this machine is shared "
        "and noisy: compare ratios across runs, not absolute times. wrk runs on the same cores as the "
        "server. The slots request asks for the 8 weeks in one page (`limit=500`), with the slot page cache "
        "at its default (on, 2 s): wrk repeats one URL, so most answers are cached pages; the uncached "
        "search is measured in the scale section. Server CPU is the server process's user+system time "
        "during the run (from `/proc`), per second and per completed "
        "request: below 1 core on this 1-worker server means it waited (for the database, or for a core "
        "shared with wrk, PostgreSQL and other work on the machine). Peak RSS "
        "is the server process's `VmHWM` after each measure. The server finishes requests wrk gave up "
        "on, so each measure starts once the server is idle again."
    )


def machine_text(info: dict[str, str]) -> str:
    """The machine line of the report."""
    return (
        f"**Machine.** {info['nproc']} CPUs ({info['cpu']}), {info['ram']} RAM, {info['os']}, "
        f"Python {info['python']}, {info['wrk']}. Code: {info['code']}."
    )


def dataset_text(result: DatabaseResult) -> str:
    """The dataset and load line above a database's table."""
    data = result.dataset
    return (
        f"Dataset: demo town + busy staff member with {data['busy_bookings']} bookings and "
        f"{data['busy_free_slots']} free 30-minute slots from {data['from']} to {data['to']} "
        f"(one page of the slots response); {data['bookable']} distinct bookable slots over "
        f"{data['booking_staff']} staff members. Server RSS after start-up and seeding: "
        f"{result.rss_start_kib / 1024:.0f} MiB. Load average (1/5/15 min) before the measures "
        f"{result.load_before}, after {result.load_after} (other work on the machine shows here)."
    )


def section(
    results: list[DatabaseResult], info: dict[str, str], args: argparse.Namespace, command: str
) -> str:
    """The regenerated core section of BENCHMARKS.md."""
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    parts = [
        START_MARK,
        "## Core HTTP path: ceiling, free slots, booking",
        "",
        f"Generated by `{command}` on {when}; do not edit between the markers.",
        "",
        method_text(args),
        "",
        machine_text(info),
        "",
    ]
    for result in results:
        kind = "SQLite (file, WAL)" if result.kind == "sqlite" else "PostgreSQL (asyncpg)"
        parts += [f"### {kind}", "", dataset_text(result), "", table(result), ""]
        if result.profiles:
            profiles = ", ".join(f"`{path}`" for path in result.profiles)
            parts += [
                f"Profiles (extra runs, not the measured ones; local files, git-ignored): {profiles}",
                "",
            ]
    parts.append(END_MARK)
    return "\n".join(parts)


def write_report(text: str, path: Path = REPORT, marks: tuple[str, str] = (START_MARK, END_MARK)) -> None:
    """Replace the section between ``marks`` (the core one by default), creating the file if needed."""
    current = path.read_text() if path.exists() else REPORT_HEADER
    pattern = re.compile(re.escape(marks[0]) + r".*?" + re.escape(marks[1]), re.DOTALL)
    if pattern.search(current):
        updated = pattern.sub(lambda _match: text, current, count=1)
    else:
        updated = current.rstrip("\n") + "\n\n" + text + "\n"
    path.write_text(updated)


def save_json(results: Sequence[Any], info: dict[str, str], name: str = "core") -> Path:
    """Raw figures (dataclasses, with wrk's full output) in bench/results/NAME.json, to compare later."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"{name}.json"
    out.write_text(json.dumps({"machine": info, "when": datetime.now(UTC).isoformat(),
                               "results": [asdict(result) for result in results]}, indent=2))
    return out


# ---------------------------------------------------------------- main


def database_kinds(text: str) -> list[str]:
    """The comma-separated kinds asked for, without PostgreSQL when it does not answer (said on stderr)."""
    kinds = [kind.strip() for kind in text.split(",") if kind.strip()]
    if "postgresql" in kinds and not postgres_available():
        print("PostgreSQL is not reachable (CRENEAU_TEST_POSTGRES_URL): skipped", file=sys.stderr)
        kinds.remove("postgresql")
    return kinds


def main(argv: list[str] | None = None) -> int:
    """Run every database, then write the JSON figures and the report section."""
    args = parse_args(argv)
    if shutil.which("wrk") is None:
        print("wrk is not installed (apt-get install -y wrk, or use bench/run)", file=sys.stderr)
        return 2
    os.chdir(ROOT)
    RESULTS.mkdir(parents=True, exist_ok=True)
    kinds = database_kinds(args.databases)
    started = time.monotonic()
    info = machine()
    results = [measure_database(kind, args) for kind in kinds]
    command = "bench/run " + " ".join(argv if argv is not None else sys.argv[1:])
    text = section(results, info, args, command.strip())
    print(f"\nraw figures: {save_json(results, info).relative_to(ROOT)}")
    if not args.no_report:
        write_report(text)
        print(f"updated {REPORT.relative_to(ROOT)}")
    print(text)
    print(f"\ntotal {time.monotonic() - started:.0f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
