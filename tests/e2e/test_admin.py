"""Setting up through the admin API: create, read, list, change, delete, and in-use refusals."""

from __future__ import annotations

from tests.support.api import at, booking, created, programme, upcoming
from tests.support.server import RunningServer

SITE = {"name": "École Jean-Jaurès", "kind": "school", "address": "3 rue des Écoles", "timezone": "Europe/Paris",
        "school_zone": "A", "public_label": "École Jean-Jaurès"}


def test_created_objects_echo_their_fields_with_an_id(server: RunningServer) -> None:
    with server.client() as client:
        site = created(client.post("/v1/sites", json=SITE))
        assert {key: site[key] for key in SITE} == SITE and site["id"]
        staff = created(client.post("/v1/staff", json={"name": "AS 1", "role": "social_worker", "phone": None}))
        assert (staff["name"], staff["role"], staff["phone"]) == ("AS 1", "social_worker", None)
        service = created(client.post("/v1/services", json={"name": "Permanence", "duration_minutes": 30}))
        assert (service["capacity"], service["min_notice_minutes"], service["horizon_days"],
                service["reminder_offsets_minutes"]) == (1, 0, 92, None)
        rule = created(client.post("/v1/availability-rules", json={
            "staff_id": staff["id"], "site_id": site["id"], "service_ids": [service["id"]], "weekday": 1,
            "start_time": "08:30", "end_time": "11:30", "valid_from": "2026-09-01",
            "follows_school_calendar": True}))
        assert (rule["start_time"], rule["end_time"], rule["valid_until"], rule["service_ids"]) == (
            "08:30", "11:30", None, [service["id"]])
        for path, ident in (("sites", site["id"]), ("staff", staff["id"]), ("services", service["id"]),
                            ("availability-rules", rule["id"])):
            assert client.get(f"/v1/{path}/{ident}").json()["id"] == ident
            assert ident in [item["id"] for item in _all(client, f"/v1/{path}")]


def _all(client: object, path: str) -> list[dict[str, object]]:
    items: list[dict[str, object]] = []
    cursor = None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = client.get(path, params=params).json()  # type: ignore[attr-defined]
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items


def test_patch_changes_only_the_given_fields(server: RunningServer) -> None:
    with server.client() as client:
        site = created(client.post("/v1/sites", json=SITE))
        changed = client.patch(f"/v1/sites/{site['id']}", json={"public_label": "Jean-Jaurès, salle 2"})
        assert changed.status_code == 200
        assert {**site, "public_label": "Jean-Jaurès, salle 2"} == changed.json()


def test_ending_a_rule_removes_its_later_slots(server: RunningServer) -> None:
    with server.client() as client:
        prog = programme(client)
        first, later = upcoming(3), upcoming(3, weeks_ahead=2)
        client.patch(f"/v1/availability-rules/{prog.rule_id}", json={"valid_until": str(first)})
        slots = client.get("/v1/slots", params={"service_id": prog.service_id, "from": str(first),
                                                "to": str(later)}).json()["items"]
        assert {item["start"][:10] for item in slots} == {str(first)}


def test_an_absence_removes_the_slots_it_covers(server: RunningServer) -> None:
    with server.client() as client:
        prog = programme(client)
        day = upcoming(3)
        absence = created(client.post("/v1/absences", json={"staff_id": prog.staff_id, "start": at(day, "09:00"),
                                                             "end": at(day, "10:30"), "reason": "formation"}))
        starts = [item["start"] for item in client.get("/v1/slots", params={
            "service_id": prog.service_id, "from": str(day), "to": str(day)}).json()["items"]]
        assert starts == [at(day, "11:00")]
        assert client.delete(f"/v1/absences/{absence['id']}").status_code == 204
        assert len(client.get("/v1/slots", params={"service_id": prog.service_id, "from": str(day),
                                                   "to": str(day)}).json()["items"]) == 3


def test_an_extra_opening_adds_slots(server: RunningServer) -> None:
    with server.client() as client:
        prog = programme(client)
        day = upcoming(5)
        created(client.post("/v1/openings", json={"staff_id": prog.staff_id, "site_id": prog.site_id,
                                                  "service_ids": [prog.service_id], "start": at(day, "14:00"),
                                                  "end": at(day, "16:00")}))
        starts = [item["start"] for item in client.get("/v1/slots", params={
            "service_id": prog.service_id, "from": str(day), "to": str(day)}).json()["items"]]
        assert starts == [at(day, "14:00"), at(day, "15:00")]


def test_deleting_what_a_future_appointment_needs_is_409_in_use(server: RunningServer) -> None:
    with server.client() as client:
        prog = programme(client)
        appointment = created(client.post("/v1/appointments", json=booking(prog, at(upcoming(3), "09:00"))))
        for path, ident in (("sites", prog.site_id), ("staff", prog.staff_id), ("services", prog.service_id)):
            response = client.delete(f"/v1/{path}/{ident}")
            assert (response.status_code, response.json()["code"]) == (409, "in-use"), path
        client.post(f"/v1/appointments/{appointment['id']}/cancel")
        assert client.delete(f"/v1/availability-rules/{prog.rule_id}").status_code == 204
        unused = created(client.post("/v1/staff", json={"name": "temporary", "role": "other"}))
        assert client.delete(f"/v1/staff/{unused['id']}").status_code == 204
        assert client.get(f"/v1/staff/{unused['id']}").status_code == 404


def test_site_in_overseas_zone_answers_in_its_own_offset(server: RunningServer) -> None:
    with server.client() as client:
        prog = programme(client, zone="Indian/Reunion")
        day = upcoming(3, zone="Indian/Reunion")
        items = client.get("/v1/slots", params={"service_id": prog.service_id, "from": str(day),
                                                "to": str(day)}).json()["items"]
        assert [item["start"] for item in items] == [f"{day}T09:00:00+04:00", f"{day}T10:00:00+04:00",
                                                      f"{day}T11:00:00+04:00"]
