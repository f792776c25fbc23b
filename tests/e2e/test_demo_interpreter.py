"""The demo's interpreter: the README's interpreter booking works on the demo programmes as written."""

from __future__ import annotations

import asyncio
import secrets
from datetime import UTC, datetime
from pathlib import Path

from scheduler.db.engine import Database
from scheduler.demo import fill_if_empty
from tests.support.api import at, created, upcoming
from tests.support.databases import DatabaseHandle
from tests.support.server import start_server


async def _fill(url: str) -> None:
    db = Database.from_url(url)
    try:
        assert await fill_if_empty(db, datetime.now(UTC))
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
