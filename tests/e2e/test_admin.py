"""Setting up through the admin API: create, read, list, change, delete, and in-use refusals."""

from __future__ import annotations

import httpx
import pytest

from tests.support.api import PROBLEM, at, booking, created, family, programme, slot_starts, upcoming
from tests.support.server import RunningServer

SITE = {
    "name": "École Jean-Jaurès",
    "kind": "school",
    "address": "3 rue des Écoles",
    "timezone": "Europe/Paris",
    "school_zone": "A",
    "public_label": "École Jean-Jaurès",
}


def test_created_objects_echo_their_fields_with_an_id(server: RunningServer) -> None:
    with server.client() as client:
        site = created(client.post("/v1/sites", json=SITE))
        assert {key: site[key] for key in SITE} == SITE and site["id"]
        staff = created(
            client.post("/v1/staff", json={"name": "AS 1", "role": "social_worker", "phone": None})
        )
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
        absence = created(
            client.post(
                "/v1/absences",
                json={
                    "staff_id": prog.staff_id,
                    "start": at(day, "09:00"),
                    "end": at(day, "10:30"),
                    "reason": "formation",
                },
            )
        )
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


def _refused(response: httpx.Response, code: str = "validation-error") -> None:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    assert response.json()["code"] == code


def test_a_rule_cannot_end_before_it_starts_by_create_or_patch(server: RunningServer) -> None:
    with server.client() as client:
        prog = programme(client, valid_from="2026-09-01")
        rule = client.get(f"/v1/availability-rules/{prog.rule_id}").json()
        body = {key: rule[key] for key in ("staff_id", "site_id", "service_ids", "weekday", "start_time",
                                           "end_time")}
        _refused(client.post("/v1/availability-rules", json={**body, "valid_from": "2026-09-01",
                                                             "valid_until": "2026-08-31"}))
        _refused(client.patch(f"/v1/availability-rules/{prog.rule_id}", json={"valid_until": "2026-08-31"}))
        assert client.get(f"/v1/availability-rules/{prog.rule_id}").json() == rule
        day = upcoming(3)
        response = client.get(
            "/v1/slots", params={"service_id": prog.service_id, "from": str(day), "to": str(day)}
        )
        assert response.status_code == 200 and len(response.json()["items"]) == 3
        assert client.patch(f"/v1/availability-rules/{prog.rule_id}",
                            json={"valid_until": "2026-09-01"}).status_code == 200


def test_a_patched_absence_or_opening_must_still_end_after_it_starts(server: RunningServer) -> None:
    with server.client() as client:
        prog = programme(client)
        day = upcoming(5)
        absence = created(
            client.post(
                "/v1/absences",
                json={"staff_id": prog.staff_id, "start": at(day, "09:00"), "end": at(day, "10:00")},
            )
        )
        opening = created(client.post("/v1/openings", json={
            "staff_id": prog.staff_id, "site_id": prog.site_id, "service_ids": [prog.service_id],
            "start": at(day, "14:00"), "end": at(day, "16:00")}))
        for path, row in (("absences", absence), ("openings", opening)):
            before = client.get(f"/v1/{path}/{row['id']}").json()
            _refused(client.patch(f"/v1/{path}/{row['id']}", json={"end": at(day, "08:00")}))
            _refused(client.patch(f"/v1/{path}/{row['id']}", json={"start": at(day, "18:00")}))
            _refused(client.patch(f"/v1/{path}/{row['id']}", json={"start": at(day, "12:00")[:19]}))
            assert client.get(f"/v1/{path}/{row['id']}").json() == before
        moved = client.patch(f"/v1/openings/{opening['id']}", json={"end": at(day, "17:00")})
        assert moved.status_code == 200, moved.text
        assert slot_starts(client, prog, day) == [at(day, "14:00"), at(day, "15:00"), at(day, "16:00")]
        assert (
            client.patch(f"/v1/absences/{absence['id']}", json={"reason": "formation"}).json()["reason"]
            == "formation"
        )
        assert (
            client.patch(f"/v1/openings/{opening['id']}", json={"service_ids": ["nope"]}).status_code == 404
        )


def test_a_school_needs_its_zone_on_create_and_after_a_patch(server: RunningServer) -> None:
    with server.client() as client:
        _refused(client.post("/v1/sites", json={**SITE, "school_zone": None}))
        _refused(
            client.post("/v1/sites", json={key: value for key, value in SITE.items() if key != "school_zone"})
        )
        school = created(client.post("/v1/sites", json=SITE))
        _refused(client.patch(f"/v1/sites/{school['id']}", json={"school_zone": None}))
        office = created(client.post("/v1/sites", json={**SITE, "kind": "office", "school_zone": None}))
        _refused(client.patch(f"/v1/sites/{office['id']}", json={"kind": "school"}))
        assert client.get(f"/v1/sites/{school['id']}").json()["school_zone"] == "A"
        assert client.get(f"/v1/sites/{office['id']}").json()["kind"] == "office"
        # Overseas académies have their own calendar, outside zones A-C.
        created(client.post("/v1/sites", json={**SITE, "timezone": "Indian/Reunion", "school_zone": None}))


@pytest.mark.parametrize(("path", "body"), [
    ("/v1/sites", {**SITE, "kind": "office", "school_zone": None}),
    ("/v1/staff", {"name": "AS 2", "role": "social_worker"}),
])
def test_site_and_staff_phones_are_checked_and_kept_in_e164(server: RunningServer, path: str,
                                                             body: dict[str, object]) -> None:
    with server.client() as client:
        for phone, e164 in (("01 43 94 33 00", "+33143943300"), ("+44 20 7946 0958", "+442079460958"),
                            ("0262 40 00 00", "+262262400000"), ("06 12 34 56 78", "+33612345678")):
            assert created(client.post(path, json={**body, "phone": phone}))["phone"] == e164
        row = created(client.post(path, json=body))
        for phone in ("appelez l'accueil", "01 43 94", "+33 1 23", "0000000000"):
            response = client.post(path, json={**body, "phone": phone})
            _refused(response, "invalid-phone")
            assert phone not in response.text
            _refused(client.patch(f"{path}/{row['id']}", json={"phone": phone}), "invalid-phone")
        assert client.get(f"{path}/{row['id']}").json()["phone"] is None
        assert (
            client.patch(f"{path}/{row['id']}", json={"phone": "01 43 94 33 00"}).json()["phone"]
            == "+33143943300"
        )


@pytest.mark.parametrize("code", ["und", "mul", "zxx", "mis", "qaa", "qtz", "QAB"])
def test_special_and_local_use_language_codes_are_422(server: RunningServer, code: str) -> None:
    with server.client() as client:
        prog = programme(client)
        _refused(client.post("/v1/interpreters", json={"name": "I", "languages": ["ar", code]}))
        _refused(client.post("/v1/appointments", json=booking(prog, at(upcoming(3), "09:00"),
                                                               family=family(language=code))))
        _refused(client.post("/v1/appointments", json=booking(prog, at(upcoming(3), "09:00"),
                                                               interpreter_language=code)))
        day = str(upcoming(3))
        _refused(client.get("/v1/slots", params={"service_id": prog.service_id, "from": day, "to": day,
                                                 "interpreter_language": code}))
        assert client.get("/v1/appointments", params={"staff_id": prog.staff_id}).json()["items"] == []


def test_openings_can_be_read_one_by_one(server: RunningServer) -> None:
    with server.client() as client:
        prog = programme(client)
        day = upcoming(4)
        opening = created(client.post("/v1/openings", json={
            "staff_id": prog.staff_id, "site_id": prog.site_id, "service_ids": [prog.service_id],
            "start": at(day, "14:00"), "end": at(day, "15:00")}))
        found = client.get(f"/v1/openings/{opening['id']}")
        assert found.status_code == 200 and found.json()["service_ids"] == [prog.service_id]
        assert client.get("/v1/openings/nope").status_code == 404


def test_an_api_key_can_be_read_and_changed_but_never_shows_its_secret(server: RunningServer) -> None:
    with server.client() as client:
        made = created(client.post("/v1/api-keys", json={"name": "outil", "scopes": ["slots:read"]}))
        read = client.get(f"/v1/api-keys/{made['id']}")
        unlimited = {"site_ids": None, "expires_at": None, "last_used_at": None}
        assert read.status_code == 200 and read.json() == {
            "id": made["id"],
            "name": "outil",
            "scopes": ["slots:read"],
            **unlimited,
        }
        changed = client.patch(f"/v1/api-keys/{made['id']}", json={
            "name": "outil v2", "scopes": ["appointments:write", "slots:read", "slots:read"]})
        assert changed.json() == {"id": made["id"], "name": "outil v2",
                                  "scopes": ["appointments:write", "slots:read"], **unlimited}
        for response in (read, changed):
            assert made["key"] not in response.text and "hash" not in response.text
        _refused(client.patch(f"/v1/api-keys/{made['id']}", json={"scopes": ["root"]}))
        _refused(client.patch(f"/v1/api-keys/{made['id']}", json={"scopes": None}))
        _refused(client.patch(f"/v1/api-keys/{made['id']}", json={"key": "mine"}))
    with server.client(made["key"]) as own:
        assert own.get("/v1/appointments").status_code == 200  # the new scope, within the cache's 5 s
    with server.client() as client:
        assert client.delete(f"/v1/api-keys/{made['id']}").status_code == 204
        assert client.get(f"/v1/api-keys/{made['id']}").status_code == 404
        assert client.patch(f"/v1/api-keys/{made['id']}", json={"name": "x"}).status_code == 404
