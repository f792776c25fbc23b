"""Uncached slot searches before and after the counter-validated search cache, in one run.

Run from the repository root: ``.venv/bin/python bench/uncached_slots.py --compare OLD_TREE``
(OLD_TREE: ``git archive <commit> | tar -x -C OLD_TREE``). For each database and tree,
alternately, a child process builds the app in-process (Litestar's test client) with the slot
page cache off (``CRENEAU_SLOTS_CACHE_SECONDS=0``), makes one staff member with a weekly rule
and a few bookings, then asks ``--requests`` times for one day of that staff member's free slots
and reports the SQL statements per search (a ``before_cursor_execute`` listener: deterministic)
and the median and p99 latency (comparable within one run only: read the ratios).
"""

from __future__ import annotations

import argparse
import json
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def _child(code: Path, kind: str, requests: int) -> dict[str, Any]:
    sys.path.insert(0, str(code))
    from litestar.testing import TestClient
    from sqlalchemy import event

    from scheduler.app import create_app
    from scheduler.settings import Settings
    from tests.support.api import at, booking, created, programme, upcoming
    from tests.support.databases import sqlite_database, temporary_postgres

    def run(url: str) -> dict[str, Any]:
        key = secrets.token_urlsafe(24)
        settings = Settings.from_env({
            "CRENEAU_DATABASE_URL": url, "CRENEAU_ADMIN_API_KEY": key, "CRENEAU_SMS_BACKEND": "memory",
            "CRENEAU_SECRET_KEY": secrets.token_urlsafe(32), "CRENEAU_PUBLIC_URL": "http://bench.local",
            "CRENEAU_DISPATCH_INTERVAL_SECONDS": "3600", "CRENEAU_LOG_LEVEL": "WARNING",
            "CRENEAU_SLOTS_CACHE_SECONDS": "0"})
        app = create_app(settings)
        with TestClient(app=app, base_url="http://bench.local") as client:
            client.headers["Authorization"] = f"Bearer {key}"
            prog = programme(client, start="08:00", end="18:00", duration=30)
            day = upcoming(3)
            for hh in ("08:00", "10:00", "14:00"):
                created(client.post("/v1/appointments", json=booking(prog, at(day, hh))))
            params = {"service_id": prog.service_id, "from": day.isoformat(), "to": day.isoformat(),
                      "staff_id": prog.staff_id}
            for _ in range(20):
                assert len(client.get("/v1/slots", params=params).json()["items"]) == 17
            time.sleep(0.2)
            statements: list[str] = []
            event.listen(app.state.services.db.engine.sync_engine, "before_cursor_execute",
                         lambda *args: statements.append(args[2]))
            samples = []
            for _ in range(requests):
                started = time.perf_counter()
                response = client.get("/v1/slots", params=params)
                samples.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200
        ordered = sorted(samples)
        selects = sum(s.lstrip().upper().startswith("SELECT") for s in statements)
        return {"median_ms": round(statistics.median(samples), 3),
                "p99_ms": round(ordered[int(0.99 * (len(ordered) - 1))], 3),
                "statements": round(len(statements) / requests, 2), "selects": round(selects / requests, 2)}

    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            return run(sqlite_database(Path(folder)).url)
    with temporary_postgres() as handle:
        return run(handle.url)


def _compare(old: Path, requests: int, rounds: int) -> None:
    sys.path.insert(0, str(ROOT))  # the parent only: a child imports the tree it measures
    from bench.run import alternate_trees

    results = alternate_trees(__file__, old, rounds, ["--requests", str(requests)])
    print(f"| database | code | statements / search | SELECTs / search | median ms | p99 ms |"
          f"  ({requests} sequential uncached one-day searches, best of {rounds} rounds by median)")
    print("| --- | --- | ---: | ---: | ---: | ---: |")
    for (kind, name), runs in results.items():
        best = min(runs, key=lambda figures: figures["median_ms"])
        print(f"| {kind} | {name} | {best['statements']} | {best['selects']} | {best['median_ms']} | "
              f"{best['p99_ms']} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--compare", type=Path, help="the old tree to compare this one with")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--database", default="sqlite")
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=2)
    arguments = parser.parse_args()
    if arguments.child:
        print(json.dumps(_child(arguments.child, arguments.database, arguments.requests)))
    elif arguments.compare:
        _compare(arguments.compare, arguments.requests, arguments.rounds)
    else:
        parser.error("--compare OLD_TREE")


if __name__ == "__main__":
    main()
