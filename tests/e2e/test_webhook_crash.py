"""At least once, never lost: SIGKILL the delivering processes at random points, restart, count at the
receiver.

1,000 events to 2 endpoints (2,000 deliveries) through two real ``creneau serve`` processes side by
side on PostgreSQL (where several processes claim concurrently; SQLite has one writer), killed 6
times mid-delivery. Every event
must reach both endpoints, verified with ``standardwebhooks``; a repeat is allowed only with the
same ``webhook-id`` (a kill between the receiver's 2xx and its record) and is counted.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from scheduler.db import webhooks as webhook_store
from scheduler.db.engine import Database
from scheduler.db.event_tables import WebhookEndpoint
from scheduler.domain.events import Actor, Event
from scheduler.services import events
from scheduler.webhooks.secrets import SecretBox, new_secret
from tests.fakes.webhook_receiver import WebhookReceiver
from tests.support.databases import DatabaseHandle, temporary_postgres
from tests.support.server import free_port

pytestmark = pytest.mark.e2e

EVENTS = 1000
ENDPOINTS = ("/a", "/b")
KILLS = 6
LEASE_SECONDS = 2
FINISH_SECONDS = 120
SECRET_KEY = "webhook-crash-test-secret-0123456789abcdef"


def _env(database: DatabaseHandle) -> dict[str, str]:
    base = {key: value for key, value in os.environ.items() if not key.startswith(("CRENEAU_", "TWILIO_"))}
    return {**base, "CRENEAU_DATABASE_URL": database.url, "CRENEAU_SECRET_KEY": SECRET_KEY,
            "CRENEAU_WEBHOOK_ALLOW_PRIVATE": "true", "CRENEAU_WEBHOOK_INTERVAL_SECONDS": "0.1",
            "CRENEAU_WEBHOOK_LEASE_SECONDS": str(LEASE_SECONDS), "CRENEAU_WEBHOOK_BACKOFF_SCALE": "0.001",
            "CRENEAU_DISPATCH_INTERVAL_SECONDS": "60"}


def _spawn(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen([sys.executable, "-m", "scheduler.cli", "serve", "--no-migrate"],
                                env={**env, "CRENEAU_PORT": str(free_port())}, stdout=out, stderr=out)


async def _seed(url: str, receiver: WebhookReceiver) -> list[str]:
    """Two endpoints on the receiver, then 1,000 events (each queued for both in its transaction)."""
    db = Database.from_url(url)
    box = SecretBox(SECRET_KEY)
    now = datetime.now(UTC)
    ids: list[str] = []
    try:
        async with db.write() as session:
            for path in ENDPOINTS:
                secret = new_secret()
                receiver.secrets[path] = [secret]
                session.add(
                    WebhookEndpoint(
                        api_key_id="crash-test",
                        url=receiver.base_url + path,
                        events=["*"],
                        secret_encrypted=box.seal(secret),
                        created_at=now,
                        updated_at=now,
                    )
                )
        for start in range(0, EVENTS, 100):
            async with db.write() as session:
                for index in range(start, start + 100):
                    event = await events.record(session, Event("appointment.booked", now, Actor("system"),
                                                               {"n": index}))
                    ids.append(event.id)
    finally:
        await db.dispose()
    return ids


async def _count(url: str, *, in_flight: bool = False) -> int:
    db = Database.from_url(url)
    table = webhook_store.DELIVERIES
    try:
        async with db.read() as session:
            where = (
                table.c.claimed_until.is_not(None) if in_flight else table.c.status == webhook_store.PENDING
            )
            return int(
                (await session.execute(select(func.count()).select_from(table).where(where))).scalar_one()
            )
    finally:
        await db.dispose()


def _wait_for_received(receiver: WebhookReceiver, count: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while len(receiver.received) < count and time.monotonic() < deadline:
        time.sleep(0.01)


@pytest.fixture
def postgres_database() -> Iterator[DatabaseHandle]:
    with temporary_postgres() as handle:
        yield handle


@pytest.mark.slow
def test_killed_deliverers_lose_no_event_and_repeat_only_with_the_same_webhook_id_on_postgresql(
    postgres_database: DatabaseHandle, tmp_path: Path
) -> None:
    module_database = postgres_database
    processes = 2
    rng = random.Random(20261204)
    log = tmp_path / "deliverers.log"
    with WebhookReceiver(delay=0.005) as receiver:
        ids = asyncio.run(_seed(module_database.url, receiver))
        env = _env(module_database)
        caught_in_flight = 0
        for _ in range(KILLS):
            running = [_spawn(env, log) for _ in range(processes)]
            _wait_for_received(receiver, len(receiver.received) + rng.randint(20, EVENTS * 2 // (2 * KILLS)))
            for process in running:
                process.send_signal(signal.SIGKILL)
                process.wait()
            caught_in_flight += asyncio.run(_count(module_database.url, in_flight=True))
        running = [_spawn(env, log) for _ in range(processes)]
        try:
            deadline = time.monotonic() + FINISH_SECONDS
            while asyncio.run(_count(module_database.url)) and time.monotonic() < deadline:
                time.sleep(0.5)
        finally:
            for process in running:
                process.terminate()
                process.wait(timeout=20)
        received = list(receiver.received)
    by_endpoint = {
        path: Counter(item.webhook_id for item in received if item.path == path) for path in ENDPOINTS
    }
    lost = {path: set(ids) - set(counts) for path, counts in by_endpoint.items()}
    duplicates = sum(count - 1 for counts in by_endpoint.values() for count in counts.values())
    print(f"\nwebhook crash proof [{module_database.kind}]: {EVENTS} events x {len(ENDPOINTS)} endpoints, "
          f"{KILLS} kills x {processes} process(es), {sum(len(c) for c in by_endpoint.values())} delivered, "
          f"{duplicates} duplicates (same webhook-id), {sum(len(x) for x in lost.values())} lost, "
          f"{caught_in_flight} caught in flight by a kill")
    assert caught_in_flight > 0, "no kill landed during a delivery: the proof proved nothing"
    assert all(item.verified_with == (0,) for item in received)
    assert {item.webhook_id for item in received} <= set(ids)
    assert lost == {path: set() for path in ENDPOINTS}
