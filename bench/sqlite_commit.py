"""What COMMIT costs a booking-sized SQLite transaction, with the pragmas créneau sets (WAL,
``synchronous=NORMAL``): the bound on what committing several waiting bookings together could save.

Usage: ``.venv/bin/python bench/sqlite_commit.py [--transactions 3000]``. It prints one line: the
median time of a transaction's statements and the median and p99 of its COMMIT. Plain ``sqlite3``
on a temporary file, tables shaped like a booking's rows (a hold, an appointment, three texts, an
event); no créneau code, so it measures SQLite on this machine and nothing else.
"""

from __future__ import annotations

import argparse
import sqlite3
import tempfile
import time
import uuid
from pathlib import Path

SCHEMA = (
    "CREATE TABLE hold (id TEXT PRIMARY KEY, resource TEXT, service TEXT, starts TEXT, ends TEXT, taken INT)",
    "CREATE INDEX hold_resource ON hold (resource, starts)",
    "CREATE TABLE appointment (id TEXT PRIMARY KEY, family TEXT, staff TEXT, starts TEXT, note TEXT)",
    "CREATE INDEX appointment_family ON appointment (family, starts)",
    "CREATE TABLE outbox (id TEXT PRIMARY KEY, appointment TEXT, body TEXT, due TEXT)",
    "CREATE TABLE event (seq INTEGER PRIMARY KEY, id TEXT, data TEXT)",
)


def _quantile(values: list[float], q: float) -> float:
    return sorted(values)[min(len(values) - 1, int(len(values) * q))]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--transactions", type=int, default=3000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        conn = sqlite3.connect(Path(folder) / "commit.db", isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        for statement in SCHEMA:
            conn.execute(statement)
        work: list[float] = []
        commits: list[float] = []
        for n in range(args.transactions):
            began = time.perf_counter()
            conn.execute("BEGIN IMMEDIATE")
            starts = f"2027-01-{n % 28 + 1:02d} {n % 24:02d}:00"
            conn.execute("INSERT INTO hold VALUES (?, ?, 'service', ?, ?, 1)",
                         (uuid.uuid4().hex, f"staff-{n % 8}", starts, "end"))
            appointment = uuid.uuid4().hex
            conn.execute("INSERT INTO appointment VALUES (?, ?, ?, '2027', ?)",
                         (appointment, f"family-{n}", f"staff-{n % 8}", "note " * 20))
            for _ in range(3):
                conn.execute("INSERT INTO outbox VALUES (?, ?, ?, '2027')",
                             (uuid.uuid4().hex, appointment, "Rendez-vous " * 10))
            conn.execute("INSERT INTO event (id, data) VALUES (?, ?)",
                         (uuid.uuid4().hex, "{" + "x" * 600 + "}"))
            written = time.perf_counter()
            conn.execute("COMMIT")
            commits.append(time.perf_counter() - written)
            work.append(written - began)
        conn.close()
    statements, median, p99 = (_quantile(work, 0.5) * 1e6, _quantile(commits, 0.5) * 1e6,
                               _quantile(commits, 0.99) * 1e6)
    print(f"{args.transactions} booking-sized transactions: statements median {statements:.0f} µs; "
          f"COMMIT median {median:.0f} µs, p99 {p99:.0f} µs")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
