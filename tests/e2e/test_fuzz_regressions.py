"""What the schema fuzzer found, kept as plain tests: the OpenAPI document says what the server answers."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support.api import PROBLEM
from tests.support.server import RunningServer


@pytest.fixture(scope="module")
def document(server: RunningServer) -> dict[str, Any]:
    response = httpx.get(server.base_url + "/schema/openapi.json", timeout=10)
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def _responses(document: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    responses: dict[str, Any] = document["paths"][path][method]["responses"]
    return responses


def test_an_unknown_id_in_a_query_is_a_documented_404(
    server: RunningServer, document: dict[str, Any]
) -> None:
    # Found: GET /v1/slots?service_id=0 answered 404, which the document did not declare.
    with server.client() as client:
        response = client.get(
            "/v1/slots", params={"service_id": "0", "from": "2030-01-01", "to": "2030-01-01"}
        )
    assert (response.status_code, response.json()["code"]) == (404, "not-found")
    assert PROBLEM in _responses(document, "get", "/v1/slots")["404"]["content"]


@pytest.mark.parametrize("status", ["401", "403", "422", "429"])
def test_every_v1_operation_documents_its_problem_answers(document: dict[str, Any], status: str) -> None:
    # Found: only Litestar's generic 400 (never sent: bad input is 422) was declared.
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if path.startswith("/v1/"):
                assert "400" not in operation["responses"], (method, path)
                assert PROBLEM in operation["responses"][status]["content"], (method, path, status)


def test_no_key_is_a_documented_401(server: RunningServer, document: dict[str, Any]) -> None:
    response = httpx.get(server.base_url + "/v1/sites", timeout=10)
    assert (response.status_code, response.json()["code"]) == (401, "unauthorized")
    assert "401" in _responses(document, "get", "/v1/sites")


@pytest.mark.parametrize("path", ["/health", "/health/live", "/metrics", "/feeds/{filename}",
                                  "/webhooks/twilio/status", "/r/{token}"])
def test_public_operations_declare_no_api_key(document: dict[str, Any], path: str) -> None:
    # Found: the document's global bearer requirement applied to endpoints that take none.
    for operation in document["paths"][path].values():
        assert operation["security"] == []


def test_family_page_errors_are_documented_as_html(server: RunningServer, document: dict[str, Any]) -> None:
    # Found: /r/0 answers an HTML 404 page (for a family's browser), documented as JSON.
    response = httpx.get(server.base_url + "/r/0", timeout=10)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "text/html" in _responses(document, "get", "/r/{token}")["404"]["content"]


def test_an_unsigned_webhook_is_a_documented_403(server: RunningServer, document: dict[str, Any]) -> None:
    response = httpx.post(server.base_url + "/webhooks/twilio/status", data={"MessageSid": "SM0"}, timeout=10)
    assert (response.status_code, response.json()["code"]) == (403, "forbidden")
    assert PROBLEM in _responses(document, "post", "/webhooks/twilio/status")["403"]["content"]
