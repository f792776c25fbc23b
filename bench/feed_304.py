"""Feed 304s before and after change counters, in one run: statements per request and latency.

Run from the repository root: ``.venv/bin/python bench/feed_304.py --compare OLD_TREE`` where
OLD_TREE is a copy of the code to compare with (``git archive <commit> | tar -x -C OLD_TREE``).
For each database (SQLite, PostgreSQL) and each tree, alternately (old, new, old, new), a child
process builds the app in-process (Litestar's test client, no server: what is measured is the
app and its database, not a socket), seeds a staff member with ``--events`` appointments (Core
inserts, as bench/feeds.py) and one at a site, then sends ``--requests`` conditional requests
one after another to the staff feed and to the site feed, and reports per request the median
and p99 latency and the SQL statements run (counted by a SQLAlchemy ``before_cursor_execute``
listener: deterministic, whatever the machine's load).

The latencies are comparable within one run only (the machine is shared): read the ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def _child(code: Path, kind: str, events: int, requests: int) -> dict[str, Any]:
    sys.path.insert(0, str(code))
    from litestar.testing import TestClient
    from sqlalchemy import event, insert

    from scheduler.app import create_app
    from scheduler.db.engine import Database
    from scheduler.db.tables import Appointment, Family, HoldRecord, new_id
    from scheduler.settings import Settings
    from tests.support.api import created, programme
    from tests.support.databases import sqlite_database, temporary_postgres

    async def seed(url: str, staff_id: str, site_id: str, service_id: str) -> None:
        db = Database.from_url(url)
        now = datetime.now(UTC).replace(microsecond=0)
        first, step = now - timedelta(days=80), timedelta(days=450) / events
        try:
            for offset in range(0, events, 1000):
                holds, families, appointments = [], [], []
                for n in range(offset, min(events, offset + 1000)):
                    start = first + step * n
                    hold_id, family_id = new_id(), new_id()
                    holds.append({"id": hold_id, "resource_id": staff_id, "resource_kind": "staff",
                                  "service_id": service_id, "starts_at": start,
                                  "ends_at": start + timedelta(minutes=20), "capacity": 1, "taken": 1})
                    families.append({"id": family_id, "reference": f"PRE-{family_id[:12]}", "language": "fr",
                                     "sms_consent": False, "created_at": now, "updated_at": now})
                    appointments.append({
                        "id": new_id(), "status": "attended" if start < now else "booked",
                        "service_id": service_id, "staff_id": staff_id, "site_id": site_id,
                        "family_id": family_id, "starts_at": start, "ends_at": start + timedelta(minutes=20),
                        "staff_hold_id": hold_id, "sequence": n % 3, "created_at": now, "updated_at": now})
                async with db.write() as session:
                    for table, rows in ((HoldRecord, holds), (Family, families), (Appointment, appointments)):
                        await session.execute(insert(table.__table__), rows)  # type: ignore[attr-defined]
        finally:
            await db.dispose()

    def run(url: str) -> dict[str, Any]:
        key = secrets.token_urlsafe(24)
        settings = Settings.from_env({
            "CRENEAU_DATABASE_URL": url, "CRENEAU_ADMIN_API_KEY": key, "CRENEAU_SMS_BACKEND": "memory",
            "CRENEAU_SECRET_KEY": secrets.token_urlsafe(32), "CRENEAU_PUBLIC_URL": "http://bench.local",
            "CRENEAU_DISPATCH_INTERVAL_SECONDS": "3600", "CRENEAU_LOG_LEVEL": "WARNING"})
        app = create_app(settings)
        figures: dict[str, Any] = {}
        with TestClient(app=app, base_url="http://bench.local") as client:
            client.headers["Authorization"] = f"Bearer {key}"
            prog = programme(client)
            asyncio.run(seed(url, prog.staff_id, prog.site_id, prog.service_id))
            client.headers.pop("Authorization")
            statements: list[str] = []
            engine = app.state.services.db.engine.sync_engine
            event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
            for owner, path in (("staff", f"/v1/staff/{prog.staff_id}/feeds"),
                                ("site", f"/v1/sites/{prog.site_id}/feeds")):
                client.headers["Authorization"] = f"Bearer {key}"
                token = created(client.post(path, json={"privacy": "standard"}))["token"]
                client.headers.pop("Authorization")
                url_path = f"/feeds/{token}.ics"
                etag = client.get(url_path).headers["etag"]
                for _ in range(50):  # warm: token cached, fetch noted
                    assert client.get(url_path, headers={"If-None-Match": etag}).status_code == 304
                time.sleep(0.2)  # the "last fetched" write, in a task of its own, is done
                statements.clear()
                samples = []
                for _ in range(requests):
                    started = time.perf_counter()
                    response = client.get(url_path, headers={"If-None-Match": etag})
                    samples.append((time.perf_counter() - started) * 1000)
                    assert response.status_code == 304
                ordered = sorted(samples)
                figures[owner] = {
                    "median_ms": round(statistics.median(samples), 3),
                    "p99_ms": round(ordered[int(0.99 * (len(ordered) - 1))], 3),
                    "statements_per_304": round(len(statements) / requests, 2),
                    "selects_per_304": round(sum(s.lstrip().upper().startswith("SELECT")
                                                 for s in statements) / requests, 2),
                }
                if os.environ.get("BENCH_SHOW_STATEMENTS"):
                    print(sorted({s[:120] for s in statements}), file=sys.stderr)
        return figures

    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            return run(sqlite_database(Path(folder)).url)
    with temporary_postgres() as handle:
        return run(handle.url)


def _compare(old: Path, events: int, requests: int, rounds: int) -> None:
    sys.path.insert(0, str(ROOT))  # the parent only: a child imports the tree it measures
    from bench.run import alternate_trees

    results = alternate_trees(__file__, old, rounds, ["--events", str(events), "--requests", str(requests)])
    print(f"| database | feed | code | statements / 304 | SELECTs / 304 | median ms | p99 ms |"
          f"  ({events} events, {requests} sequential 304s, best of {rounds} rounds by median)")
    print("| --- | --- | --- | ---: | ---: | ---: | ---: |")
    for (kind, name), runs in results.items():
        for owner in ("staff", "site"):
            best = min((run[owner] for run in runs), key=lambda figures: figures["median_ms"])
            print(f"| {kind} | {owner} | {name} | {best['statements_per_304']} | {best['selects_per_304']} | "
                  f"{best['median_ms']} | {best['p99_ms']} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--compare", type=Path, help="the old tree to compare this one with")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--database", default="sqlite")
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=2)
    arguments = parser.parse_args()
    if arguments.child:
        print(json.dumps(_child(arguments.child, arguments.database, arguments.events, arguments.requests)))
    elif arguments.compare:
        _compare(arguments.compare, arguments.events, arguments.requests, arguments.rounds)
    else:
        parser.error("--compare OLD_TREE")


if __name__ == "__main__":
    main()
