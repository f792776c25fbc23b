"""Hostile request bodies and the security headers, against a real server on both databases."""

from __future__ import annotations

import re
import secrets
from pathlib import Path

import httpx
import pytest

from tests.support.api import PROBLEM, at, booking, created, programme, upcoming
from tests.support.databases import sqlite_database
from tests.support.server import RunningServer, start_server

NESTED_ARRAYS = b"[" * 975 + b"]" * 975
NESTED_OBJECTS = b'{"a":' * 975 + b"1" + b"}" * 975
PATH_PARAMETER = re.compile(r"\{[^}]+\}")


def _json_endpoints(server: RunningServer) -> list[tuple[str, str]]:
    """Every (method, path) of the API that takes a JSON body, from the published OpenAPI document."""
    document = httpx.get(server.base_url + "/schema/openapi.json", timeout=10).json()
    found = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if "application/json" in operation.get("requestBody", {}).get("content", {}):
                found.append(
                    (method.upper(), PATH_PARAMETER.sub("00000000-0000-0000-0000-000000000000", path))
                )
    return found


@pytest.mark.parametrize("body", [NESTED_ARRAYS, NESTED_OBJECTS], ids=["arrays", "objects"])
def test_deeply_nested_json_is_a_validation_error_on_every_json_endpoint(
    server: RunningServer, body: bytes
) -> None:
    assert len(body) < 8 * 1024
    endpoints = _json_endpoints(server)
    assert len(endpoints) > 10 and ("POST", "/v1/appointments") in endpoints
    with server.client() as client:
        for method, path in endpoints:
            response = client.request(
                method, path, content=body, headers={"Content-Type": "application/json"}
            )
            assert response.status_code == 422, (method, path, response.status_code, response.text)
            assert response.headers["content-type"].startswith(PROBLEM)
            assert response.json()["code"] == "validation-error"


def test_json_nested_as_deep_as_a_real_request_is_accepted(server: RunningServer) -> None:
    with server.client() as client:
        prog = programme(client)
        body = booking(prog, at(upcoming(3, weeks_ahead=5), "09:00"), note="[[[{{{ ]]] }}} \\\" [")
        created(client.post("/v1/appointments", json=body))


def test_family_data_answers_are_not_stored_nor_sniffed(server: RunningServer) -> None:
    with server.client() as client:
        prog = programme(client)
        answers = [client.get(f"/v1/sites/{prog.site_id}"), client.get("/v1/sites/unknown"),
                   client.post("/v1/appointments", json={}), client.get("/v1/slots", params={"x": "y"})]
        feed = created(client.post(f"/v1/staff/{prog.staff_id}/feeds", json={}))
    for response in answers:
        assert response.headers["cache-control"] == "no-store", response.request.url
        assert response.headers["x-content-type-options"] == "nosniff"
    calendar = httpx.get(feed["url"], timeout=10)
    assert calendar.headers["cache-control"] == "private, max-age=300" and "etag" in calendar.headers
    assert calendar.headers["x-content-type-options"] == "nosniff"
    for path in ("/health", "/schema/openapi.json", "/nowhere"):
        assert httpx.get(server.base_url + path, timeout=10).headers["x-content-type-options"] == "nosniff"
    # Served over plain http (as in these tests), no HSTS: browsers ignore it there anyway.
    assert "strict-transport-security" not in answers[0].headers


def test_hsts_when_the_public_url_is_https(tmp_path: Path) -> None:
    env = {"CRENEAU_PUBLIC_URL": "https://rdv.example.fr"}
    with start_server(
        sqlite_database(tmp_path), tmp_path, admin_key=secrets.token_urlsafe(24), extra_env=env
    ) as server:
        for path in ("/health", "/v1/sites", "/nowhere"):
            response = httpx.get(
                server.base_url + path, headers={"Authorization": f"Bearer {server.admin_key}"}, timeout=10
            )
            assert response.headers["strict-transport-security"] == "max-age=31536000; includeSubDomains"
