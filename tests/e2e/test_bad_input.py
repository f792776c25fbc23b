"""Bad input gets a 4xx problem+json with a stable code, leaks nothing, and changes nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest

from tests.support.api import PROBLEM, Programme, at, booking, family, programme, upcoming
from tests.support.server import RunningServer

PHONE_DIGITS = ("612345678", "0612345678", "06 12 34 56 78", "0142685300", "+33")


@pytest.fixture(scope="module")
def prog(server: RunningServer) -> Programme:
    with server.client() as client:
        return programme(client)


def _assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = response.json()
    assert {"type", "title", "status", "detail", "code"} <= body.keys()
    assert (body["status"], body["code"]) == (status, code)
    text = response.text
    assert "Traceback" not in text and "SELECT" not in text and "sqlalchemy" not in text.lower()
    return body


def _count(client: httpx.Client, prog: Programme) -> int:
    return len(
        client.get("/v1/appointments", params={"staff_id": prog.staff_id, "limit": 500}).json()["items"]
    )


BAD_BOOKINGS = {
    "naive_start": lambda p, d: booking(p, at(d, "09:00")[:19]),
    "start_not_a_date": lambda p, d: booking(p, "mercredi prochain"),
    "missing_family": lambda p, d: {"service_id": p.service_id, "start": at(d, "09:00")},
    "unknown_field": lambda p, d: {**booking(p, at(d, "09:00")), "staf_id": "x"},
    "unknown_language": lambda p, d: booking(p, at(d, "09:00"), family=family(language="xx")),
    "three_letter_for_two": lambda p, d: booking(p, at(d, "09:00"), family=family(language="fra")),
    "bad_reference": lambda p, d: booking(p, at(d, "09:00"), family=family(reference="Dupont Marie <x>")),
    "consent_not_bool": lambda p, d: booking(p, at(d, "09:00"), family=family(sms_consent="peut-être")),
}


@pytest.mark.parametrize("case", BAD_BOOKINGS)
def test_malformed_bookings_are_422_and_book_nothing(
    server: RunningServer, prog: Programme, case: str
) -> None:
    with server.client() as client:
        before = _count(client, prog)
        body = BAD_BOOKINGS[case](prog, upcoming(3))
        _assert_problem(client.post("/v1/appointments", json=body), 422, "validation-error")
        assert _count(client, prog) == before


# A landline or VoIP number ("01 42 68 53 00", "+33 9 70 12 34 56") is a valid phone: accepted and
# never texted (tests/e2e/test_landlines_and_home_visits.py).
@pytest.mark.parametrize("phone", ["06 12 34", "not a phone", "07 00 12 34 56", "+33 1 23"])
def test_invalid_phones_are_invalid_phone(
    server: RunningServer, prog: Programme, phone: str
) -> None:
    with server.client() as client:
        response = client.post("/v1/appointments", json=booking(prog, at(upcoming(3), "09:00"),
                                                                 family=family(phone=phone)))
        body = _assert_problem(response, 422, "invalid-phone")
        assert phone not in response.text
        assert not any(digits in body["detail"] for digits in PHONE_DIGITS)


def test_overseas_national_mobile_is_accepted(server: RunningServer, prog: Programme) -> None:
    with server.client() as client:
        response = client.post("/v1/appointments", json=booking(prog, at(upcoming(3, weeks_ahead=5), "11:00"),
                                                                 family=family(phone="0692 12 34 56")))
        assert response.status_code == 201, response.text
        assert response.json()["family"]["phone"] == "+262692123456"


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"from": "2026-12-10", "to": "2026-12-01"}, "validation-error"),
        ({"from": "2026-12-01", "to": "2027-03-15"}, "validation-error"),
        ({"from": "01/12/2026", "to": "2026-12-01"}, "validation-error"),
        ({"from": "2026-12-01"}, "validation-error"),
        ({"from": "2026-12-01", "to": "2026-12-02", "limit": "0"}, "validation-error"),
        ({"from": "2026-12-01", "to": "2026-12-02", "limit": "501"}, "validation-error"),
        ({"from": "2026-12-01", "to": "2026-12-02", "cursor": "not-ours"}, "validation-error"),
        # Two parts, as ours have, but not an instant: base64url("yesterday|staff").
        ({"from": "2026-12-01", "to": "2026-12-02", "cursor": "eWVzdGVyZGF5fHN0YWZm"}, "validation-error"),
        ({"from": "2026-12-01", "to": "2026-12-02", "interpreter_language": "zz"}, "validation-error"),
    ],
    ids=["to_before_from", "over_92_days", "not_iso_date", "missing_to", "limit_zero", "limit_over_500",
         "foreign_cursor", "forged_cursor", "unknown_interpreter_language"],
)
def test_bad_slot_queries_are_422(
    server: RunningServer, prog: Programme, params: dict[str, str], code: str
) -> None:
    with server.client() as client:
        response = client.get("/v1/slots", params={"service_id": prog.service_id, **params})
        _assert_problem(response, 422, code)


def test_unknown_ids_are_404(server: RunningServer, prog: Programme) -> None:
    with server.client() as client:
        day = str(upcoming(3))
        _assert_problem(client.get("/v1/slots", params={"service_id": "nope", "from": day, "to": day}), 404,
                        "not-found")
        _assert_problem(client.get("/v1/appointments/nope"), 404, "not-found")
        _assert_problem(client.post("/v1/appointments/nope/cancel"), 404, "not-found")
        _assert_problem(client.post("/v1/appointments", json={**booking(prog, at(upcoming(3), "09:00")),
                                                              "service_id": "nope"}), 404, "not-found")
        _assert_problem(
            client.post(
                "/v1/absences",
                json={"staff_id": "nope", "start": at(upcoming(3), "09:00"), "end": at(upcoming(3), "10:00")},
            ),
            404,
            "not-found",
        )
        _assert_problem(client.get("/v1/no-such-thing"), 404, "not-found")


def test_wrong_content_type_is_415(server: RunningServer, prog: Programme) -> None:
    with server.client() as client:
        response = client.post("/v1/appointments", content=b"service_id=x", headers={
            "Content-Type": "application/x-www-form-urlencoded"})
        _assert_problem(response, 415, "unsupported-media-type")


def test_malformed_json_is_422(server: RunningServer) -> None:
    with server.client() as client:
        response = client.post(
            "/v1/sites", content=b'{"name": ', headers={"Content-Type": "application/json"}
        )
        _assert_problem(response, 422, "validation-error")


def test_oversized_body_is_413(server: RunningServer, prog: Programme) -> None:
    with server.client() as client:
        body = booking(prog, at(upcoming(3), "09:00"), note="x" * 100_000)
        _assert_problem(client.post("/v1/appointments", json=body), 413, "payload-too-large")


def test_wrong_method_is_405(server: RunningServer) -> None:
    with server.client() as client:
        _assert_problem(client.put("/v1/slots"), 405, "method-not-allowed")


def test_bad_admin_input_is_422(server: RunningServer, prog: Programme) -> None:
    with server.client() as client:
        cases = [
            ("/v1/sites", {"name": "x", "kind": "castle", "public_label": "x"}),
            ("/v1/sites", {"name": "x", "kind": "office", "public_label": "x", "timezone": "Mars/Olympus"}),
            ("/v1/sites", {"name": "x", "kind": "school", "public_label": "x", "school_zone": "D"}),
            ("/v1/staff", {"name": "", "role": "psychologist"}),
            ("/v1/services", {"name": "x", "duration_minutes": 0}),
            ("/v1/services", {"name": "x", "duration_minutes": 60, "capacity": -1}),
            ("/v1/availability-rules", {"staff_id": prog.staff_id, "site_id": prog.site_id,
                                        "service_ids": [prog.service_id], "weekday": 8, "start_time": "09:00",
                                        "end_time": "12:00", "valid_from": "2026-09-01"}),
            ("/v1/availability-rules", {"staff_id": prog.staff_id, "site_id": prog.site_id,
                                        "service_ids": [prog.service_id], "weekday": 3, "start_time": "12:00",
                                        "end_time": "09:00", "valid_from": "2026-09-01"}),
            ("/v1/availability-rules", {"staff_id": prog.staff_id, "site_id": prog.site_id,
                                        "service_ids": [prog.service_id], "weekday": 3, "start_time": "9h",
                                        "end_time": "12:00", "valid_from": "2026-09-01"}),
            ("/v1/absences", {"staff_id": prog.staff_id, "start": "2026-12-02T09:00:00",
                              "end": "2026-12-02T10:00:00"}),
            ("/v1/absences", {"staff_id": prog.staff_id, "start": "2026-12-02T10:00:00+01:00",
                              "end": "2026-12-02T09:00:00+01:00"}),
            ("/v1/api-keys", {"name": "x", "scopes": ["root"]}),
        ]
        for path, body in cases:
            _assert_problem(client.post(path, json=body), 422, "validation-error")
        _assert_problem(
            client.patch(f"/v1/sites/{prog.site_id}", json={"timezone": None}), 422, "validation-error"
        )


def test_reschedule_without_offset_is_422_and_moves_nothing(server: RunningServer, prog: Programme) -> None:
    with server.client() as client:
        day = upcoming(3, weeks_ahead=2)
        appointment = client.post("/v1/appointments", json=booking(prog, at(day, "09:00"))).json()
        naive = (at(day, "10:00"))[:19]
        _assert_problem(
            client.post(f"/v1/appointments/{appointment['id']}/reschedule", json={"start": naive}),
            422,
            "validation-error",
        )
        assert client.get(f"/v1/appointments/{appointment['id']}").json()["start"] == at(day, "09:00")


def test_a_past_slot_is_not_bookable(server: RunningServer, prog: Programme) -> None:
    with server.client() as client:
        past = upcoming(3) - timedelta(days=14)
        _assert_problem(client.post("/v1/appointments", json=booking(prog, at(past, "09:00"))), 409,
                        "slot-unavailable")
