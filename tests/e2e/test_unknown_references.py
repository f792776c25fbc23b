"""A staff member or site that does not exist is a 404, in searches and in bookings, not an empty answer."""

from __future__ import annotations

import pytest

from tests.support.api import PROBLEM, Programme, at, booking, programme, upcoming
from tests.support.server import RunningServer


@pytest.fixture(scope="module")
def prog(server: RunningServer) -> Programme:
    with server.client() as client:
        return programme(client)


@pytest.mark.parametrize("field", ["staff_id", "site_id"])
def test_slots_of_an_unknown_staff_member_or_site_are_404(
    server: RunningServer, prog: Programme, field: str
) -> None:
    day = str(upcoming(3))
    with server.client() as client:
        response = client.get("/v1/slots", params={"service_id": prog.service_id, "from": day, "to": day,
                                                   field: "no-such-id"})
    assert response.status_code == 404, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    assert response.json()["code"] == "not-found"


@pytest.mark.parametrize(("field", "hhmm"), [("staff_id", "09:00"), ("site_id", "10:00")])
def test_booking_with_an_unknown_staff_member_or_site_is_404_and_books_nothing(
    server: RunningServer, prog: Programme, field: str, hhmm: str
) -> None:
    start = at(upcoming(3), hhmm)
    with server.client() as client:
        response = client.post("/v1/appointments", json={**booking(prog, start), field: "no-such-id"})
        assert response.status_code == 404, response.text
        assert response.json()["code"] == "not-found"
        # The slot is still free: the same booking without the unknown reference succeeds.
        assert client.post("/v1/appointments", json=booking(prog, start)).status_code == 201


def test_a_known_staff_member_with_no_free_slot_is_an_empty_page(
    server: RunningServer, prog: Programme
) -> None:
    sunday = str(upcoming(7))
    with server.client() as client:
        response = client.get(
            "/v1/slots",
            params={
                "service_id": prog.service_id,
                "from": sunday,
                "to": sunday,
                "staff_id": prog.staff_id,
                "site_id": prog.site_id,
            },
        )
    assert response.status_code == 200, response.text
    assert response.json() == {"items": [], "next_cursor": None}
