"""docs/api.md, the project's copy of the public contract, and the served OpenAPI document stay in step.

Every operation the server serves is named in docs/api.md, and every endpoint docs/api.md names is
served, except the second round's endpoints still being built: those are listed below, and the
list may only shrink.
"""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from tests.support.server import RunningServer

API_DOCUMENT = Path(__file__).resolve().parents[2] / "docs" / "api.md"
# "`GET /v1/slots?service_id=…`", "`DELETE /v1/feeds/{id-or-token}`": a method, then an absolute
# path (relative ones such as "`GET /{id}`" are spelled out in full in the document's index).
ENDPOINT = re.compile(r"\b(GET|POST|PUT|PATCH|DELETE)\s+(/[a-z][^\s`?]*)")
METHODS = ("get", "post", "put", "patch", "delete")
# Served by the framework beside the OpenAPI document rather than described in it.
SERVED_OUTSIDE_THE_DOCUMENT = {"GET /schema/openapi.json"}


def _same_shape(endpoint: str) -> str:
    """``GET /feeds/{token}.ics`` and ``GET /feeds/{filename}`` alike: each parameter as ``{}``."""
    return re.sub(r"\{[^}]*\}[^/]*", "{}", endpoint)


def _written() -> set[str]:
    text = API_DOCUMENT.read_text(encoding="utf-8")
    return {_same_shape(f"{method} {path}") for method, path in ENDPOINT.findall(text)}


@pytest.fixture(scope="module")
def served(server: RunningServer) -> set[str]:
    response = httpx.get(server.base_url + "/schema/openapi.json", timeout=10)
    assert response.status_code == 200
    paths: dict[str, dict[str, object]] = response.json()["paths"]
    return {_same_shape(f"{method.upper()} {path}")
            for path, item in paths.items() for method in METHODS if method in item}


def test_every_served_operation_is_in_the_api_document(served: set[str]) -> None:
    assert len(served) > 60  # the whole API, not an empty document
    assert served - _written() == set()


def test_every_endpoint_of_the_api_document_is_served(served: set[str]) -> None:
    assert _written() - served - SERVED_OUTSIDE_THE_DOCUMENT == set()

