"""The served OpenAPI document describes every body with an example, as the contract asks."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support.server import RunningServer

MAIN_RESOURCES = [
    "SiteOut",
    "StaffOut",
    "ServiceOut",
    "RuleOut",
    "AbsenceOut",
    "OpeningOut",
    "InterpreterOut",
    "ApiKeyOut",
    "ApiKeyCreated",
    "SlotOut",
    "AppointmentOut",
    "MessageOut",
    "ReplyOut",
    "FeedCreated",
]


@pytest.fixture(scope="module")
def document(server: RunningServer) -> dict[str, Any]:
    response = httpx.get(server.base_url + "/schema/openapi.json", timeout=10)
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def _component(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any] | None:
    refs = [schema.get("$ref")] + [branch.get("$ref") for branch in schema.get("oneOf", [])]
    names = [ref.rsplit("/", 1)[-1] for ref in refs if ref]
    found: dict[str, Any] | None = document["components"]["schemas"].get(names[0]) if names else None
    return found


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(method, path, operation) for path, item in document["paths"].items()
            for method, operation in item.items()]


def test_every_json_request_body_has_an_example(document: dict[str, Any]) -> None:
    bodies = 0
    for method, path, operation in _operations(document):
        media = operation.get("requestBody", {}).get("content", {}).get("application/json")
        if media is None:
            continue
        bodies += 1
        component = _component(document, media["schema"])
        assert component is not None and component.get("examples"), (method, path)
        assert media["examples"]["example"]["value"] == component["examples"][0], (method, path)
        assert set(component["examples"][0]) <= set(component["properties"]), (method, path)
    assert bodies >= 20


@pytest.mark.parametrize("name", MAIN_RESOURCES)
def test_main_resources_have_an_example_and_so_do_their_pages(document: dict[str, Any], name: str) -> None:
    schemas = document["components"]["schemas"]
    example = schemas[name]["examples"][0]
    assert set(example) <= set(schemas[name]["properties"])
    assert "id" in example or "id" not in schemas[name]["properties"]  # null members are left out
    page = schemas.get(f"Page_{name}_")
    if page is not None:
        assert page["examples"] == [{"items": [example]}]  # next_cursor null: left out by the serialiser


def test_responses_carry_the_examples_of_their_schema(document: dict[str, Any]) -> None:
    examples = {
        (method, path): media["examples"]["example"]["value"]
        for method, path, operation in _operations(document)
        for status, response in operation["responses"].items()
        if status.startswith("2")
        for kind, media in response.get("content", {}).items()
        if kind == "application/json" and "examples" in media
    }
    assert examples[("post", "/v1/appointments")]["family"] == {
        "reference": "PRE-2026-014", "phone": "+33612345678", "language": "fr", "sms_consent": True}
    assert examples[("get", "/v1/slots")]["items"][0]["start"] == "2026-11-25T09:00:00+01:00"
    assert (
        "key" in examples[("post", "/v1/api-keys")]
        and "key" not in examples[("get", "/v1/api-keys/{key_id}")]
    )
