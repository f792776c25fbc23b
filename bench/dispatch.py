"""SMS dispatch throughput to the local fake Twilio: one process, and two on PostgreSQL.

Run from the repository root: ``.venv/bin/python bench/dispatch.py``. For each case it seeds
MESSAGES due messages straight into a fresh database, starts the dispatching server process(es)
with the real twilio client pointed at the fake, and times how long until every message is sent.
The same run also measures the fake itself (the same number of messages sent by the twilio client
from one process, no database): the ceiling each figure is a ratio to. Rewrites the
``bench:dispatch`` section of BENCHMARKS.md, or only prints it with ``--no-write``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select

from notifications.senders.base import OutgoingSms
from notifications.senders.twilio import TwilioSmsSender
from scheduler.db import outbox
from scheduler.db.engine import Database
from tests.fakes.fake_twilio import FakeTwilio
from tests.support import seed
from tests.support.databases import DatabaseHandle, sqlite_database, temporary_postgres
from tests.support.server import free_port

MESSAGES = 2000
CONCURRENT = 32
TIMEOUT_SECONDS = 300
REPORT = ROOT / "BENCHMARKS.md"
START_MARK, END_MARK = "<!-- bench:dispatch:start -->", "<!-- bench:dispatch:end -->"


@dataclass(frozen=True)
class Case:
    """One measured configuration."""

    database: str
    processes: int
    seconds: float
    sent: int
    duplicates: int
    first_send: float  # seconds from the processes' start to the fake's first message

    @property
    def rate(self) -> float:
        """Messages per second, start-up included."""
        return self.sent / self.seconds

    @property
    def steady_rate(self) -> float:
        """Messages per second once the first message went out (start-up excluded)."""
        return self.sent / max(1e-9, self.seconds - self.first_send)


async def _seed(url: str) -> None:
    db = Database.from_url(url)
    try:
        prog = await seed.programme(db)
        now = datetime.now(UTC)
        await seed.appointments_with_due_messages(db, prog, MESSAGES, now + timedelta(days=3), now)
    finally:
        await db.dispose()


async def _pending(db: Database) -> int:
    async with db.read() as session:
        statement = select(func.count()).select_from(outbox.TABLE).where(
            outbox.TABLE.c.status.in_((outbox.PENDING, outbox.SENDING)))
        return int((await session.execute(statement)).scalar_one())


async def _wait_until_sent(url: str, fake: FakeTwilio, started: float) -> tuple[float, float | None]:
    """Poll (one connection, every 50 ms) until nothing is due; the elapsed time and the first send's."""
    db = Database.from_url(url)
    first_send = None
    try:
        # Start-up (imports, first tick) is part of the time: it is what a restart costs.
        while await _pending(db) and time.monotonic() - started < TIMEOUT_SECONDS:
            if first_send is None and fake.messages:
                first_send = time.monotonic() - started
            await asyncio.sleep(0.05)
        return time.monotonic() - started, first_send
    finally:
        await db.dispose()


def _env(database: DatabaseHandle, fake: FakeTwilio) -> dict[str, str]:
    base = {key: value for key, value in os.environ.items() if not key.startswith(("CRENEAU_", "TWILIO_"))}
    return {**base, "CRENEAU_DATABASE_URL": database.url, "CRENEAU_SMS_BACKEND": "twilio",
            "TWILIO_ACCOUNT_SID": fake.account_sid, "TWILIO_AUTH_TOKEN": fake.auth_token,
            "CRENEAU_TWILIO_SENDER": "CRENEAU", "CRENEAU_TWILIO_API_BASE": fake.base_url,
            "CRENEAU_SECRET_KEY": "bench-" + "s" * 40, "CRENEAU_PUBLIC_URL": "http://127.0.0.1:8000",
            "CRENEAU_DISPATCH_INTERVAL_SECONDS": "0.2",
            "CRENEAU_SMS_RATE_PER_SECOND": "10000", "CRENEAU_QUIET_HOURS": "", "CRENEAU_LOG_LEVEL": "WARNING"}


def measure(database: DatabaseHandle, processes: int) -> Case:
    """Seed, start the dispatchers, and time until nothing is due."""
    asyncio.run(_seed(database.url))
    with FakeTwilio(separate_process=True) as fake:
        env = _env(database, fake)
        started = time.monotonic()
        running = [subprocess.Popen([sys.executable, "-m", "scheduler.cli", "serve", "--no-migrate"],
                                    env={**env, "CRENEAU_PORT": str(free_port())},
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                   for _ in range(processes)]
        try:
            elapsed, first_send = asyncio.run(_wait_until_sent(database.url, fake, started))
        finally:
            for process in running:
                process.terminate()
                process.wait(timeout=20)
        counts = Counter(fake.references())
    return Case(database.kind, processes, elapsed, len(counts), sum(n - 1 for n in counts.values()),
                elapsed if first_send is None else first_send)


async def _ceiling(fake: FakeTwilio) -> float:
    sender = TwilioSmsSender(fake.account_sid, fake.auth_token, "CRENEAU", api_base=fake.base_url)
    semaphore = asyncio.Semaphore(CONCURRENT)

    async def one(index: int) -> None:
        async with semaphore:
            await sender.send(OutgoingSms(to=seed.mobile(index), body="Rendez-vous le mer. 25/11 à 9h00.",
                                          reference=str(index)))

    started = time.monotonic()
    await asyncio.gather(*(one(index) for index in range(MESSAGES)))
    elapsed = time.monotonic() - started
    await sender.aclose()
    return MESSAGES / elapsed


def ceiling() -> float:
    """Messages per second the twilio client and the fake manage alone (no database, no dispatcher).

    On uvloop when it is installed, as the dispatching server (uvicorn) runs.
    """
    with FakeTwilio(separate_process=True) as fake, asyncio.Runner(loop_factory=_server_loop()) as runner:
        return runner.run(_ceiling(fake))


def _server_loop() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """The event loop uvicorn picks: uvloop's when installed, else asyncio's."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def main(argv: list[str] | None = None) -> None:
    """Measure every case and write (or only print) the report section."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--no-write", action="store_true", help="print the section, leave BENCHMARKS.md alone"
    )
    args = parser.parse_args(argv)
    top = ceiling()
    cases = []
    with tempfile.TemporaryDirectory() as folder:
        cases.append(measure(sqlite_database(Path(folder)), 1))
    for processes in (1, 2):
        with temporary_postgres() as database:
            cases.append(measure(database, processes))
    section = _section(top, cases)
    if not args.no_write:
        _write(section)
    print(section)


_HEADER = (
    "| database | processes | sent | duplicates | total time | first send | messages/s (total) "
    "| messages/s (steady) | steady × ceiling |"
)


def _section(top: float, cases: list[Case]) -> str:
    rows = "\n".join(
        f"| {case.database} | {case.processes} | {case.sent} | {case.duplicates} | {case.seconds:.1f} s "
        f"| {case.first_send:.1f} s | {case.rate:,.0f} | {case.steady_rate:,.0f} "
        f"| {case.steady_rate / top:.2f} |"
        for case in cases
    )
    return f"""{START_MARK}
## SMS dispatch to the local fake Twilio

Generated by `bench/run` (`bench/dispatch.py`) on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC
({os.cpu_count()} CPUs, {platform.platform()}, Python {platform.python_version()}); do not edit
between the markers.

**Method.** {MESSAGES:,} due messages are written straight into a fresh database (one family,
appointment and outbox row each); then the dispatching server process(es) start with the real
twilio client pointed at the fake Twilio (an asyncio HTTP server in a process of its own) and the
send rate limit raised to 10,000/s; the time runs from the processes' start (start-up included)
until no message is pending or sending (polled every 50 ms over one connection). The ceiling is
the same number of messages sent by the twilio client alone from one process ({CONCURRENT} at a
time, no database, on uvloop as the server): it is what the fake and the client manage, measured
in the same run, and the steady rate is also given as a ratio to it. *First send*
is when the fake received the first message (polled every 50 ms): start-up, imports and the first
dispatch tick; *steady* is the rate after it. Every message is counted at the fake by its
reference: `duplicates` must be 0.

Ceiling (twilio client → fake, no database): **{top:,.0f} messages/s**.

{_HEADER}
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
{rows}
{END_MARK}"""


def _write(section: str) -> None:
    text = REPORT.read_text() if REPORT.exists() else "# Benchmarks\n"
    if START_MARK in text:
        head, _, rest = text.partition(START_MARK)
        text = head + section + rest.partition(END_MARK)[2]
    else:
        text = text.rstrip() + "\n\n" + section + "\n"
    REPORT.write_text(text)


if __name__ == "__main__":
    main()
