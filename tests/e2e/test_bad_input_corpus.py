"""A corpus of hostile inputs through a real server, on SQLite and PostgreSQL alike.

Extreme and naive dates (query, body, cursor), control characters (body, path, query),
unpaired surrogates, huge numbers, wrong JSON types and phone extensions: each answers a 422
problem+json with a stable code, never a 5xx, and nothing is created or changed.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support.api import PROBLEM, Programme, at, booking, created, family, programme, upcoming
from tests.support.server import RunningServer

EXTREME_DATES = ["0001-01-01", "9999-12-31", "1899-12-31", "3000-01-01"]
EXTREME_INSTANTS = ["0001-01-01T00:00:00+00:00", "0001-01-01T00:00:00+14:00", "9999-12-31T23:30:00+00:00",
                    "9999-12-31T23:59:59-12:00", "1899-12-31T23:00:00+00:00"]
# Control characters a field must refuse; a line feed only where the field is one line.
CONTROLS = {"nul": "\x00", "esc": "\x1b", "cr": "\r", "del": "\x7f", "c1": "\x85", "line_separator": "\u2028"}
LISTS = [
    "/v1/sites",
    "/v1/staff",
    "/v1/services",
    "/v1/interpreters",
    "/v1/availability-rules",
    "/v1/absences",
    "/v1/openings",
    "/v1/api-keys",
]


@pytest.fixture(scope="module")
def setup(server: RunningServer) -> dict[str, Any]:
    """A programme, an interpreter, and one booked appointment to aim paths at."""
    with server.client() as client:
        prog = programme(client)
        interpreter = created(
            client.post("/v1/interpreters", json={"name": "Interprète", "languages": ["ar"]})
        )
        appointment = created(client.post("/v1/appointments", json=booking(prog, at(upcoming(3), "09:00"))))
    return {"prog": prog, "interpreter_id": interpreter["id"], "appointment_id": appointment["id"]}


@pytest.fixture
def client(server: RunningServer) -> Iterator[httpx.Client]:
    with server.client() as client:
        yield client


def snapshot(client: httpx.Client) -> dict[str, Any]:
    """Everything the corpus could have changed: every list, and every appointment as stored."""
    state: dict[str, Any] = {}
    for path in [*LISTS, "/v1/appointments"]:
        response = client.get(path, params={"limit": 500})
        assert response.status_code == 200, response.text
        state[path] = response.json()["items"]
    return state


def assert_problem(response: httpx.Response, code: str = "validation-error", status: int = 422,
                   field: str | None = None) -> None:
    """A problem+json with this status and stable code, leaking nothing, naming ``field``."""
    assert response.status_code < 500, response.text
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert (body["status"], body["code"]) == (status, code)
    assert {"type", "title", "detail"} <= body.keys()
    assert "Traceback" not in response.text and "sqlalchemy" not in response.text.lower()
    if field is not None:
        fields = [error["field"] for error in body.get("errors", [])]
        assert any(field in named for named in fields), (field, body)


def cursor(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def raw_json(client: httpx.Client, method: str, path: str, text: str) -> httpx.Response:
    """Send a JSON body as written (what json.dumps would refuse or rewrite)."""
    return client.request(method, path, content=text.encode(), headers={"Content-Type": "application/json"})


# --- dates ---------------------------------------------------------------------------------------


def test_extreme_dates_in_queries_are_422(client: httpx.Client, setup: dict[str, Any]) -> None:
    prog: Programme = setup["prog"]
    queries = {
        "/v1/slots": {"service_id": prog.service_id},
        "/v1/appointments": {},
        "/v1/replies": {},
        "/v1/stats/interpreters": {},
    }
    for path, params in queries.items():
        for day in [*EXTREME_DATES, "2026-13-01", "2026-02-30", "20260101", "2026-W01-1"]:
            assert_problem(client.get(path, params={**params, "from": day, "to": day}), field="from")
            assert_problem(client.get(path, params={**params, "from": "2026-12-01", "to": day}), field="to")


def test_extreme_and_naive_instants_in_bodies_are_422_and_change_nothing(
    client: httpx.Client, setup: dict[str, Any]
) -> None:
    prog: Programme = setup["prog"]
    before = snapshot(client)
    appointment = f"/v1/appointments/{setup['appointment_id']}"
    for instant in [*EXTREME_INSTANTS, "2026-12-02T09:00:00"]:
        assert_problem(client.post("/v1/appointments", json=booking(prog, instant)), field="start")
        assert_problem(client.post(f"{appointment}/reschedule", json={"start": instant}), field="start")
        assert_problem(client.post("/v1/absences", json={"staff_id": prog.staff_id, "start": instant,
                                                         "end": "2026-12-02T10:00:00+01:00"}), field="start")
        assert_problem(client.post("/v1/absences", json={"staff_id": prog.staff_id, "end": instant,
                                                         "start": "2026-12-02T10:00:00+01:00"}), field="end")
        assert_problem(client.post("/v1/openings", json={
            "staff_id": prog.staff_id, "site_id": prog.site_id, "service_ids": [prog.service_id],
            "start": instant, "end": "2026-12-02T10:00:00+01:00"}), field="start")
    for day in EXTREME_DATES:
        rule = {"staff_id": prog.staff_id, "site_id": prog.site_id, "service_ids": [prog.service_id],
                "weekday": 5, "start_time": "09:00", "end_time": "10:00", "valid_from": day}
        assert_problem(client.post("/v1/availability-rules", json=rule), field="valid_from")
        assert_problem(client.patch(f"/v1/availability-rules/{prog.rule_id}", json={"valid_until": day}),
                       field="valid_until")
    assert snapshot(client) == before


def test_forged_cursors_holding_extreme_or_naive_instants_are_422(
    client: httpx.Client, setup: dict[str, Any]
) -> None:
    prog: Programme = setup["prog"]
    day = str(upcoming(3))
    paths = {
        "/v1/slots": {"service_id": prog.service_id, "from": day, "to": day},
        "/v1/appointments": {},
        "/v1/replies": {},
        f"/v1/appointments/{setup['appointment_id']}/replies": {},
    }
    forged = [cursor(f"{instant}|x") for instant in [*EXTREME_INSTANTS, "2026-12-02T09:00:00"]]
    forged += [cursor("9999-12-31T23:59:59.999999+00:00|x"), cursor("x" * 10), "%%%", cursor("\x00|\x00")]
    for path, params in paths.items():
        for forged_cursor in forged:
            assert_problem(client.get(path, params={**params, "cursor": forged_cursor}))
    # One-part cursors carry an id: NUL in it would reach PostgreSQL.
    for path in LISTS:
        for forged_id in ["\x00", "a\x00b", "\x1b", "\n"]:
            assert_problem(client.get(path, params={"cursor": cursor(forged_id)}))


# --- control characters and surrogates -----------------------------------------------------------


def text_cases(setup: dict[str, Any]) -> list[tuple[str, str, dict[str, Any], str, bool]]:
    """(method, path, valid body, field path, multi-line) for every stored text field."""
    prog: Programme = setup["prog"]
    site = {
        "name": "Site",
        "kind": "office",
        "public_label": "Accueil",
        "address": "1 rue",
        "phone": "0143943300",
        "timezone": "Europe/Paris",
    }
    rule = {
        "staff_id": prog.staff_id,
        "site_id": prog.site_id,
        "service_ids": [prog.service_id],
        "weekday": 5,
        "start_time": "09:00",
        "end_time": "10:00",
        "valid_from": "2026-01-01",
    }
    absence = {
        "staff_id": prog.staff_id,
        "start": "2026-12-04T09:00:00+01:00",
        "end": "2026-12-04T10:00:00+01:00",
        "reason": "formation",
    }
    appointment = booking(prog, at(upcoming(5, weeks_ahead=3), "09:00"), note="note",
                          family=family(phone="0612345678"))
    appointment_path = f"/v1/appointments/{setup['appointment_id']}"
    return [
        *[("POST", "/v1/sites", site, name, name == "address") for name in site if name != "kind"],
        *[
            ("PATCH", f"/v1/sites/{prog.site_id}", {name: site[name]}, name, name == "address")
            for name in ("name", "public_label", "address")
        ],
        ("POST", "/v1/staff", {"name": "Nom", "role": "other", "phone": "0612345678"}, "name", False),
        ("POST", "/v1/staff", {"name": "Nom", "role": "other", "phone": "0612345678"}, "phone", False),
        ("PATCH", f"/v1/staff/{prog.staff_id}", {"name": "Nom"}, "name", False),
        (
            "POST",
            "/v1/services",
            {"name": "Entretien", "duration_minutes": 60, "bring": "carnet"},
            "name",
            False,
        ),
        (
            "POST",
            "/v1/services",
            {"name": "Entretien", "duration_minutes": 60, "bring": "carnet"},
            "bring",
            False,
        ),
        (
            "POST",
            "/v1/interpreters",
            {"name": "Nom", "languages": ["ar"], "phone": "0612345678", "timezone": "Europe/Paris"},
            "name",
            False,
        ),
        (
            "POST",
            "/v1/interpreters",
            {"name": "Nom", "languages": ["ar"], "phone": "0612345678"},
            "phone",
            False,
        ),
        ("POST", "/v1/interpreters", {"name": "Nom", "languages": ["ar"]}, "languages.0", False),
        ("POST", "/v1/api-keys", {"name": "Clé", "scopes": ["admin"]}, "name", False),
        ("POST", "/v1/availability-rules", rule, "staff_id", False),
        ("POST", "/v1/availability-rules", rule, "service_ids.0", False),
        ("POST", "/v1/absences", absence, "reason", False),
        ("POST", "/v1/absences", absence, "staff_id", False),
        ("POST", "/v1/appointments", appointment, "note", True),
        ("POST", "/v1/appointments", appointment, "service_id", False),
        ("POST", "/v1/appointments", appointment, "family.phone", False),
        ("POST", "/v1/appointments", appointment, "family.language", False),
        ("POST", f"{appointment_path}/cancel", {"reason": "raison"}, "reason", True),
        (
            "POST",
            f"{appointment_path}/interpreter",
            {"language": "ar", "agency": "ISM", "reference": "R1"},
            "agency",
            False,
        ),
        (
            "POST",
            f"{appointment_path}/interpreter",
            {"language": "ar", "agency": "ISM", "reference": "R1"},
            "reference",
            False,
        ),
    ]


def with_text(body: dict[str, Any], field: str, control: str) -> dict[str, Any]:
    """A copy of ``body`` where ``field`` (dotted, list indexes as numbers) holds ``control``."""
    copy = json.loads(json.dumps(body))
    *parents, last = field.split(".")
    target: Any = copy
    for part in parents:
        target = target[int(part)] if isinstance(target, list) else target[part]
    if isinstance(target, list):
        target[int(last)] = f"a{control}r"
    else:
        target[last] = f"{target[last]}{control}x" if isinstance(target[last], str) else f"a{control}r"
    return copy


def test_control_characters_in_any_stored_text_are_422_naming_the_field(
    client: httpx.Client, setup: dict[str, Any]
) -> None:
    before = snapshot(client)
    for method, path, body, field, multiline in text_cases(setup):
        controls = list(CONTROLS.values()) + ([] if multiline else ["\n"])
        for control in controls:
            assert_problem(client.request(method, path, json=with_text(body, field, control)), field=field)
    assert snapshot(client) == before


def test_a_line_feed_is_kept_in_multi_line_text(client: httpx.Client, setup: dict[str, Any]) -> None:
    response = client.post("/v1/sites", json={"name": "Site", "kind": "office", "public_label": "Accueil",
                                              "address": "12 rue de la Paix\n75002 Paris"})
    assert created(response)["address"] == "12 rue de la Paix\n75002 Paris"
    assert_problem(
        client.post("/v1/sites", json={"name": "Site\nbis", "kind": "office", "public_label": "A"}),
        field="name",
    )


def test_unpaired_surrogates_are_422_and_change_nothing(client: httpx.Client, setup: dict[str, Any]) -> None:
    before = snapshot(client)
    prog: Programme = setup["prog"]
    for surrogate in ["\\ud800", "\\udfff", "a\\udc00b", "\\ud83d"]:
        assert_problem(raw_json(client, "POST", "/v1/staff", f'{{"name": "{surrogate}", "role": "other"}}'))
        body = json.dumps(booking(prog, at(upcoming(3, weeks_ahead=4), "09:00"), note="NOTE"))
        assert_problem(raw_json(client, "POST", "/v1/appointments", body.replace("NOTE", surrogate)))
        assert_problem(
            raw_json(client, "PATCH", f"/v1/sites/{prog.site_id}", f'{{"address": "{surrogate}"}}')
        )
    assert snapshot(client) == before


def test_control_characters_in_paths_are_422_naming_the_parameter(
    client: httpx.Client, setup: dict[str, Any]
) -> None:
    before = snapshot(client)
    for control in ["%00", "%0A", "%0D", "%1B", "%7F", "%C2%85"]:
        assert_problem(client.get(f"/v1/appointments/a{control}b"), field="appointment_id")
        assert_problem(client.post(f"/v1/appointments/a{control}b/cancel"), field="appointment_id")
        assert_problem(client.get(f"/v1/staff/{control}"), field="ident")
        assert_problem(client.patch(f"/v1/sites/x{control}", json={"name": "x"}), field="ident")
        assert_problem(client.delete(f"/v1/services/{control}"), field="ident")
        assert_problem(client.post(f"/v1/staff/{control}/feeds", json={}), field="owner_id")
        assert_problem(client.get(f"/v1/appointments/{control}/replies"), field="appointment_id")
    # Invalid UTF-8 is read as U+FFFD, no control character: an unknown id.
    assert_problem(client.get("/v1/appointments/%ED%A0%80"), "not-found", 404)
    # Outside the API, tokens are hashed before any look-up: an unknown token, on both databases.
    assert client.get("/r/a%00b").status_code == 404
    assert_problem(client.get("/feeds/a%00b.ics"), "not-found", 404)
    assert snapshot(client) == before


def test_control_characters_in_queries_are_422_naming_the_parameter(
    client: httpx.Client, setup: dict[str, Any]
) -> None:
    prog: Programme = setup["prog"]
    day = str(upcoming(3))
    slots = {"service_id": prog.service_id, "from": day, "to": day}
    for control in ["\x00", "\n", "\r", "\x1b", "\x85"]:
        assert_problem(client.get("/v1/slots", params={**slots, "staff_id": f"a{control}"}), field="staff_id")
        assert_problem(client.get("/v1/slots", params={**slots, "service_id": control}), field="service_id")
        assert_problem(client.get("/v1/slots", params={**slots, "cursor": control}), field="cursor")
        assert_problem(client.get("/v1/appointments", params={"site_id": control}), field="site_id")
        assert_problem(client.get("/v1/availability-rules", params={"staff_id": control}), field="staff_id")
        assert_problem(client.get("/v1/absences", params={"interpreter_id": control}), field="interpreter_id")
        assert_problem(client.get("/v1/replies", params={"from": f"2026-12-01{control}"}), field="from")
        assert_problem(client.get("/v1/staff", params={f"x{control}": "1"}), field="query")


# --- numbers and types ----------------------------------------------------------------------------


def test_huge_numbers_are_422_and_change_nothing(client: httpx.Client, setup: dict[str, Any]) -> None:
    prog: Programme = setup["prog"]
    before = snapshot(client)
    for number in ["1e400", "-1e400", str(10**30), str(-(10**30)), "1" + "0" * 400]:
        assert_problem(
            raw_json(client, "POST", "/v1/services", f'{{"name": "S", "duration_minutes": {number}}}')
        )
        assert_problem(raw_json(client, "PATCH", f"/v1/services/{prog.service_id}",
                                f'{{"min_notice_minutes": {number}}}'))
        assert_problem(raw_json(client, "POST", "/v1/availability-rules", json.dumps({
            "staff_id": prog.staff_id, "site_id": prog.site_id, "service_ids": [prog.service_id],
            "weekday": 0, "start_time": "09:00", "end_time": "10:00", "valid_from": "2026-01-01",
        }).replace('"weekday": 0', f'"weekday": {number}')))
        assert_problem(client.get("/v1/staff", params={"limit": number}), field="limit")
    assert snapshot(client) == before


def test_wrong_json_types_are_422_and_change_nothing(client: httpx.Client, setup: dict[str, Any]) -> None:
    prog: Programme = setup["prog"]
    before = snapshot(client)
    rule = f"/v1/availability-rules/{prog.rule_id}"
    service = f"/v1/services/{prog.service_id}"
    for value in [0, 1, "true", "false", "0"]:
        assert_problem(
            client.patch(rule, json={"follows_school_calendar": value}), field="follows_school_calendar"
        )
    for value in [False, True, 30.5, "30", [30]]:
        assert_problem(client.patch(service, json={"min_notice_minutes": value}), field="min_notice_minutes")
        assert_problem(client.post("/v1/services", json={"name": "S", "duration_minutes": value}),
                       field="duration_minutes")
        assert_problem(client.patch(service, json={"reminder_offsets_minutes": [value]}),
                       field="reminder_offsets_minutes")
    bad_consent = booking(prog, at(upcoming(3, weeks_ahead=4), "09:00"), family=family(sms_consent=1))
    assert_problem(client.post("/v1/appointments", json=bad_consent), field="sms_consent")
    new_rule = {"staff_id": prog.staff_id, "site_id": prog.site_id, "service_ids": [prog.service_id],
                "weekday": True, "start_time": "09:00", "end_time": "10:00", "valid_from": "2026-01-01"}
    assert_problem(client.post("/v1/availability-rules", json=new_rule), field="weekday")
    assert snapshot(client) == before


def test_phone_numbers_with_an_extension_are_invalid_phone(
    client: httpx.Client, setup: dict[str, Any]
) -> None:
    prog: Programme = setup["prog"]
    before = snapshot(client)
    for phone in [
        "+33612345678 ext. 12",
        "06 12 34 56 78 ext 3",
        "+33 1 43 94 33 00 x12",
        "01 43 94 33 00 ext. 5",
    ]:
        assert_problem(client.post("/v1/staff", json={"name": "Nom", "role": "other", "phone": phone}),
                       "invalid-phone")
        assert_problem(client.patch(f"/v1/sites/{prog.site_id}", json={"phone": phone}), "invalid-phone")
        assert_problem(client.post("/v1/appointments", json=booking(
            prog, at(upcoming(3, weeks_ahead=4), "09:00"), family=family(phone=phone))), "invalid-phone")
    assert snapshot(client) == before
