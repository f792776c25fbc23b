"""API keys and scopes: 401 without or with a wrong key, 403 without the scope, revocation."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.support.api import PROBLEM, created
from tests.support.server import RunningServer

# (method, path) of each protected endpoint and the scope it needs.
ENDPOINTS = [
    ("GET", "/v1/slots?service_id=x&from=2026-12-01&to=2026-12-02", "slots:read"),
    ("GET", "/v1/pathway-slots?service_id=x&sessions=3&every_days=7&from=2026-12-01&to=2026-12-02",
     "slots:read"),
    ("POST", "/v1/appointments", "appointments:write"),
    ("GET", "/v1/appointments", "appointments:read"),
    ("GET", "/v1/appointments/x", "appointments:read"),
    ("POST", "/v1/appointments/x/cancel", "appointments:write"),
    ("POST", "/v1/appointments/x/reschedule", "appointments:write"),
    ("POST", "/v1/appointments/x/outcome", "appointments:write"),
    ("POST", "/v1/sites", "admin"),
    ("GET", "/v1/sites", "slots:read"),
    ("GET", "/v1/sites/x", "slots:read"),
    ("PATCH", "/v1/sites/x", "admin"),
    ("DELETE", "/v1/sites/x", "admin"),
    ("POST", "/v1/staff", "admin"),
    ("GET", "/v1/staff", "slots:read"),
    ("POST", "/v1/services", "admin"),
    ("GET", "/v1/services", "slots:read"),
    ("POST", "/v1/availability-rules", "admin"),
    ("GET", "/v1/availability-rules", "admin"),
    ("POST", "/v1/absences", "admin"),
    ("GET", "/v1/absences", "admin"),
    ("POST", "/v1/api-keys", "admin"),
    ("GET", "/v1/api-keys", "admin"),
    ("DELETE", "/v1/api-keys/x", "admin"),
    ("GET", "/v1/api-keys/x", "admin"),
    ("PATCH", "/v1/api-keys/x", "admin"),
    ("GET", "/v1/staff/x", "slots:read"),
    ("PATCH", "/v1/staff/x", "admin"),
    ("DELETE", "/v1/staff/x", "admin"),
    ("GET", "/v1/services/x", "slots:read"),
    ("PATCH", "/v1/services/x", "admin"),
    ("DELETE", "/v1/services/x", "admin"),
    ("GET", "/v1/availability-rules/x", "admin"),
    ("PATCH", "/v1/availability-rules/x", "admin"),
    ("DELETE", "/v1/availability-rules/x", "admin"),
    ("GET", "/v1/absences/x", "admin"),
    ("PATCH", "/v1/absences/x", "admin"),
    ("DELETE", "/v1/absences/x", "admin"),
    ("POST", "/v1/openings", "admin"),
    ("GET", "/v1/openings", "admin"),
    ("GET", "/v1/openings/x", "admin"),
    ("PATCH", "/v1/openings/x", "admin"),
    ("DELETE", "/v1/openings/x", "admin"),
    ("POST", "/v1/closures", "admin"),
    ("GET", "/v1/closures", "admin"),
    ("GET", "/v1/closures/x", "admin"),
    ("PATCH", "/v1/closures/x", "admin"),
    ("DELETE", "/v1/closures/x", "admin"),
    ("GET", "/v1/appointments/x/messages", "admin"),
    ("GET", "/v1/appointments/x/replies", "admin"),
    ("GET", "/v1/replies", "admin"),
    ("DELETE", "/v1/appointments/x/family-link", "admin"),
    ("PATCH", "/v1/families/x", "appointments:write"),
    ("POST", "/v1/appointments/x/interpreter", "admin"),
    ("POST", "/v1/interpreters", "admin"),
    ("GET", "/v1/interpreters", "admin"),
    ("GET", "/v1/interpreters/x", "admin"),
    ("PATCH", "/v1/interpreters/x", "admin"),
    ("DELETE", "/v1/interpreters/x", "admin"),
    ("GET", "/v1/stats/interpreters", "admin"),
    ("GET", "/v1/stats/appointments", "admin"),
    ("POST", "/v1/reports", "admin"),
    ("POST", "/v1/appointments/import", "admin"),
    ("POST", "/v1/staff/x/feeds", "admin"),
    ("POST", "/v1/sites/x/feeds", "admin"),
    ("POST", "/v1/interpreters/x/feeds", "admin"),
    ("DELETE", "/v1/feeds/x", "admin"),
    ("GET", "/v1/events", "appointments:read"),
    ("GET", "/v1/appointments/x/events", "appointments:read"),
    ("POST", "/v1/webhook-endpoints", "webhooks:write"),
    ("GET", "/v1/webhook-endpoints", "webhooks:write"),
    ("GET", "/v1/webhook-endpoints/x", "webhooks:write"),
    ("PATCH", "/v1/webhook-endpoints/x", "webhooks:write"),
    ("DELETE", "/v1/webhook-endpoints/x", "webhooks:write"),
    ("POST", "/v1/webhook-endpoints/x/rotate-secret", "webhooks:write"),
    ("GET", "/v1/webhook-endpoints/x/deliveries", "webhooks:write"),
    ("POST", "/v1/webhook-endpoints/x/deliveries/x/retry", "webhooks:write"),
    ("POST", "/v1/webhook-endpoints/x/replay", "webhooks:write"),
    ("POST", "/v1/pathways", "appointments:write"),
    ("GET", "/v1/pathways", "appointments:read"),
    ("GET", "/v1/pathways/x", "appointments:read"),
    ("POST", "/v1/pathways/x/sessions", "appointments:write"),
    ("POST", "/v1/pathways/x/close", "appointments:write"),
    ("GET", "/v1/staff/x/feeds", "admin"),
    ("GET", "/v1/sites/x/feeds", "admin"),
    ("GET", "/v1/audit", "admin"),
    ("POST", "/v1/waitlist", "appointments:write"),
    ("GET", "/v1/waitlist", "appointments:read"),
    ("GET", "/v1/waitlist/x", "appointments:read"),
    ("DELETE", "/v1/waitlist/x", "appointments:write"),
]
SCOPES = ["slots:read", "appointments:write", "admin", "appointments:read", "webhooks:write"]
IMPLIED = {("appointments:write", "appointments:read")}
"""(held, implied): a key holding the first may do what the second allows."""


@pytest.fixture(scope="module")
def keys(server: RunningServer) -> dict[str, str]:
    with server.client() as client:
        return {scope: created(client.post("/v1/api-keys", json={"name": scope, "scopes": [scope]}))["key"]
                for scope in SCOPES}


def _call(server: RunningServer, method: str, path: str, headers: dict[str, str]) -> httpx.Response:
    body = {} if method in {"POST", "PATCH"} else None
    return httpx.request(method, server.base_url + path, headers=headers, json=body, timeout=10)


@pytest.mark.parametrize(("method", "path", "scope"), ENDPOINTS)
def test_every_endpoint_needs_a_key_with_its_scope(
    server: RunningServer, keys: dict[str, str], method: str, path: str, scope: str
) -> None:
    for headers in ({}, {"Authorization": "Bearer crn_wrong"}, {"Authorization": "Basic abc"}):
        response = _call(server, method, path, headers)
        assert response.status_code == 401, (headers, response.text)
        assert response.headers["content-type"].startswith(PROBLEM)
        assert response.json()["code"] == "unauthorized"
    for held in SCOPES:
        response = _call(server, method, path, {"Authorization": f"Bearer {keys[held]}"})
        if held == scope or held == "admin" or (held, scope) in IMPLIED:
            assert response.status_code not in (401, 403), (held, response.text)
        else:
            assert (response.status_code, response.json()["code"]) == (403, "forbidden"), held


def test_the_matrix_covers_every_v1_operation_of_the_schema(server: RunningServer) -> None:
    document = httpx.get(server.base_url + "/schema/openapi.json", timeout=10).json()
    operations = {(method.upper(), re.sub(r"\{[^}]+\}", "x", path))
                  for path, item in document["paths"].items() if path.startswith("/v1/") for method in item}
    assert operations == {(method, path.split("?")[0]) for method, path, _ in ENDPOINTS}


def test_created_key_is_shown_once_and_stored_hashed(server: RunningServer) -> None:
    with server.client() as client:
        made = created(client.post("/v1/api-keys", json={"name": "partner", "scopes": ["slots:read"]}))
        assert made["key"].startswith("crn_") and len(made["key"]) > 40
        listed = client.get("/v1/api-keys").json()["items"]
        mine = [item for item in listed if item["id"] == made["id"]]
        assert mine == [{"id": made["id"], "name": "partner", "scopes": ["slots:read"], "site_ids": None,
                         "expires_at": None, "last_used_at": None}]
        assert made["key"] not in client.get("/v1/api-keys").text


def test_a_revoked_key_stops_working(server: RunningServer) -> None:
    with server.client() as client:
        made = created(client.post("/v1/api-keys", json={"name": "temp", "scopes": ["admin"]}))
        with server.client(made["key"]) as own:
            assert own.get("/v1/sites").status_code == 200
            assert client.delete(f"/v1/api-keys/{made['id']}").status_code == 204
            assert own.get("/v1/sites").status_code == 401


def test_public_endpoints_need_no_key(server: RunningServer) -> None:
    assert httpx.get(server.base_url + "/health").status_code == 200
    assert httpx.get(server.base_url + "/schema/openapi.json").status_code == 200


def test_a_slots_reader_sees_the_catalogue_without_staff_phones(
    server: RunningServer, keys: dict[str, str]
) -> None:
    with server.client() as client:
        staff = created(client.post("/v1/staff", json={"name": "Mme Reader", "role": "psychologist",
                                                       "phone": "06 12 34 56 78"}))
        assert client.get(f"/v1/staff/{staff['id']}").json()["phone"] == "+33612345678"  # admin sees it
    with server.client(keys["slots:read"]) as partner:
        one = partner.get(f"/v1/staff/{staff['id']}")
        listed = [item for item in partner.get("/v1/staff", params={"limit": 500}).json()["items"]
                  if item["id"] == staff["id"]]
        assert partner.post("/v1/staff", json={"name": "x", "role": "other"}).status_code == 403
    assert one.status_code == 200 and one.json() == {**staff, "phone": None}
    assert listed == [{**staff, "phone": None}]
    assert "612345678" not in one.text


def test_an_appointments_reader_reads_but_cannot_change(server: RunningServer, keys: dict[str, str]) -> None:
    with server.client(keys["appointments:read"]) as reader:
        assert reader.get("/v1/appointments").status_code == 200
        assert reader.get("/v1/events").status_code == 200
        assert reader.post("/v1/appointments/x/cancel", json={}).status_code == 403
        assert reader.get("/v1/sites").status_code == 403
