"""The demo's interpreter: the README's interpreter booking works on the demo programmes as written;
the demo's care pathway is booked."""

from __future__ import annotations

import asyncio
import secrets
from datetime import UTC, datetime
from pathlib import Path

from scheduler.db.engine import Database
from scheduler.demo import book_demo_pathway, fill_if_empty
from scheduler.french_calendar import FrenchHolidayCalendar
from tests.support.api import at, created, upcoming
from tests.support.databases import DatabaseHandle
from tests.support.server import start_server


async def _fill(url: str) -> None:
    db = Database.from_url(url)
    try:
        assert await fill_if_empty(db, datetime.now(UTC))
        assert await book_demo_pathway(db, FrenchHolidayCalendar(), datetime.now(UTC)) is not None
    finally:
        await db.dispose()


def test_the_demo_books_the_arabic_interpreter_on_wednesdays(
    database: DatabaseHandle, tmp_path: Path
) -> None:
    asyncio.run(_fill(database.url))
    key = secrets.token_urlsafe(24)
    with start_server(database, tmp_path, admin_key=key) as server, server.client() as client:
        day = upcoming(3)
        slots = client.get("/v1/slots", params={"service_id": "point-ecoute", "from": str(day),
                                                "to": str(day), "interpreter_language": "ar"}).json()["items"]
        assert at(day, "10:00") in [slot["start"] for slot in slots]
        made = created(client.post("/v1/appointments", json={
            "service_id": "point-ecoute", "start": at(day, "10:00"), "interpreter_language": "ar",
            "family": {"reference": "PRE-2026-015", "language": "ar"}}))
        assert made["interpreter"]["interpreter_id"] == "interprete-ar"
        (pathway,) = client.get("/v1/pathways", params={"family_reference": "PRE-2026-021"}).json()["items"]
        assert pathway["status"] == "active" and pathway["staff_id"] == "psy-point-ecoute"
        assert [session["attendees"] for session in pathway["sessions"]] == ["parents", "child", "family"]
