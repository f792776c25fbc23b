"""The slot page cache keeps a server's memory bounded under many distinct searches, and lets it go when
idle."""

from __future__ import annotations

import asyncio
import os
import secrets
from datetime import timedelta
from pathlib import Path

import httpx

from tests.support.api import Programme, created, programme, upcoming
from tests.support.databases import sqlite_database
from tests.support.server import RunningServer, start_server

# CRENEAU_TEST_SLOT_SEARCHES=3000 reproduces the measurement in the report; the suite runs fewer.
SEARCHES = int(os.environ.get("CRENEAU_TEST_SLOT_SEARCHES", "600"))
CACHE_BYTES = 4 * 1024 * 1024
TTL_SECONDS = 2.0


def _rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


async def _distinct_searches(server: RunningServer, prog: Programme, count: int) -> int:
    """``count`` searches that differ by their date range, each a full page of 500 slots."""
    first = upcoming(1, weeks_ahead=1)
    sizes = []
    async with server.async_client(limits=httpx.Limits(max_connections=8)) as client:
        semaphore = asyncio.Semaphore(8)

        async def search(number: int) -> None:
            start = first + timedelta(days=number % 60)
            params = {"service_id": prog.service_id, "from": start.isoformat(),
                      "to": (start + timedelta(days=30 + number // 60)).isoformat(), "limit": "500"}
            async with semaphore:
                response = await client.get("/v1/slots", params=params)
            assert response.status_code == 200, response.text
            sizes.append(len(response.content))

        await asyncio.gather(*(search(number) for number in range(count)))
    return sum(sizes) // len(sizes)


def _busy_week(client: httpx.Client) -> Programme:
    """One staff member seeing families every quarter of an hour, 08:00-20:00, Monday to Friday."""
    prog = programme(client, weekday=1, start="08:00", end="20:00", duration=15)
    for weekday in range(2, 6):
        created(client.post("/v1/availability-rules", json={
            "staff_id": prog.staff_id, "site_id": prog.site_id, "service_ids": [prog.service_id],
            "weekday": weekday, "start_time": "08:00", "end_time": "20:00", "valid_from": "2026-01-01"}))
    return prog


def test_distinct_slot_searches_do_not_grow_memory_past_the_cache_bound(tmp_path: Path) -> None:
    env = {"CRENEAU_SLOTS_CACHE_BYTES": str(CACHE_BYTES), "CRENEAU_SLOTS_CACHE_SECONDS": str(TTL_SECONDS)}
    with start_server(
        sqlite_database(tmp_path), tmp_path, admin_key=secrets.token_urlsafe(24), extra_env=env
    ) as server:
        with server.client() as client:
            prog = _busy_week(client)
        # Warm up (first searches compile statements, fill SQLAlchemy's caches), then measure.
        asyncio.run(_distinct_searches(server, prog, 120))
        before = _rss_bytes(server.process.pid)
        page_bytes = asyncio.run(_distinct_searches(server, prog, SEARCHES))
        after = _rss_bytes(server.process.pid)
        asyncio.run(asyncio.sleep(TTL_SECONDS * 3))
        idle = _rss_bytes(server.process.pid)
    print(f"\n{SEARCHES} searches of ~{page_bytes // 1024} KB pages: RSS {before / 2**20:.0f} MB before, "
          f"{after / 2**20:.0f} MB after, {idle / 2**20:.0f} MB after {TTL_SECONDS * 3:.0f} s idle")
    assert page_bytes > 50_000  # the pages are the large ones that filled memory
    # Unbounded, SEARCHES pages would weigh SEARCHES * page_bytes (60 MB for 600): the cache
    # holds CACHE_BYTES of them; the rest is the allocator's slack, measured around 10 MB.
    assert after - before < CACHE_BYTES + 30 * 2**20
