"""The booking path in-process: SQL statements, Python calls and bookings/s per booking, one database.

Usage: ``.venv/bin/python bench/booking_profile.py sqlite|postgresql [--bookings 300] [--concurrency 8]
[--profile out.prof]``. It prints one JSON line.

The app runs in-process (Litestar's test client for the set-up, then ``POST /v1/appointments``
through httpx's ASGI transport on the app's own event loop), on a fresh migrated database, with
the admin key and the memory SMS backend, as ``bench/run`` books (SMS consent, a phone, the staff
member named). Three passes over distinct free slots, each after a warm-up:

- ``statements``: SQL statements the engine sent per booking (``before_cursor_execute``: BEGIN
  counts, COMMIT does not; the background audit flush counts when it falls in the pass);
- ``calls``: Python function calls per booking on the event loop's thread (cProfile; the
  aiosqlite thread's own work is not in it), and the ``--profile`` file of that pass;
- ``rate``: bookings per second with ``--concurrency`` concurrent clients, without the profiler.

These are deterministic or same-run figures: compare them between two versions of the code run
alternately, never as absolute times on this shared machine.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import secrets
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from litestar.testing import TestClient
from sqlalchemy import event

from bench.seed import PARIS, local_starts, site_and_service, weekday_staff
from scheduler.app import create_app
from scheduler.settings import Settings
from tests.support.databases import DatabaseHandle, sqlite_database, temporary_postgres

STAFF = 8


@contextmanager
def fresh(kind: str) -> Iterator[DatabaseHandle]:
    """A migrated database of ``kind``, thrown away afterwards."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            yield sqlite_database(Path(folder))
    else:
        with temporary_postgres() as handle:
            yield handle


def body(service_id: str, staff_id: str, start: str, reference: str) -> dict[str, Any]:
    """The body ``bench/wrk/book.lua`` sends."""
    return {
        "service_id": service_id,
        "staff_id": staff_id,
        "start": start,
        "family": {"reference": reference, "phone": "06 12 34 56 78", "language": "fr", "sms_consent": True},
    }


async def book_all(client: httpx.AsyncClient, bodies: list[dict[str, Any]], concurrency: int) -> None:
    """POST every body, ``concurrency`` at a time; anything but 201 stops the run."""
    queue = iter(bodies)

    async def worker() -> None:
        for item in queue:
            response = await client.post("/v1/appointments", json=item)
            if response.status_code != 201:
                raise RuntimeError(f"booking refused: {response.status_code} {response.text[:300]}")

    await asyncio.gather(*(worker() for _ in range(concurrency)))


def measure(
    kind: str, bookings: int, concurrency: int, profile_path: str | None, show: bool = False
) -> dict[str, Any]:
    """The three passes on a fresh database of ``kind``."""
    with fresh(kind) as handle:
        admin_key = secrets.token_urlsafe(24)
        settings = Settings.from_env(
            {
                "CRENEAU_DATABASE_URL": handle.url,
                "CRENEAU_ADMIN_API_KEY": admin_key,
                "CRENEAU_SMS_BACKEND": "memory",
                "CRENEAU_SECRET_KEY": secrets.token_urlsafe(32),
                "CRENEAU_PUBLIC_URL": "http://testserver.local",
                # The jobs would write in the measured passes: spaced out, they mostly stay out of them.
                "CRENEAU_DISPATCH_INTERVAL_SECONDS": "3600",
                "CRENEAU_WEBHOOK_INTERVAL_SECONDS": "60",
            }
        )
        app = create_app(settings)
        headers = {"Authorization": f"Bearer {admin_key}"}
        with TestClient(app=app, base_url="http://testserver.local") as setup:
            setup.headers.update(headers)
            today = datetime.now(PARIS).date()
            site_id, service_id = site_and_service(setup)
            team = [weekday_staff(setup, site_id, service_id, today) for _ in range(STAFF)]
            starts = local_starts(today + timedelta(days=1), today + timedelta(days=300))
            slots = [(staff, start) for start in starts for staff in team]
            warm = 20
            needed = warm * 3 + bookings * 3
            if len(slots) < needed:
                raise SystemExit(f"only {len(slots)} slots for {needed} bookings")
            bodies = [
                body(service_id, staff, start, f"PROF-{n:06d}") for n, (staff, start) in enumerate(slots)
            ]
            engine = app.state.services.db.engine.sync_engine
            counted = [0]
            shown: list[str] = []

            def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
                counted[0] += 1
                if show and len(shown) < 40:
                    shown.append(" ".join(statement.split())[:160])

            event.listen(engine, "before_cursor_execute", count)
            pings = [0]
            if kind == "postgresql":  # a ping is no statement: BEGIN, an empty query, ROLLBACK
                from sqlalchemy.dialects.postgresql.asyncpg import AsyncAdapt_asyncpg_connection as pinged

                real_ping = pinged.ping

                def counted_ping(self: Any) -> None:
                    pings[0] += 1
                    real_ping(self)

                pinged.ping = counted_ping  # type: ignore[method-assign]

            async def passes() -> dict[str, Any]:
                transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
                async with httpx.AsyncClient(
                    transport=transport, base_url="http://testserver.local", headers=headers
                ) as client:
                    chunks = [bodies[n * (warm + bookings) : (n + 1) * (warm + bookings)] for n in range(3)]
                    out: dict[str, Any] = {}
                    # statements, one client (as a sequential booking sees it)
                    await book_all(client, chunks[0][: warm - 1], 1)
                    shown.clear()
                    await book_all(client, chunks[0][warm - 1 : warm], 1)  # the one --show prints
                    if show:
                        print("\n".join(shown), file=sys.stderr)
                    counted[0] = pings[0] = 0
                    await book_all(client, chunks[0][warm:], 1)
                    out["statements_per_booking"] = round(counted[0] / bookings, 2)
                    out["pings_per_booking"] = round(pings[0] / bookings, 2)
                    # calls, one client, under cProfile
                    await book_all(client, chunks[1][:warm], 1)
                    profiler = cProfile.Profile()
                    profiler.enable()
                    await book_all(client, chunks[1][warm:], 1)
                    profiler.disable()
                    total = sum(entry.callcount for entry in profiler.getstats())
                    out["calls_per_booking"] = round(total / bookings)
                    if profile_path:
                        profiler.dump_stats(profile_path)
                    # rate, concurrent clients
                    await book_all(client, chunks[2][:warm], concurrency)
                    cpu, wall = time.process_time(), time.perf_counter()
                    await book_all(client, chunks[2][warm:], concurrency)
                    wall = time.perf_counter() - wall
                    out["bookings_per_s"] = round(bookings / wall, 1)
                    out["cpu_ms_per_booking"] = round((time.process_time() - cpu) * 1000 / bookings, 3)
                    return out

            result = setup.blocking_portal.call(passes)
            event.remove(engine, "before_cursor_execute", count)
        return {"db": kind, "bookings": bookings, "concurrency": concurrency, **result}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("db", choices=("sqlite", "postgresql"))
    parser.add_argument("--bookings", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--profile", default=None, help="write the cProfile pass's stats here")
    parser.add_argument("--show", action="store_true", help="print one booking's statements (stderr)")
    args = parser.parse_args(argv)
    print(json.dumps(measure(args.db, args.bookings, args.concurrency, args.profile, args.show)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
