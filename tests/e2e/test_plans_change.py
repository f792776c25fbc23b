"""When plans change: a move stays at its site, and a family is never booked in two places at once.

Through a real server on SQLite and PostgreSQL; the family's guarantee is the database's, proven
by a 50-way race across two worker processes.
"""

from __future__ import annotations

import asyncio
import secrets
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support.api import PROBLEM, Programme, at, booking, created, family, programme, unique, upcoming
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


def _refused(response: httpx.Response, code: str) -> None:
    assert response.status_code == 409, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    assert response.json()["code"] == code


def _rule(client: httpx.Client, staff_id: str, site_id: str, service_id: str, weekday: int, start: str,
          end: str) -> None:
    created(client.post("/v1/availability-rules", json={
        "staff_id": staff_id, "site_id": site_id, "service_ids": [service_id], "weekday": weekday,
        "start_time": start, "end_time": end, "valid_from": "2026-01-01"}))


def _site(client: httpx.Client, label: str) -> str:
    site: dict[str, Any] = created(client.post("/v1/sites", json={
        "name": unique("site"), "kind": "office", "address": "2 rue de l'Ecole", "public_label": label}))
    return str(site["id"])


def _move(client: httpx.Client, appointment_id: str, **body: Any) -> httpx.Response:
    return client.post(f"/v1/appointments/{appointment_id}/reschedule", json=body)


# --- a move stays at its site ----------------------------------------------------------------


def test_a_move_to_a_time_free_only_at_another_site_is_refused(server: RunningServer) -> None:
    # The Monday booking is at "Jaurès"; the same staff member works at "Ferry" on Tuesdays.
    with server.client() as client:
        jaures = programme(client, weekday=1)
        ferry = _site(client, "Ecole Ferry")
        _rule(client, jaures.staff_id, ferry, jaures.service_id, 2, "08:30", "12:00")
        monday, tuesday = upcoming(1), upcoming(2)
        appointment = created(client.post("/v1/appointments", json=booking(jaures, at(monday, "09:00"))))

        _refused(_move(client, appointment["id"], start=at(tuesday, "08:30")), "slot-unavailable")
        unchanged = client.get(f"/v1/appointments/{appointment['id']}").json()
        assert (unchanged["site_id"], unchanged["start"]) == (jaures.site_id, at(monday, "09:00"))

        within = _move(client, appointment["id"], start=at(monday, "10:00"))
        assert within.status_code == 200, within.text
        assert (within.json()["site_id"], within.json()["start"]) == (jaures.site_id, at(monday, "10:00"))


def test_a_move_naming_another_site_goes_there_with_the_same_staff_member(server: RunningServer) -> None:
    with server.client() as client:
        jaures = programme(client, weekday=1)
        ferry = _site(client, "Ecole Ferry")
        _rule(client, jaures.staff_id, ferry, jaures.service_id, 2, "08:30", "12:00")
        appointment = created(client.post("/v1/appointments", json=booking(jaures, at(upcoming(1), "09:00"))))

        moved = _move(client, appointment["id"], start=at(upcoming(2), "08:30"), site_id=ferry)
        assert moved.status_code == 200, moved.text
        body = moved.json()
        assert (body["site_id"], body["staff_id"], body["start"]) == (ferry, jaures.staff_id,
                                                                     at(upcoming(2), "08:30"))


def test_a_move_naming_a_site_without_that_time_is_refused(server: RunningServer) -> None:
    with server.client() as client:
        jaures = programme(client, weekday=1)
        ferry = _site(client, "Ecole Ferry")
        appointment = created(client.post("/v1/appointments", json=booking(jaures, at(upcoming(1), "09:00"))))
        _refused(_move(client, appointment["id"], start=at(upcoming(1), "10:00"), site_id=ferry),
                 "slot-unavailable")
        assert client.get(f"/v1/appointments/{appointment['id']}").json()["site_id"] == jaures.site_id


# --- no family in two places -------------------------------------------------------------------


def test_a_family_cannot_be_booked_with_two_workers_at_once(server: RunningServer) -> None:
    with server.client() as client:
        first_worker, second_worker = programme(client), programme(client)
        day, fam = upcoming(3), family()
        first = created(client.post("/v1/appointments",
                                    json=booking(first_worker, at(day, "09:00"), family=fam)))

        _refused(client.post("/v1/appointments", json=booking(second_worker, at(day, "09:00"), family=fam)),
                 "family-busy")
        # Back to back is not overlapping.
        second = created(client.post("/v1/appointments",
                                     json=booking(second_worker, at(day, "10:00"), family=fam)))
        # Nor can a move put the family in two places.
        _refused(_move(client, second["id"], start=at(day, "09:00")), "family-busy")
        assert client.get(f"/v1/appointments/{second['id']}").json()["start"] == at(day, "10:00")

        # Once the first is cancelled, the time is the family's again.
        assert client.post(f"/v1/appointments/{first['id']}/cancel").status_code == 200
        moved = _move(client, second["id"], start=at(day, "09:00"))
        assert moved.status_code == 200, moved.text


def test_another_family_at_the_same_time_is_not_busy(server: RunningServer) -> None:
    with server.client() as client:
        first_worker, second_worker = programme(client), programme(client)
        day = upcoming(3)
        created(client.post("/v1/appointments", json=booking(first_worker, at(day, "11:00"))))
        created(client.post("/v1/appointments", json=booking(second_worker, at(day, "11:00"))))


def test_a_collective_session_counts_once_and_a_second_one_at_that_time_is_refused(
    server: RunningServer,
) -> None:
    with server.client() as client:
        group, other_group = programme(client, capacity=8), programme(client, capacity=8)
        start, fam = at(upcoming(3), "09:00"), family()
        created(client.post("/v1/appointments", json=booking(group, start, family=fam)))
        # The same family joining the same session again, or another session at that time.
        _refused(client.post("/v1/appointments", json=booking(group, start, family=fam)), "family-busy")
        _refused(client.post("/v1/appointments", json=booking(other_group, start, family=fam)), "family-busy")
        # Other families still join.
        created(client.post("/v1/appointments", json=booking(group, start)))
        created(client.post("/v1/appointments", json=booking(other_group, start)))


def _fifty_workers(client: httpx.Client) -> tuple[Programme, list[str]]:
    """One site and service; fifty staff members, half opening at 09:00 and half at 09:30."""
    prog = programme(client)
    staff = [prog.staff_id]
    for index in range(1, CONCURRENT):
        member = created(client.post("/v1/staff", json={"name": unique("staff"), "role": "psychologist"}))
        start = "09:30" if index % 2 else "09:00"
        _rule(client, member["id"], prog.site_id, prog.service_id, 3, start, "12:00")
        staff.append(member["id"])
    return prog, staff


async def test_fifty_concurrent_bookings_of_one_family_give_exactly_one(two_workers: RunningServer) -> None:
    with two_workers.client() as client:
        prog, staff = _fifty_workers(client)
    day, fam = upcoming(3), family()
    bodies = [booking(prog, at(day, "09:30" if index % 2 else "09:00"), staff_id=member, family=fam)
              for index, member in enumerate(staff)]
    limits = httpx.Limits(max_connections=CONCURRENT, max_keepalive_connections=0)
    async with two_workers.async_client(limits=limits) as client:
        await client.get("/health")
        responses = await asyncio.gather(*(client.post("/v1/appointments", json=body) for body in bodies))
    assert Counter(response.status_code for response in responses) == Counter({201: 1, 409: CONCURRENT - 1})
    refusals = {response.json()["code"] for response in responses if response.status_code == 409}
    assert refusals == {"family-busy"}
    with two_workers.client() as client:
        page = client.get("/v1/appointments", params={"site_id": prog.site_id, "limit": 500}).json()
    listed = page["items"]
    assert len(listed) == 1
    assert listed[0]["family"]["reference"] == fam["reference"]



async def test_twenty_overlapping_rules_of_one_worker_written_at_once_give_exactly_one(
    two_workers: RunningServer,
) -> None:
    with two_workers.client() as client:
        staff = created(client.post("/v1/staff", json={"name": unique("staff"), "role": "psychologist"}))
        service = created(client.post("/v1/services", json={"name": unique("service"),
                                                            "duration_minutes": 30}))
        sites = [_site(client, f"École {index}") for index in range(20)]
    bodies = [{"staff_id": staff["id"], "site_id": site_id, "service_ids": [service["id"]], "weekday": 1,
               "start_time": "08:30", "end_time": "12:00", "valid_from": "2026-01-05"} for site_id in sites]
    limits = httpx.Limits(max_connections=len(bodies), max_keepalive_connections=0)
    async with two_workers.async_client(limits=limits) as client:
        await client.get("/health")
        responses = await asyncio.gather(*(client.post("/v1/availability-rules", json=body)
                                           for body in bodies))
    assert Counter(response.status_code for response in responses) == Counter({201: 1, 422: len(bodies) - 1})
    refusals = {response.json()["code"] for response in responses if response.status_code == 422}
    assert refusals == {"rule-overlap"}
