"""An absence is answered in its owner's zone: a staff member's site's, an interpreter's own."""

from __future__ import annotations

from tests.support.api import at, created, programme, unique, upcoming
from tests.support.server import RunningServer


def test_a_staff_absence_reads_back_in_the_site_zone(server: RunningServer) -> None:
    with server.client() as client:
        prog = programme(client, zone="Indian/Reunion")
        day = upcoming(3, zone="Indian/Reunion")
        absence = created(client.post("/v1/absences", json={
            "staff_id": prog.staff_id, "start": f"{day}T08:00:00+01:00", "end": f"{day}T10:00:00+01:00"}))
        # Written in Paris's winter offset, read in Réunion's (+04:00): the same instants.
        assert (absence["start"], absence["end"]) == (at(day, "11:00", "Indian/Reunion"),
                                                      at(day, "13:00", "Indian/Reunion"))
        assert client.get(f"/v1/absences/{absence['id']}").json() == absence
        listed = client.get("/v1/absences", params={"staff_id": prog.staff_id}).json()["items"]
        assert listed == [absence]
        moved = client.patch(f"/v1/absences/{absence['id']}", json={"end": f"{day}T11:00:00+01:00"}).json()
        assert moved["end"] == at(day, "14:00", "Indian/Reunion")


def test_an_interpreter_absence_reads_back_in_the_interpreter_zone(server: RunningServer) -> None:
    with server.client() as client:
        interpreter = created(client.post("/v1/interpreters", json={
            "name": unique("interprète"), "languages": ["ar"], "timezone": "America/Cayenne"}))
        absence = created(client.post("/v1/absences", json={
            "interpreter_id": interpreter["id"], "start": "2026-12-02T09:00:00+01:00",
            "end": "2026-12-02T12:00:00+01:00"}))
        assert (absence["start"], absence["end"]) == (
            "2026-12-02T05:00:00-03:00", "2026-12-02T08:00:00-03:00")
