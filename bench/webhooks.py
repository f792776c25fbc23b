"""Webhook delivery throughput to a local receiver, against a bare httpx client posting to the same receiver.

Run from the repository root: ``.venv/bin/python bench/webhooks.py [--database sqlite|postgresql]``.
It seeds EVENTS events for ENDPOINTS endpoints (so EVENTS × ENDPOINTS deliveries) straight into a
fresh database, starts one ``creneau serve`` process and times until no delivery is pending
(start-up included, and separately from the first delivery on). In the same run a bare
``httpx.AsyncClient`` posts as many signed bodies to the same receiver with the same
concurrency (the per-endpoint bound times the endpoints): the ceiling the figure is a ratio to.
Prints the figures; writes nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from tempfile import TemporaryDirectory

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx
from sqlalchemy import func, select

from scheduler.db import webhooks as store
from scheduler.db.engine import Database
from scheduler.db.event_tables import WebhookEndpoint
from scheduler.domain.events import Actor, Event
from scheduler.services import events
from scheduler.webhooks import signing
from scheduler.webhooks.secrets import SecretBox, new_secret
from tests.fakes.webhook_receiver import WebhookReceiver
from tests.support.databases import sqlite_database, temporary_postgres
from tests.support.server import free_port

EVENTS = 1000
ENDPOINTS = 2
PER_ENDPOINT = 4
SECRET_KEY = "bench-webhooks-" + "s" * 40
TIMEOUT_SECONDS = 300


async def _seed(url: str, receiver: WebhookReceiver) -> None:
    db = Database.from_url(url)
    box, now = SecretBox(SECRET_KEY), datetime.now(UTC)
    try:
        async with db.write() as session:
            for index in range(ENDPOINTS):
                path, secret = f"/bench{index}", new_secret()
                receiver.secrets[path] = [secret]
                session.add(
                    WebhookEndpoint(
                        api_key_id="bench",
                        url=receiver.base_url + path,
                        events=["*"],
                        secret_encrypted=box.seal(secret),
                        created_at=now,
                        updated_at=now,
                    )
                )
        async with db.write() as session:
            for index in range(EVENTS):
                await events.record(session, Event("appointment.booked", now, Actor("system"), {"n": index}))
    finally:
        await db.dispose()


async def _wait(url: str, receiver: WebhookReceiver, started: float) -> tuple[float, float]:
    db = Database.from_url(url)
    first = None
    table = store.DELIVERIES
    try:
        while time.monotonic() - started < TIMEOUT_SECONDS:
            if first is None and receiver.received:
                first = time.monotonic() - started
            async with db.read() as session:
                pending = (await session.execute(select(func.count()).select_from(table)
                                                 .where(table.c.status == store.PENDING))).scalar_one()
            if not pending:
                break
            await asyncio.sleep(0.05)
        elapsed = time.monotonic() - started
        return elapsed, elapsed if first is None else first
    finally:
        await db.dispose()


def _service(url: str, receiver: WebhookReceiver) -> tuple[float, float]:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("CRENEAU_", "TWILIO_"))},
        "CRENEAU_DATABASE_URL": url,
        "CRENEAU_SECRET_KEY": SECRET_KEY,
        "CRENEAU_WEBHOOK_ALLOW_PRIVATE": "true",
        "CRENEAU_WEBHOOK_INTERVAL_SECONDS": "0.1",
        "CRENEAU_WEBHOOK_CONCURRENCY_PER_ENDPOINT": str(PER_ENDPOINT),
        "CRENEAU_LOG_LEVEL": "WARNING",
        "CRENEAU_PORT": str(free_port()),
    }
    started = time.monotonic()
    process = subprocess.Popen([sys.executable, "-m", "scheduler.cli", "serve", "--no-migrate"], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        return asyncio.run(_wait(url, receiver, started))
    finally:
        process.terminate()
        process.wait(timeout=20)


async def _bare(receiver: WebhookReceiver) -> float:
    """The same number of signed POSTs from a bare httpx client, same concurrency, same receiver."""
    secret = new_secret()
    receiver.secrets["/bare"] = [secret]
    body = b'{"id":"evt_bench","type":"appointment.booked","data":{}}'
    semaphore = asyncio.Semaphore(PER_ENDPOINT * ENDPOINTS)
    async with httpx.AsyncClient(timeout=10) as client:
        async def one(index: int) -> None:
            async with semaphore:
                headers = signing.headers([secret], f"evt_bare{index}", datetime.now(UTC), body)
                await client.post(receiver.base_url + "/bare", content=body, headers=headers)

        started = time.monotonic()
        await asyncio.gather(*(one(index) for index in range(EVENTS * ENDPOINTS)))
        return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="postgresql")
    args = parser.parse_args()
    deliveries = EVENTS * ENDPOINTS
    with WebhookReceiver() as receiver, TemporaryDirectory() as folder:
        if args.database == "sqlite":
            handle = sqlite_database(Path(folder))
            asyncio.run(_seed(handle.url, receiver))
            elapsed, first = _service(handle.url, receiver)
        else:
            with temporary_postgres() as handle:
                asyncio.run(_seed(handle.url, receiver))
                elapsed, first = _service(handle.url, receiver)
        bare = asyncio.run(_bare(receiver))
        verified = sum(1 for item in receiver.received if item.path != "/bare" and item.verified_with == (0,))
    steady = deliveries / max(1e-9, elapsed - first)
    print(
        f"{args.database}: {deliveries} deliveries ({EVENTS} events x {ENDPOINTS} endpoints, {PER_ENDPOINT} in "  # noqa: E501 (one literal, clearer whole)
        f"flight per endpoint), {verified} verified"
    )
    print(
        f"  service: {deliveries / elapsed:.0f}/s with start-up ({elapsed:.1f} s), {steady:.0f}/s from the first "  # noqa: E501 (one literal, clearer whole)
        f"delivery"
    )
    print(f"  bare httpx client, same receiver and concurrency: {deliveries / bare:.0f}/s ({bare:.1f} s)")
    print(f"  ratio service (steady) / bare: {steady / (deliveries / bare):.2f}")


if __name__ == "__main__":
    main()
