"""What a site-limited key costs: the slot search (uncached), booking and the appointment list, in-process;
and what the audit trail costs a booking and an appointment list, through the app.

Both keys read the same data (the key is limited to the one site that holds it), so the answers
are the same and any difference is the limit's. Each round runs the limited and the unlimited call
one after the other (the order alternating), so the machine's load weighs on both alike; the
figure is the ratio of medians. Also counted, deterministically: statements per call, how many of
them found their compiled form in SQLAlchemy's cache, and Python function calls per call (cProfile).

Usage: ``.venv/bin/python bench/site_access.py [sqlite|postgresql ...] [--rounds 60] [--profile]``
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import secrets
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from litestar.testing import TestClient
from sqlalchemy import event

from bench.booking_profile import body as booking_body
from bench.run import database
from bench.seed import Dataset, build, fill_demo
from scheduler.app import create_app
from scheduler.collaborators import Collaborators
from scheduler.db.engine import Database
from scheduler.services import appointments
from scheduler.services.access import SiteAccess
from scheduler.services.api_keys import Principal
from scheduler.services.availability import SlotQuery
from scheduler.services.booking import BookingRequest, FamilyData
from scheduler.services.slot_search import slot_page
from scheduler.settings import Settings

Call = Callable[[Collaborators], Awaitable[Any]]


def seed(url: str) -> tuple[Collaborators, Dataset]:
    """The bench dataset (250 bookings of the busy staff member), and the app's collaborators."""
    fill_demo(url)
    admin_key = secrets.token_urlsafe(24)
    settings_env = {"CRENEAU_DATABASE_URL": url, "CRENEAU_ADMIN_API_KEY": admin_key,
                    "CRENEAU_SMS_BACKEND": "memory", "CRENEAU_SECRET_KEY": secrets.token_urlsafe(32),
                    "CRENEAU_SLOTS_CACHE_SECONDS": "0", "CRENEAU_DISPATCH_INTERVAL_SECONDS": "3600"}
    app = create_app(Settings.from_env(settings_env))
    with TestClient(app=app) as client:
        client.headers["Authorization"] = f"Bearer {admin_key}"
        data = build(client, bookings=250, booking_staff=1)  # type: ignore[arg-type]
        svc: Collaborators = app.state.services
    return svc, data


def calls(data: Dataset) -> dict[str, Call]:
    """The two measured use cases, as the API calls them."""
    query = SlotQuery(data.service_id, data.first, data.last, data.busy_staff_id, None, None)

    async def slots(svc: Collaborators) -> Any:
        return await slot_page(svc, query, None, 500)

    async def listed(svc: Collaborators) -> Any:
        return await appointments.page(svc, data.busy_staff_id, None, None, None, None, None, 100)

    # In time order, so that both keys book the same fortnights: each finds the search it loaded
    # for the fortnight in memory (``LoadedSearches``) but for the first booking of each.
    free = iter(sorted(data.bookable, key=lambda slot: datetime.fromisoformat(slot[1])))
    caller = Principal("bench", "bench", frozenset({"appointments:write"}))

    async def book(svc: Collaborators) -> Any:
        # A distinct slot each time, whichever key books it: the answers differ by their ids only.
        staff_id, start = next(free)
        wanted = BookingRequest(
            data.service_id, datetime.fromisoformat(start),
            FamilyData(f"BENCH-{secrets.token_hex(4)}", None, "fr", False), staff_id, data.site_id)
        view = await appointments.book(svc, caller, wanted, None, lambda booked: booked)  # type: ignore[type-var]
        return (view.appointment.status, view.appointment.site_id)  # type: ignore[union-attr]

    return {"slots": slots, "booking": book, "appointments": listed}


class Statements:
    """Statements run, and whether their compiled form came from the cache."""

    def __init__(self, db: Database) -> None:
        self.seen: Counter[str] = Counter()
        self.texts: list[tuple[str, float]] = []
        self._started = 0.0
        event.listen(db.engine.sync_engine, "before_cursor_execute", self._start)
        event.listen(db.engine.sync_engine, "after_cursor_execute", self._note)

    def _start(self, *_: Any) -> None:
        self._started = time.perf_counter()

    def _note(self, _conn: Any, _cursor: Any, statement: str, _params: Any, context: Any, _many: Any) -> None:
        hit = getattr(context, "cache_hit", None)
        self.seen[getattr(hit, "name", str(hit))] += 1
        self.texts.append((statement, time.perf_counter() - self._started))


async def measure(kind: str, url: str, svc: Collaborators, data: Dataset, rounds: int, profile: bool) -> None:
    db = Database.from_url(url)
    plain = replace(svc, db=db)
    limited = replace(svc, db=db.within(SiteAccess(frozenset({data.site_id}))))
    statements = Statements(db)
    try:
        for name, call in calls(data).items():
            same = (await call(plain), await call(limited))
            assert repr(same[0]) == repr(same[1]), f"{name}: the limited key sees something else"
            for _ in range(5):  # warm both
                await call(plain)
                await call(limited)
            times: dict[str, list[float]] = {"plain": [], "limited": []}
            for number in range(rounds):
                order = (("plain", plain), ("limited", limited))
                for label, deps in order if number % 2 else order[::-1]:
                    started = time.perf_counter()
                    await call(deps)
                    times[label].append(time.perf_counter() - started)
            plain_ms, limited_ms = (statistics.median(times[label]) * 1000 for label in ("plain", "limited"))
            counts = {}
            for label, deps in (("plain", plain), ("limited", limited)):
                statements.seen.clear()
                statements.texts.clear()
                profiler = cProfile.Profile()
                profiler.enable()
                await call(deps)
                profiler.disable()
                counts[label] = (pstats.Stats(profiler).total_calls, dict(statements.seen))  # type: ignore[attr-defined]
                if profile:
                    for text, seconds in statements.texts:
                        print(f"--- {label} {seconds * 1000:.2f} ms\n{text}")
            print(f"[{kind}] {name}: plain {plain_ms:.2f} ms, limited {limited_ms:.2f} ms, "
                  f"ratio {limited_ms / plain_ms:.3f} (medians of {rounds}); python calls "
                  f"{counts['plain'][0]} vs {counts['limited'][0]}; statements {counts['plain'][1]} vs "
                  f"{counts['limited'][1]}", flush=True)
            if profile:
                profiler = cProfile.Profile()
                profiler.enable()
                for _ in range(20):
                    await call(limited)
                profiler.disable()
                pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)
    finally:
        await db.dispose()


def measure_audit(kind: str, url: str, data: Dataset, rounds: int) -> None:
    """Booking and listing through the app (in-process ASGI), with its audit trail and without it.

    The same app alternates: ``app.state.audit`` set (each answer appends an entry, written in
    batches by the app's background writer, which runs during the audited rounds) or removed (the
    answer hook finds no trail). Bookings take slots from the end of the year, away from the
    in-process booking rounds'.
    """
    admin_key = secrets.token_urlsafe(24)
    app = create_app(Settings.from_env({
        "CRENEAU_DATABASE_URL": url, "CRENEAU_ADMIN_API_KEY": admin_key, "CRENEAU_SMS_BACKEND": "memory",
        "CRENEAU_SECRET_KEY": secrets.token_urlsafe(32), "CRENEAU_SLOTS_CACHE_SECONDS": "0",
        "CRENEAU_DISPATCH_INTERVAL_SECONDS": "3600"}))
    free = iter(sorted(data.bookable, key=lambda slot: datetime.fromisoformat(slot[1]), reverse=True))
    with TestClient(app=app) as client:
        client.headers["Authorization"] = f"Bearer {admin_key}"
        trail = app.state.audit

        def book() -> None:
            staff_id, start = next(free)
            answer = client.post("/v1/appointments", json=booking_body(
                data.service_id, staff_id, start, f"BENCH-{secrets.token_hex(4)}"))
            assert answer.status_code == 201, answer.text

        def listed() -> None:
            answer = client.get("/v1/appointments", params={"staff_id": data.busy_staff_id, "limit": 100})
            assert answer.status_code == 200 and answer.json()["items"], answer.text

        for name, call in (("booking", book), ("appointment list", listed)):
            for _ in range(5):
                call()
            times: dict[str, list[float]] = {"audited": [], "unaudited": []}
            for number in range(rounds):
                order = ("audited", "unaudited") if number % 2 else ("unaudited", "audited")
                for label in order:
                    app.state.audit = trail if label == "audited" else None
                    started = time.perf_counter()
                    call()
                    times[label].append(time.perf_counter() - started)
            app.state.audit = trail
            audited, unaudited = (statistics.median(times[label]) * 1000 for label in times)
            print(f"[{kind}] audit, {name} through the app: without {unaudited:.2f} ms, with "
                  f"{audited:.2f} ms, ratio {audited / unaudited:.3f} (medians of {rounds})", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("kinds", nargs="*", default=["sqlite", "postgresql"])
    parser.add_argument("--rounds", type=int, default=60)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    for kind in args.kinds:
        with tempfile.TemporaryDirectory(prefix=f"creneau-access-{kind}-") as tmp, \
                database(kind, Path(tmp)) as handle:
            svc, data = seed(handle.url)
            asyncio.run(measure(kind, handle.url, svc, data, args.rounds, args.profile))
            measure_audit(kind, handle.url, data, args.rounds)


if __name__ == "__main__":
    main()
