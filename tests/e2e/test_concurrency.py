"""No double booking, ever: concurrent requests against a real two-worker server, on both databases."""

from __future__ import annotations

import asyncio
import secrets
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.api import at, booking, programme, upcoming
from tests.support.databases import DatabaseHandle
from tests.support.server import RunningServer, start_server

pytestmark = pytest.mark.anyio
CONCURRENT = 50


@pytest.fixture(scope="module")
def two_workers(
    module_database: DatabaseHandle, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    """A server with two worker processes, so requests really race across processes."""
    with start_server(module_database, tmp_path_factory.mktemp("server"), admin_key=secrets.token_urlsafe(24),
                      workers=2) as running:
        yield running


async def _race(server: RunningServer, bodies: list[dict[str, object]]) -> Counter[int]:
    limits = httpx.Limits(max_connections=CONCURRENT, max_keepalive_connections=0)
    async with server.async_client(limits=limits) as client:
        await client.get("/health")
        responses = await asyncio.gather(*(client.post("/v1/appointments", json=body) for body in bodies))
    for response in responses:
        if response.status_code != 201:
            assert response.json()["code"] == "slot-unavailable", response.text
    return Counter(response.status_code for response in responses)


def _booked(server: RunningServer, staff_id: str) -> int:
    with server.client() as client:
        items = client.get("/v1/appointments", params={"staff_id": staff_id, "limit": 500}).json()["items"]
    return len(items)


async def test_fifty_requests_for_one_slot_give_exactly_one_booking(two_workers: RunningServer) -> None:
    with two_workers.client() as client:
        prog = programme(client)
    start = at(upcoming(3), "09:00")
    counts = await _race(two_workers, [booking(prog, start) for _ in range(CONCURRENT)])
    assert counts == Counter({201: 1, 409: CONCURRENT - 1})
    assert _booked(two_workers, prog.staff_id) == 1


async def test_overlapping_services_of_one_staff_member_never_both_book(two_workers: RunningServer) -> None:
    # Two services with different lengths on the same staff member: the slots overlap without
    # sharing a start, which only the database's overlap guard (not a unique index) can refuse.
    with two_workers.client() as client:
        prog = programme(client, duration=60)
        longer = client.post(
            "/v1/services", json={"name": "long", "duration_minutes": 90, "horizon_days": 365}
        )
        client.post("/v1/availability-rules", json={
            "staff_id": prog.staff_id, "site_id": prog.site_id, "service_ids": [longer.json()["id"]],
            "weekday": 3, "start_time": "09:30", "end_time": "12:00", "valid_from": "2026-01-01"})
    day = upcoming(3)
    bodies = [
        booking(prog, at(day, "09:00"))
        if index % 2
        else {**booking(prog, at(day, "09:30")), "service_id": longer.json()["id"]}
        for index in range(CONCURRENT)
    ]
    counts = await _race(two_workers, bodies)
    assert counts == Counter({201: 1, 409: CONCURRENT - 1})


async def test_a_collective_session_of_eight_takes_exactly_eight(two_workers: RunningServer) -> None:
    with two_workers.client() as client:
        prog = programme(client, weekday=2, start="18:00", end="20:00", duration=120, capacity=8)
    start = at(upcoming(2), "18:00")
    counts = await _race(two_workers, [booking(prog, start) for _ in range(CONCURRENT)])
    assert counts == Counter({201: 8, 409: CONCURRENT - 8})
    assert _booked(two_workers, prog.staff_id) == 8


def test_database_itself_refuses_overlapping_holds(module_database: DatabaseHandle, tmp_path: Path) -> None:
    """The guard is in the schema: a raw INSERT that bypasses the service is refused too."""
    from tests.support.raw_holds import insert_overlapping_holds

    outcome = insert_overlapping_holds(module_database.url)
    assert outcome == ("first accepted", "second refused", "adjacent accepted", "cancelled block ignored")


async def test_fifty_bookings_needing_the_only_arabic_interpreter_give_exactly_one(
    two_workers: RunningServer,
) -> None:
    # Fifty staff members are free at that time; the one Arabic interpreter (the only interpreter
    # of this module's database) is the bottleneck.
    language = "ar"
    with two_workers.client() as client:
        site = client.post(
            "/v1/sites", json={"name": "s", "kind": "office", "public_label": "Accueil"}
        ).json()
        service = client.post(
            "/v1/services", json={"name": "svc", "duration_minutes": 60, "horizon_days": 365}
        ).json()
        interpreter = client.post("/v1/interpreters", json={"name": "seul", "languages": [language]}).json()
        client.post("/v1/availability-rules", json={"interpreter_id": interpreter["id"], "weekday": 3,
                                                    "start_time": "09:00", "end_time": "12:00",
                                                    "valid_from": "2026-01-01"})
        for index in range(CONCURRENT):
            staff = client.post("/v1/staff", json={"name": f"staff {index}", "role": "social_worker"}).json()
            client.post("/v1/availability-rules", json={
                "staff_id": staff["id"], "site_id": site["id"], "service_ids": [service["id"]], "weekday": 3,
                "start_time": "09:00", "end_time": "12:00", "valid_from": "2026-01-01"})
    start = at(upcoming(3), "10:00")
    body = {"service_id": service["id"], "start": start, "interpreter_language": language,
            "family": {"reference": "PRE-X", "language": "ar"}}
    limits = httpx.Limits(max_connections=CONCURRENT, max_keepalive_connections=0)
    async with two_workers.async_client(limits=limits) as client:
        responses = await asyncio.gather(
            *(client.post("/v1/appointments", json=body) for _ in range(CONCURRENT))
        )
    codes = Counter((r.status_code, r.json().get("code")) for r in responses)
    assert codes == Counter({(201, None): 1, (409, "interpreter-unavailable"): CONCURRENT - 1})
