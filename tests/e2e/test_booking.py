"""Booking through a real server process, on SQLite and PostgreSQL: the v1 contract as written."""

from __future__ import annotations

from datetime import timedelta

import httpx

from tests.support.api import PROBLEM, at, booking, created, family, programme, slot_starts, upcoming
from tests.support.server import RunningServer


def test_free_slots_are_the_weekly_rule_cut_in_service_steps(server: RunningServer) -> None:
    with server.client() as client:
        prog = programme(client, weekday=3, start="09:00", end="12:00", duration=60)
        day = upcoming(3)
        assert slot_starts(client, prog, day) == [at(day, "09:00"), at(day, "10:00"), at(day, "11:00")]
        item = client.get("/v1/slots", params={"service_id": prog.service_id, "from": str(day),
                                               "to": str(day)}).json()["items"][0]
        assert item == {"start": at(day, "09:00"), "end": at(day, "10:00"), "service_id": prog.service_id,
                        "staff_id": prog.staff_id, "site_id": prog.site_id, "remaining": 1}


def test_booking_returns_the_appointment_with_the_phone_in_e164(server: RunningServer) -> None:
    with server.client() as client:
        prog = programme(client)
        day = upcoming(3)
        body = created(client.post("/v1/appointments", json=booking(
            prog, at(day, "10:00"), family=family("PRE-2026-014"), note="premier entretien")))
        assert body["status"] == "booked"
        assert (body["start"], body["end"]) == (at(day, "10:00"), at(day, "11:00"))
        assert (body["service_id"], body["staff_id"], body["site_id"]) == (
            prog.service_id,
            prog.staff_id,
            prog.site_id,
        )
        assert body["family"] == {"reference": "PRE-2026-014", "phone": "+33612345678", "language": "fr",
                                  "sms_consent": True}
        assert body["interpreter"] is None
        assert client.get(f"/v1/appointments/{body['id']}").json() == body
        assert at(day, "10:00") not in slot_starts(client, prog, day)


def test_a_taken_slot_answers_409_slot_unavailable(server: RunningServer) -> None:
    with server.client() as client:
        prog = programme(client)
        start = at(upcoming(3), "09:00")
        created(client.post("/v1/appointments", json=booking(prog, start)))
        second = client.post("/v1/appointments", json=booking(prog, start))
        assert second.status_code == 409
        assert second.headers["content-type"].startswith(PROBLEM)
        assert second.json()["code"] == "slot-unavailable"


def test_times_outside_the_rules_are_not_bookable(server: RunningServer) -> None:
    with server.client() as client:
        prog = programme(client)
        day = upcoming(3)
        for start in (
            at(day, "08:00"),
            at(day, "09:30"),
            at(day, "12:00"),
            at(day + timedelta(days=1), "09:00"),
        ):
            response = client.post("/v1/appointments", json=booking(prog, start))
            assert (response.status_code, response.json()["code"]) == (409, "slot-unavailable"), start


def test_any_free_staff_member_is_chosen_when_none_is_named(server: RunningServer) -> None:
    with server.client() as client:
        first = programme(client)
        second_staff = created(client.post("/v1/staff", json={"name": "second", "role": "psychologist"}))
        created(client.post("/v1/availability-rules", json={
            "staff_id": second_staff["id"], "site_id": first.site_id, "service_ids": [first.service_id],
            "weekday": 3, "start_time": "09:00", "end_time": "12:00", "valid_from": "2026-01-01"}))
        start = at(upcoming(3), "09:00")
        staff = {
            created(client.post("/v1/appointments", json=booking(first, start)))["staff_id"] for _ in range(2)
        }
        assert staff == {first.staff_id, second_staff["id"]}
        third = client.post("/v1/appointments", json=booking(first, start))
        assert third.status_code == 409


def test_idempotency_key_replays_the_first_response_and_creates_nothing(server: RunningServer) -> None:
    with server.client() as client:
        prog = programme(client)
        body = booking(prog, at(upcoming(3), "09:00"))
        first = client.post("/v1/appointments", json=body, headers={"Idempotency-Key": "k-1"})
        again = client.post("/v1/appointments", json=body, headers={"Idempotency-Key": "k-1"})
        assert (first.status_code, again.status_code) == (201, 201)
        assert again.json() == first.json()
        listed = client.get("/v1/appointments", params={"staff_id": prog.staff_id}).json()["items"]
        assert [item["id"] for item in listed] == [first.json()["id"]]
        other = client.post("/v1/appointments", json=booking(prog, at(upcoming(3), "10:00")),
                            headers={"Idempotency-Key": "k-1"})
        assert (other.status_code, other.json()["code"]) == (422, "idempotency-key-reused")
        assert len(client.get("/v1/appointments", params={"staff_id": prog.staff_id}).json()["items"]) == 1


def test_cancel_frees_the_slot_and_cancelling_twice_is_not_an_error(server: RunningServer) -> None:
    with server.client() as client:
        prog = programme(client)
        day = upcoming(3)
        appointment = created(client.post("/v1/appointments", json=booking(prog, at(day, "09:00"))))
        for _ in range(2):
            response = client.post(f"/v1/appointments/{appointment['id']}/cancel", json={"reason": "malade"})
            assert response.status_code == 200
            assert response.json()["status"] == "cancelled"
        assert at(day, "09:00") in slot_starts(client, prog, day)
        created(client.post("/v1/appointments", json=booking(prog, at(day, "09:00"))))


def test_reschedule_keeps_the_id_and_frees_the_old_time(server: RunningServer) -> None:
    with server.client() as client:
        prog = programme(client)
        day = upcoming(3)
        appointment = created(client.post("/v1/appointments", json=booking(prog, at(day, "09:00"))))
        moved = client.post(
            f"/v1/appointments/{appointment['id']}/reschedule", json={"start": at(day, "11:00")}
        )
        assert moved.status_code == 200, moved.text
        assert (moved.json()["id"], moved.json()["start"], moved.json()["end"]) == (
            appointment["id"], at(day, "11:00"), at(day, "12:00"))
        assert slot_starts(client, prog, day) == [at(day, "09:00"), at(day, "10:00")]


def test_reschedule_onto_a_taken_slot_fails_and_changes_nothing(server: RunningServer) -> None:
    with server.client() as client:
        prog = programme(client)
        day = upcoming(3)
        mine = created(client.post("/v1/appointments", json=booking(prog, at(day, "09:00"))))
        created(client.post("/v1/appointments", json=booking(prog, at(day, "10:00"))))
        refused = client.post(f"/v1/appointments/{mine['id']}/reschedule", json={"start": at(day, "10:00")})
        assert (refused.status_code, refused.json()["code"]) == (409, "slot-unavailable")
        assert client.get(f"/v1/appointments/{mine['id']}").json()["start"] == at(day, "09:00")
        assert slot_starts(client, prog, day) == [at(day, "11:00")]


def test_outcome_is_recorded_only_once_the_appointment_started(server: RunningServer) -> None:
    with server.client() as client:
        prog = programme(client)
        appointment = created(client.post("/v1/appointments", json=booking(prog, at(upcoming(3), "09:00"))))
        early = client.post(f"/v1/appointments/{appointment['id']}/outcome", json={"status": "attended"})
        assert (early.status_code, early.json()["code"]) == (409, "appointment-closed")
        wrong = client.post(f"/v1/appointments/{appointment['id']}/outcome", json={"status": "cancelled"})
        assert (wrong.status_code, wrong.json()["code"]) == (422, "validation-error")


def test_collective_session_lists_remaining_places(server: RunningServer) -> None:
    with server.client() as client:
        prog = programme(client, weekday=2, start="18:00", end="20:00", duration=120, capacity=8)
        day = upcoming(2)
        for _ in range(3):
            created(client.post("/v1/appointments", json=booking(prog, at(day, "18:00"))))
        slots = client.get("/v1/slots", params={"service_id": prog.service_id, "from": str(day),
                                                "to": str(day)}).json()["items"]
        assert [(slot["start"], slot["remaining"]) for slot in slots] == [(at(day, "18:00"), 5)]


def test_appointment_list_filters_and_pages(server: RunningServer) -> None:
    with server.client() as client:
        prog = programme(client, start="09:00", end="13:00")
        day = upcoming(3)
        ids = [created(client.post("/v1/appointments", json=booking(prog, at(day, hhmm))))["id"]
               for hhmm in ("09:00", "10:00", "11:00", "12:00")]
        client.post(f"/v1/appointments/{ids[1]}/cancel")
        seen: list[str] = []
        cursor = None
        while True:
            params = {"staff_id": prog.staff_id, "limit": 3, **({"cursor": cursor} if cursor else {})}
            page = client.get("/v1/appointments", params=params).json()
            seen += [item["id"] for item in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert seen == ids
        booked = client.get("/v1/appointments", params={"staff_id": prog.staff_id, "status": "booked"}).json()
        assert [item["id"] for item in booked["items"]] == [ids[0], ids[2], ids[3]]
        dated = client.get("/v1/appointments", params={"staff_id": prog.staff_id, "from": str(day),
                                                       "to": str(day)}).json()
        assert len(dated["items"]) == 4


def test_appointments_filter_by_family_service_and_change_time(server: RunningServer) -> None:
    with server.client() as client:
        prog = programme(client, start="09:00", end="13:00")
        day = upcoming(3)
        mine = created(client.post("/v1/appointments",
                                   json=booking(prog, at(day, "09:00"), attendees="parents")))
        other = created(client.post("/v1/appointments", json=booking(prog, at(day, "10:00"))))
        cancelled = client.post(f"/v1/appointments/{other['id']}/cancel",
                                json={"reason": "déménagement"}).json()

        def ids(**params: str) -> list[str]:
            response = client.get("/v1/appointments", params=params)
            assert response.status_code == 200, response.text
            return [item["id"] for item in response.json()["items"]]

        assert ids(family_reference=mine["family"]["reference"]) == [mine["id"]]
        assert ids(service_id=prog.service_id) == [mine["id"], other["id"]]
        assert ids(service_id=prog.service_id, updated_since=cancelled["updated_at"]) == [other["id"]]
        # A "+" left unencoded arrives as a space: still the offset it meant.
        raw = client.get(f"/v1/appointments?service_id={prog.service_id}&updated_since="
                         + cancelled["updated_at"])
        assert [item["id"] for item in raw.json()["items"]] == [other["id"]]
        naive = client.get("/v1/appointments", params={"updated_since": cancelled["updated_at"][:19]})
        assert (naive.status_code, naive.json()["code"]) == (422, "validation-error")
    assert (cancelled["cancelled_by"], cancelled["cancel_reason"]) == ("api", "déménagement")
    assert cancelled["cancelled_at"] == cancelled["updated_at"]
    assert (mine["cancelled_at"], mine["cancelled_by"], mine["attendees"], mine["pathway_id"]) == (
        None, None, "parents", None)
    assert other["attendees"] is None


def test_an_unknown_query_parameter_is_422_on_every_endpoint(server: RunningServer) -> None:
    with server.client() as client:
        prog = programme(client)
        asked = {
            "/v1/appointments": {"stafff_id": prog.staff_id},
            "/v1/slots": {"service_id": prog.service_id, "from": str(upcoming(3)), "to": str(upcoming(3)),
                          "staf_id": "x"},
            f"/v1/sites/{prog.site_id}": {"expand": "staff"},
            "/v1/events": {"since": "0"},
        }
        answers = {path: client.get(path, params=params) for path, params in asked.items()}
        known = client.get("/v1/appointments", params={"staff_id": prog.staff_id, "from": str(upcoming(3))})
    for path, response in answers.items():
        assert response.status_code == 422, (path, response.text)
        assert response.headers["content-type"].startswith(PROBLEM)
        [unknown] = [name for name in asked[path] if name in response.json()["detail"]
                     and name not in ("service_id", "from", "to")]
        assert response.json()["code"] == "validation-error" and unknown
    assert known.status_code == 200


def test_slot_pages_follow_the_cursor(server: RunningServer) -> None:
    with server.client() as client:
        prog = programme(client, start="09:00", end="12:00")
        first, last = upcoming(3), upcoming(3, weeks_ahead=3)
        every = slot_starts(client, prog, first, last)
        assert len(every) == 9
        paged: list[str] = []
        params: dict[str, str | int] = {"service_id": prog.service_id, "from": str(first), "to": str(last),
                                        "limit": 4}
        while True:
            page = client.get("/v1/slots", params=params).json()
            paged += [item["start"] for item in page["items"]]
            if page["next_cursor"] is None:
                break
            params["cursor"] = page["next_cursor"]
        assert paged == every


def test_health_and_openapi(server: RunningServer) -> None:
    health = httpx.get(server.base_url + "/health")
    assert health.status_code == 200
    assert health.json()["status"] == "ok"
    spec = httpx.get(server.base_url + "/schema/openapi.json").json()
    for path in ("/v1/slots", "/v1/appointments", "/v1/appointments/{appointment_id}/cancel", "/v1/sites",
                 "/v1/availability-rules", "/v1/absences", "/v1/api-keys", "/health"):
        assert path in spec["paths"], path
