"""Site-limited keys: a key of site A never sees nor changes anything of site B, on every operation.

The matrix is generated from the served OpenAPI document: every operation must have a row in
``MATRIX`` saying how to aim it at site B with a key of site A, and what must come back. A new
operation without a row fails ``test_every_operation_has_a_row``; each row is then played by
``test_a_key_of_site_a_never_reaches_site_b`` on both databases, and afterwards everything of
site B is read back with the admin key, unchanged.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from litestar.testing import TestClient

from scheduler.app import create_app
from scheduler.settings import Settings
from tests.support.api import Programme, at, booking, created, family, programme, unique, upcoming
from tests.support.databases import DatabaseHandle

HIDDEN = "hidden"
"""Aimed at a thing of site B: 404, as if it did not exist."""
FILTERED = "filtered"
"""A list, a search or a figure: answered, without anything of site B in it."""
UNKNOWN = "unknown"
"""Names a thing of site B among others: refused (404 or 422) as an unknown id would be."""
UNBOUND = "unbound"
"""Not about a site's data (the catalogue of staff and services, keys, health...): no site B
marker in the answer, and site B's data checked unchanged at the end."""


@dataclass
class World:
    """Sites A and B, an appointment at each, a key limited to A, and the ids of B's things."""

    admin: TestClient  # type: ignore[type-arg]
    limited: dict[str, str]
    a: Programme
    b: Programme
    appointment_a: str
    appointment_b: str
    reference_b: str
    closure_b: str
    opening_b: str
    endpoint_a: str
    day: str
    feed_b: str
    pathway_b: str
    waitlist_b: str
    key_b: str
    markers: set[str] = field(default_factory=set)

    def call(self, method: str, url: str, body: Any = None, **params: Any) -> Any:
        return self.admin.request(method, url, json=body, params=params or None, headers=self.limited)


Request = Callable[[World], tuple[str, str, Any]]
MATRIX: dict[str, tuple[str, Request]] = {
    "list_sites": (FILTERED, lambda w: ("GET", "/v1/sites", None)),
    "create_site": (UNBOUND, lambda w: ("POST", "/v1/sites", {
        "name": unique("site"), "kind": "office", "address": "2 rue", "timezone": "Europe/Paris",
        "school_zone": None, "public_label": "Accueil"})),
    "get_site": (HIDDEN, lambda w: ("GET", f"/v1/sites/{w.b.site_id}", None)),
    "update_site": (HIDDEN, lambda w: ("PATCH", f"/v1/sites/{w.b.site_id}", {"name": "taken"})),
    "delete_site": (HIDDEN, lambda w: ("DELETE", f"/v1/sites/{w.b.site_id}", None)),
    "list_staff": (UNBOUND, lambda w: ("GET", "/v1/staff", None)),
    "create_staff": (UNBOUND, lambda w: ("POST", "/v1/staff", {"name": unique("s"), "role": "other"})),
    "get_staff": (UNBOUND, lambda w: ("GET", f"/v1/staff/{w.a.staff_id}", None)),
    "update_staff": (UNBOUND, lambda w: ("PATCH", f"/v1/staff/{w.a.staff_id}", {"role": "other"})),
    "delete_staff": (UNBOUND, lambda w: ("DELETE", f"/v1/staff/{w.b.staff_id}", None)),
    "list_services": (UNBOUND, lambda w: ("GET", "/v1/services", None)),
    "create_service": (UNBOUND,
        lambda w: ("POST", "/v1/services", {"name": unique("sv"), "duration_minutes": 30})),
    "get_service": (UNBOUND, lambda w: ("GET", f"/v1/services/{w.b.service_id}", None)),
    "update_service": (UNBOUND, lambda w: ("PATCH", f"/v1/services/{w.a.service_id}", {"capacity": 1})),
    "delete_service": (UNBOUND, lambda w: ("DELETE", f"/v1/services/{w.b.service_id}", None)),
    "list_availability_rules": (FILTERED, lambda w: ("GET", "/v1/availability-rules", None)),
    "create_availability_rule": (HIDDEN, lambda w: ("POST", "/v1/availability-rules", {
        "staff_id": w.b.staff_id, "site_id": w.b.site_id, "service_ids": [w.b.service_id], "weekday": 5,
        "start_time": "09:00", "end_time": "10:00", "valid_from": "2026-01-01"})),
    "get_availability_rule": (HIDDEN, lambda w: ("GET", f"/v1/availability-rules/{w.b.rule_id}", None)),
    "update_availability_rule": (HIDDEN, lambda w: (
        "PATCH", f"/v1/availability-rules/{w.b.rule_id}", {"valid_until": "2031-01-01"})),
    "delete_availability_rule": (HIDDEN, lambda w: ("DELETE", f"/v1/availability-rules/{w.b.rule_id}", None)),
    "list_absences": (UNBOUND, lambda w: ("GET", "/v1/absences", None)),
    "create_absence": (UNBOUND, lambda w: ("POST", "/v1/absences", {
        "staff_id": w.a.staff_id, "start": "2030-01-01T09:00:00+01:00", "end": "2030-01-01T10:00:00+01:00"})),
    "get_absence": (UNBOUND, lambda w: ("GET", "/v1/absences/none", None)),
    "update_absence": (UNBOUND, lambda w: ("PATCH", "/v1/absences/none", {"reason": None})),
    "delete_absence": (UNBOUND, lambda w: ("DELETE", "/v1/absences/none", None)),
    "list_openings": (FILTERED, lambda w: ("GET", "/v1/openings", None)),
    "create_opening": (HIDDEN, lambda w: ("POST", "/v1/openings", {
        "staff_id": w.b.staff_id, "site_id": w.b.site_id, "service_ids": [w.b.service_id],
        "start": "2030-01-02T09:00:00+01:00", "end": "2030-01-02T10:00:00+01:00"})),
    "get_opening": (HIDDEN, lambda w: ("GET", f"/v1/openings/{w.opening_b}", None)),
    "update_opening": (HIDDEN, lambda w: ("PATCH", f"/v1/openings/{w.opening_b}", {
        "end": "2030-01-03T11:00:00+01:00"})),
    "delete_opening": (HIDDEN, lambda w: ("DELETE", f"/v1/openings/{w.opening_b}", None)),
    "list_closures": (FILTERED, lambda w: ("GET", "/v1/closures", None)),
    "create_closure": (HIDDEN, lambda w: ("POST", "/v1/closures", {
        "site_id": w.b.site_id, "start": "2030-02-01T09:00:00+01:00", "end": "2030-02-01T10:00:00+01:00"})),
    "get_closure": (HIDDEN, lambda w: ("GET", f"/v1/closures/{w.closure_b}", None)),
    "update_closure": (HIDDEN, lambda w: ("PATCH", f"/v1/closures/{w.closure_b}", {"reason": "x"})),
    "delete_closure": (HIDDEN, lambda w: ("DELETE", f"/v1/closures/{w.closure_b}", None)),
    "list_api_keys": (FILTERED, lambda w: ("GET", "/v1/api-keys", None)),
    "create_api_key": (HIDDEN, lambda w: ("POST", "/v1/api-keys", {
        "name": "escape", "scopes": ["admin"], "site_ids": [w.b.site_id]})),
    # (a key made by a limited key without site_ids is limited as its maker: test_no_wider_key)
    "get_api_key": (HIDDEN, lambda w: ("GET", f"/v1/api-keys/{w.key_b}", None)),
    "update_api_key": (HIDDEN, lambda w: ("PATCH", f"/v1/api-keys/{w.key_b}", {"name": "x"})),
    "revoke_api_key": (HIDDEN, lambda w: ("DELETE", f"/v1/api-keys/{w.key_b}", None)),
    "list_free_slots": (FILTERED, lambda w: ("GET", (f"/v1/slots?service_id={w.b.service_id}"
                                                   f"&from={w.day}&to={w.day}"), None)),
    "list_pathway_slots": (FILTERED, lambda w: (
        "GET", (f"/v1/pathway-slots?service_id={w.b.service_id}&sessions=2&every_days=7"
                f"&from={w.day}&to={w.day}"), None)),
    "list_appointments": (FILTERED, lambda w: ("GET", "/v1/appointments", None)),
    "book_appointment": (HIDDEN, lambda w: ("POST", "/v1/appointments", {
        **booking(w.b, at(upcoming(3, weeks_ahead=2), "10:00")), "site_id": w.b.site_id})),
    "get_appointment": (HIDDEN, lambda w: ("GET", f"/v1/appointments/{w.appointment_b}", None)),
    "cancel_appointment": (HIDDEN, lambda w: ("POST", f"/v1/appointments/{w.appointment_b}/cancel", {})),
    "reschedule_appointment": (HIDDEN, lambda w: (
        "POST", f"/v1/appointments/{w.appointment_b}/reschedule", {"start": at(upcoming(3), "11:00")})),
    "record_outcome": (HIDDEN, lambda w: (
        "POST", f"/v1/appointments/{w.appointment_b}/outcome", {"status": "attended"})),
    "import_past_appointments": (UNKNOWN, lambda w: ("POST", "/v1/appointments/import", {"items": [{
        "external_id": unique("x"), "service_id": w.b.service_id, "staff_id": w.b.staff_id,
        "site_id": w.b.site_id, "start": "2025-01-06T09:00:00+01:00", "end": "2025-01-06T10:00:00+01:00",
        "status": "attended", "family": {"reference": unique("PRE"), "language": "fr"}}]})),
    "list_appointment_messages": (HIDDEN,
        lambda w: ("GET", f"/v1/appointments/{w.appointment_b}/messages", None)),
    "list_replies": (FILTERED, lambda w: ("GET", "/v1/replies", None)),
    "list_appointment_replies": (HIDDEN,
        lambda w: ("GET", f"/v1/appointments/{w.appointment_b}/replies", None)),
    "revoke_family_link": (HIDDEN,
        lambda w: ("DELETE", f"/v1/appointments/{w.appointment_b}/family-link", None)),
    "list_interpreters": (UNBOUND, lambda w: ("GET", "/v1/interpreters", None)),
    "create_interpreter": (UNBOUND, lambda w: ("POST", "/v1/interpreters", {
        "name": unique("i"), "languages": ["ar"], "mode": "phone"})),
    "get_interpreter": (UNBOUND, lambda w: ("GET", "/v1/interpreters/none", None)),
    "update_interpreter": (UNBOUND, lambda w: ("PATCH", "/v1/interpreters/none", {"name": "x"})),
    "delete_interpreter": (UNBOUND, lambda w: ("DELETE", "/v1/interpreters/none", None)),
    "attach_external_interpreter": (HIDDEN, lambda w: (
        "POST", f"/v1/appointments/{w.appointment_b}/interpreter",
        {"language": "ar", "agency": "ISM", "reference": "R-1"})),
    "list_interpreter_use": (FILTERED, lambda w: ("GET", "/v1/stats/interpreters", None)),
    "appointment_stats": (FILTERED, lambda w: (
        "GET", "/v1/stats/appointments?from=2026-01-01&to=2027-12-31&by=site", None)),
    "list_events": (FILTERED, lambda w: ("GET", "/v1/events", None)),
    "list_appointment_events": (HIDDEN,
        lambda w: ("GET", f"/v1/appointments/{w.appointment_b}/events", None)),
    "list_webhook_endpoints": (FILTERED, lambda w: ("GET", "/v1/webhook-endpoints", None)),
    "create_webhook_endpoint": (UNBOUND, lambda w: ("POST", "/v1/webhook-endpoints", {
        "url": "https://hooks.example.org/creneau", "events": ["*"]})),
    "list_webhook_deliveries": (FILTERED,
        lambda w: ("GET", f"/v1/webhook-endpoints/{w.endpoint_a}/deliveries", None)),
    "get_webhook_endpoint": (FILTERED, lambda w: ("GET", f"/v1/webhook-endpoints/{w.endpoint_a}", None)),
    "update_webhook_endpoint": (FILTERED, lambda w: (
        "PATCH", f"/v1/webhook-endpoints/{w.endpoint_a}", {"description": "a"})),
    "delete_webhook_endpoint": (UNBOUND, lambda w: ("DELETE", "/v1/webhook-endpoints/none", None)),
    "replay_webhook_events": (FILTERED, lambda w: (
        "POST", f"/v1/webhook-endpoints/{w.endpoint_a}/replay", {"since": "2026-01-01T00:00:00+01:00"})),
    "retry_webhook_delivery": (UNBOUND, lambda w: (
        "POST", f"/v1/webhook-endpoints/{w.endpoint_a}/deliveries/none/retry", None)),
    "rotate_webhook_secret": (UNBOUND, lambda w: ("POST", "/v1/webhook-endpoints/none/rotate-secret", {})),
    "create_interpreter_feed": (HIDDEN, lambda w: ("POST", "/v1/interpreters/none/feeds", {})),
    "create_site_feed": (HIDDEN, lambda w: ("POST", f"/v1/sites/{w.b.site_id}/feeds", {"privacy": "full"})),
    "create_staff_feed": (HIDDEN, lambda w: ("POST", f"/v1/staff/{w.a.staff_id}/feeds", {})),
    "revoke_feed": (HIDDEN, lambda w: ("DELETE", f"/v1/feeds/{w.feed_b}", None)),
    "list_staff_feeds": (UNBOUND, lambda w: ("GET", f"/v1/staff/{w.a.staff_id}/feeds", None)),
    "list_site_feeds": (HIDDEN, lambda w: ("GET", f"/v1/sites/{w.b.site_id}/feeds", None)),
    "list_audit_entries": (FILTERED, lambda w: ("GET", "/v1/audit", None)),
    "create_report": (UNKNOWN, lambda w: ("POST", "/v1/reports", {
        "from": "2026-01-01", "to": "2026-12-31", "site_ids": [w.b.site_id]})),
    "change_family_phone": (HIDDEN, lambda w: (
        "PATCH", f"/v1/families/{w.reference_b}", {"phone": "06 98 76 54 32"})),
    "book_pathway": (HIDDEN, lambda w: ("POST", "/v1/pathways", {
        "service_id": w.b.service_id, "staff_id": w.b.staff_id, "site_id": w.b.site_id, "family": family(),
        "sessions": [{"start": at(upcoming(3, weeks_ahead=6), "10:00"), "attendees": "parents"}]})),
    "list_pathways": (FILTERED, lambda w: ("GET", "/v1/pathways", None)),
    "get_pathway": (HIDDEN, lambda w: ("GET", f"/v1/pathways/{w.pathway_b}", None)),
    "add_pathway_session": (HIDDEN, lambda w: ("POST", f"/v1/pathways/{w.pathway_b}/sessions", {
        "start": at(upcoming(3, weeks_ahead=8), "10:00"), "attendees": "child"})),
    "close_pathway": (HIDDEN, lambda w: ("POST", f"/v1/pathways/{w.pathway_b}/close", {})),
    "create_waitlist_entry": (HIDDEN, lambda w: ("POST", "/v1/waitlist", {
        "service_id": w.b.service_id, "site_id": w.b.site_id, "family": family()})),
    "list_waitlist_entries": (FILTERED, lambda w: ("GET", "/v1/waitlist", None)),
    "get_waitlist_entry": (HIDDEN, lambda w: ("GET", f"/v1/waitlist/{w.waitlist_b}", None)),
    "delete_waitlist_entry": (HIDDEN, lambda w: ("DELETE", f"/v1/waitlist/{w.waitlist_b}", None)),
}
OUTSIDE_V1 = "the API key middleware does not guard it (health, metrics, feeds, family page, SMS webhooks)"


def _limited_app(database: DatabaseHandle) -> Iterator[World]:
    admin_key = secrets.token_urlsafe(24)
    settings = Settings.from_env({
        "CRENEAU_DATABASE_URL": database.url, "CRENEAU_ADMIN_API_KEY": admin_key,
        "CRENEAU_SMS_BACKEND": "memory", "CRENEAU_SECRET_KEY": secrets.token_urlsafe(32),
        "CRENEAU_PUBLIC_URL": "http://testserver.local", "CRENEAU_DISPATCH_INTERVAL_SECONDS": "3600",
        "CRENEAU_SLOTS_CACHE_SECONDS": "0",
    })
    with TestClient(app=create_app(settings), base_url="http://testserver.local") as client:
        client.headers["Authorization"] = f"Bearer {admin_key}"
        a, b = programme(client, weekday=3), programme(client, weekday=3)
        day = upcoming(3)
        reference_b = unique("PRE-B")
        appointment_a = created(client.post("/v1/appointments", json=booking(a, at(day, "09:00"))))["id"]
        appointment_b = created(client.post("/v1/appointments", json={
            **booking(b, at(day, "09:00")), "family": family(reference_b)}))["id"]
        closure_b = created(client.post("/v1/closures", json={
            "site_id": b.site_id, "start": "2030-03-01T09:00:00+01:00", "end": "2030-03-01T10:00:00+01:00"}))
        opening_b = created(client.post("/v1/openings", json={
            "staff_id": b.staff_id, "site_id": b.site_id, "service_ids": [b.service_id],
            "start": "2030-03-02T09:00:00+01:00", "end": "2030-03-02T10:00:00+01:00"}))
        key = created(client.post("/v1/api-keys", json={
            "name": "school A", "site_ids": [a.site_id],
            "scopes": ["admin", "slots:read", "appointments:write", "webhooks:write"]}))
        limited = {"Authorization": f"Bearer {key['key']}"}
        created(client.post("/v1/appointments", headers=limited, json=booking(a, at(day, "10:00"))))
        endpoint = created(client.post("/v1/webhook-endpoints", headers=limited, json={
            "url": "https://hooks.example.org/a", "events": ["*"]}))
        # A change at each site after the endpoint exists: only A's may be queued for it.
        for appointment in (appointment_a, appointment_b):
            assert client.post(f"/v1/appointments/{appointment}/outcome",
                               json={"status": "attended"}).status_code in (200, 409, 422)
        # Events after the endpoint exists: only site A's may be queued for it.
        created(client.post("/v1/appointments", json=booking(a, at(day, "11:00"))))
        created(client.post("/v1/appointments", json=booking(b, at(day, "11:00"))))
        feed_b = created(client.post(f"/v1/sites/{b.site_id}/feeds", json={}))
        pathway_b = created(client.post("/v1/pathways", json={
            "service_id": b.service_id, "staff_id": b.staff_id, "site_id": b.site_id, "family": family(),
            "sessions": [{"start": at(upcoming(3, weeks_ahead=weeks), "09:00"), "attendees": "parents"}
                         for weeks in (3, 4)]}))["id"]
        waitlist_b = created(client.post("/v1/waitlist", json={
            "service_id": b.service_id, "site_id": b.site_id, "family": family()}))["id"]
        key_b = created(client.post("/v1/api-keys", json={
            "name": "school B", "site_ids": [b.site_id], "scopes": ["appointments:write"]}))["id"]
        key_everywhere = created(client.post("/v1/api-keys", json={
            "name": "every site", "scopes": ["appointments:read"]}))["id"]
        world = World(client, limited, a, b, appointment_a, appointment_b, reference_b, closure_b["id"],
                      opening_b["id"], endpoint["id"], day.isoformat(), feed_b["token"], pathway_b,
                      waitlist_b, key_b)
        world.markers = {b.site_id, b.rule_id, appointment_b, reference_b, closure_b["id"], opening_b["id"],
                         pathway_b, waitlist_b, key_b, key_everywhere}
        for listed in client.get("/v1/appointments", params={"site_id": b.site_id}).json()["items"]:
            events = client.get(f"/v1/appointments/{listed['id']}/events").json()["items"]
            world.markers |= {listed["id"], *(event["id"] for event in events)}
        deliveries = client.get(f"/v1/webhook-endpoints/{endpoint['id']}/deliveries", headers=limited)
        assert deliveries.json()["items"]  # site A's events reached it
        yield world


@pytest.fixture(scope="module")
def world(module_database: DatabaseHandle) -> Iterator[World]:
    """The app on the module's database, set up once for both tests of a database."""
    yield from _limited_app(module_database)


def test_every_operation_has_a_row(world: World) -> None:
    document = world.admin.get("/schema/openapi.json").json()
    operations = {(path, operation["operationId"]) for path, item in document["paths"].items()
                  for operation in item.values()
                  if isinstance(operation, dict) and "operationId" in operation}
    missing = sorted(op for path, op in operations if path.startswith("/v1") and op not in MATRIX)
    assert missing == [], f"add a row to MATRIX for {missing}"
    assert {op for path, op in operations if path.startswith("/v1")} == set(MATRIX)


def test_a_key_of_site_a_never_reaches_site_b(world: World) -> None:
    before = _site_b_state(world)
    failures = []
    for operation, (kind, make) in MATRIX.items():
        method, url, body = make(world)
        answer = world.call(method, url, body)
        if answer.status_code >= 500:
            failures.append(f"{operation}: {answer.status_code}")
        elif kind == HIDDEN and answer.status_code != 404:
            failures.append(f"{operation}: {answer.status_code} (expected 404) {answer.text[:200]}")
        elif kind == UNKNOWN and answer.status_code not in (404, 422):
            failures.append(f"{operation}: {answer.status_code} (expected 404 or 422) {answer.text[:200]}")
        elif kind not in (HIDDEN, UNKNOWN) and (seen := [m for m in world.markers if m in answer.text]):
            failures.append(f"{operation}: shows {seen} of site B: {answer.text[:300]}")
    assert failures == [], '\n'.join(failures)
    assert _site_b_state(world) == before
    seen_a = world.call("GET", "/v1/appointments").json()["items"]
    assert {item["site_id"] for item in seen_a} == {world.a.site_id}
    assert world.appointment_a in {item["id"] for item in seen_a}


def _site_b_state(world: World) -> dict[str, Any]:
    client, b = world.admin, world.b
    appointment = client.get(f"/v1/appointments/{world.appointment_b}").json()
    return {
        "appointment": {key: appointment[key] for key in ("status", "start", "end", "staff_id", "site_id")},
        "site": client.get(f"/v1/sites/{b.site_id}").json(),
        "rule": client.get(f"/v1/availability-rules/{b.rule_id}").json(),
        "closure": client.get(f"/v1/closures/{world.closure_b}").status_code,
        "opening": client.get(f"/v1/openings/{world.opening_b}").json(),
        "appointments at B": [item["id"] for item in client.get(
            "/v1/appointments", params={"site_id": b.site_id}).json()["items"]],
        "staff B": client.get(f"/v1/staff/{b.staff_id}").status_code,
        "feeds of B": client.get(f"/v1/sites/{b.site_id}/feeds").json()["items"],
        "pathway B": client.get(f"/v1/pathways/{world.pathway_b}").json(),
        "waiting at B": client.get(f"/v1/waitlist/{world.waitlist_b}").json(),
        "service B": client.get(f"/v1/services/{b.service_id}").status_code,
        "key of B": client.get(f"/v1/api-keys/{world.key_b}").json(),
    }


def test_a_limited_key_makes_no_wider_key(world: World) -> None:
    made = world.call("POST", "/v1/api-keys", {"name": "no site named", "scopes": ["appointments:read"]})
    assert made.status_code == 201 and made.json()["site_ids"] == [world.a.site_id]
    seen = world.admin.get("/v1/appointments", headers={"Authorization": f"Bearer {made.json()['key']}"})
    assert {item["site_id"] for item in seen.json()["items"]} == {world.a.site_id}


def test_a_limited_key_makes_no_report_of_every_site(world: World) -> None:
    made = world.call("POST", "/v1/reports", {"from": "2026-01-01", "to": "2026-12-31", "site_ids": None})
    assert made.status_code == 201
    page = world.admin.get(made.json()["url"].removeprefix("http://testserver.local"))
    names = [world.admin.get(f"/v1/sites/{prog.site_id}").json()["name"] for prog in (world.a, world.b)]
    assert page.status_code == 200 and names[0] in page.text and names[1] not in page.text


def test_a_limited_key_moves_nothing_to_site_b(world: World) -> None:
    before = world.admin.get(f"/v1/appointments/{world.appointment_a}").json()
    moved = world.call("POST", f"/v1/appointments/{world.appointment_a}/reschedule", {
        "start": at(upcoming(3), "10:00"), "site_id": world.b.site_id, "staff_id": world.b.staff_id})
    assert moved.status_code == 404, moved.text
    after = world.admin.get(f"/v1/appointments/{world.appointment_a}").json()
    assert (after["site_id"], after["start"]) == (before["site_id"], before["start"])


def test_a_limited_key_moves_no_key_beyond_its_sites(world: World) -> None:
    own = created(world.call("POST", "/v1/api-keys", {"name": "own", "scopes": ["appointments:read"]}))
    wide = created(world.admin.post("/v1/api-keys", json={"name": "wide", "scopes": ["slots:read"]}))
    to_b = world.call("PATCH", f"/v1/api-keys/{own['id']}", {"site_ids": [world.b.site_id]})
    assert to_b.status_code == 404, to_b.text
    everywhere = world.call("PATCH", f"/v1/api-keys/{own['id']}", {"site_ids": None})
    assert everywhere.status_code == 200 and everywhere.json()["site_ids"] == [world.a.site_id]
    narrowed = world.call("PATCH", f"/v1/api-keys/{wide['id']}", {"site_ids": [world.a.site_id]})
    assert narrowed.status_code == 404, narrowed.text
    assert world.admin.get(f"/v1/api-keys/{wide['id']}").json()["site_ids"] is None


def test_a_limited_key_sees_only_keys_within_its_sites(world: World) -> None:
    own = created(world.call("POST", "/v1/api-keys", {"name": "listed", "scopes": ["slots:read"]}))
    wide = created(world.admin.post("/v1/api-keys", json={"name": "unseen", "scopes": ["slots:read"]}))
    listed: list[str] = []
    cursor = None
    while True:  # pages of one key: the listing picks a limited caller's keys across pages too
        page = world.call("GET", "/v1/api-keys", limit=1, **({"cursor": cursor} if cursor else {})).json()
        listed += [key["id"] for key in page["items"]]
        if not (cursor := page["next_cursor"]):
            break
    assert own["id"] in listed and wide["id"] not in listed
    assert len(listed) == len(set(listed))
    for method, body in (("GET", None), ("PATCH", {"name": "renamed"}), ("DELETE", None)):
        answer = world.call(method, f"/v1/api-keys/{wide['id']}", body)
        assert answer.status_code == 404, (method, answer.text)
    after = world.admin.get(f"/v1/api-keys/{wide['id']}").json()
    assert (after["name"], after["site_ids"]) == ("unseen", None)
