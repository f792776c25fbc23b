"""Exactly once from our side: SIGKILL the dispatchers at random points, restart, count at Twilio."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from scheduler.db import outbox
from scheduler.db.engine import Database
from tests.fakes.fake_twilio import FakeTwilio
from tests.support import seed
from tests.support.databases import DatabaseHandle
from tests.support.server import free_port

MESSAGES = 1000
KILLS = 6
LEASE_SECONDS = 5
FINISH_SECONDS = 120


def _env(database: DatabaseHandle, fake: FakeTwilio) -> dict[str, str]:
    base = {key: value for key, value in os.environ.items() if not key.startswith(("CRENEAU_", "TWILIO_"))}
    return {
        **base,
        "CRENEAU_DATABASE_URL": database.url,
        "CRENEAU_SMS_BACKEND": "twilio",
        "TWILIO_ACCOUNT_SID": fake.account_sid,
        "TWILIO_AUTH_TOKEN": fake.auth_token,
        "CRENEAU_TWILIO_SENDER": "CRENEAU",
        "CRENEAU_TWILIO_API_BASE": fake.base_url,
        # Real SMS carry family page links, signed with it (the same for every process).
        "CRENEAU_SECRET_KEY": "crash-test-secret-0123456789abcdefghijklmnop",
        # Every process writes the same links, as replicas behind one address do (by default the
        # link follows each process's own port, and a text re-rendered elsewhere would differ).
        "CRENEAU_PUBLIC_URL": "https://rdv.example.fr",
        "CRENEAU_DISPATCH_INTERVAL_SECONDS": "0.2",
        "CRENEAU_DISPATCH_LEASE_SECONDS": str(LEASE_SECONDS),
        "CRENEAU_SMS_RATE_PER_SECOND": "400",
        "CRENEAU_QUIET_HOURS": "",
    }


def _spawn(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    port_env = {**env, "CRENEAU_PORT": str(free_port())}
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "scheduler.cli", "serve", "--no-migrate"],
            env=port_env,
            stdout=out,
            stderr=out,
        )


async def _count(url: str, *statuses: str) -> int:
    db = Database.from_url(url)
    try:
        async with db.read() as session:
            statement = (
                select(func.count()).select_from(outbox.TABLE).where(outbox.TABLE.c.status.in_(statuses))
            )
            return int((await session.execute(statement)).scalar_one())
    finally:
        await db.dispose()


def _wait_for_accepted(fake: FakeTwilio, count: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while len(fake.messages) < count and time.monotonic() < deadline:
        time.sleep(0.01)


async def _seed(url: str) -> list[str]:
    db = Database.from_url(url)
    try:
        prog = await seed.programme(db)
        now = datetime.now(UTC)
        return await seed.appointments_with_due_messages(db, prog, MESSAGES, now + timedelta(days=3), now)
    finally:
        await db.dispose()


@pytest.mark.slow
def test_killed_dispatchers_send_every_message_exactly_once(
    module_database: DatabaseHandle, tmp_path: Path
) -> None:
    # SQLite has one writer, so one dispatching process; PostgreSQL runs two side by side.
    processes = 1 if module_database.kind == "sqlite" else 2
    ids = asyncio.run(_seed(module_database.url))
    rng = random.Random(20261123)
    log = tmp_path / "dispatchers.log"
    with FakeTwilio() as fake:
        # Twilio holds what it accepted in its queue (no sent date) for a while: the lookups after
        # each kill must find messages in that state too.
        fake.hold_in_queue()
        env = _env(module_database, fake)
        caught_sending = 0
        for _ in range(KILLS):
            running = [_spawn(env, log) for _ in range(processes)]
            # Kill once Twilio has accepted a random number more messages: always mid-dispatch.
            _wait_for_accepted(fake, len(fake.messages) + rng.randint(5, MESSAGES // (2 * KILLS)))
            for process in running:
                process.send_signal(signal.SIGKILL)
                process.wait()
            caught_sending += asyncio.run(_count(module_database.url, outbox.SENDING))
        running = [_spawn(env, log) for _ in range(processes)]
        try:
            deadline = time.monotonic() + FINISH_SECONDS
            while (
                asyncio.run(_count(module_database.url, outbox.PENDING, outbox.SENDING))
                and time.monotonic() < deadline
            ):
                time.sleep(0.5)
        finally:
            for process in running:
                process.terminate()
                process.wait(timeout=20)
        delivered = Counter(fake.references())
    duplicates = {ref: count for ref, count in delivered.items() if count > 1}
    lost = set(ids) - set(delivered)
    print(
        f"\ncrash proof [{module_database.kind}]: {KILLS} kills x {processes} process(es), "
        f"{MESSAGES} messages, "
        f"{len(delivered)} delivered once or more, {len(duplicates)} duplicated, {len(lost)} lost, "
        f"{caught_sending} caught in 'sending' by a kill"
    )
    assert caught_sending > 0, "no kill landed between a claim and its record: the proof proved nothing"
    assert duplicates == {}
    assert lost == set()
    assert set(delivered) == set(ids)

