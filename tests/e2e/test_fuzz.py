"""Schemathesis against a real server's own OpenAPI document: every operation, with and without a key.

For each generated request: no 5xx, every 4xx a problem+json whose ``code`` is in the
contract's table (or one of the framework's own), and status, content type and body as the
document declares. Bounded: a few examples per operation, no stateful phase.
"""

from __future__ import annotations

from typing import Any

import httpx
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from tests.support.api import PROBLEM
from tests.support.server import RunningServer

# The contract's table (API.md), plus the framework-level answers we map ourselves.
CONTRACT_CODES = {
    "validation-error", "invalid-phone", "idempotency-key-reused", "unauthorized", "forbidden", "not-found",
    "in-use", "slot-unavailable", "interpreter-unavailable", "rate-limited", "webhook-url-refused",
}
OWN_CODES = {"method-not-allowed", "payload-too-large", "unsupported-media-type", "appointment-closed",
             "secret-key-required"}
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
EXAMPLES_PER_OPERATION = 12


def test_every_operation_answers_per_contract(server: RunningServer) -> None:
    document = httpx.get(server.base_url + "/schema/openapi.json", timeout=10).json()
    operations = [result.ok() for result in schemathesis.openapi.from_dict(document).get_all_operations()]
    assert len(operations) > 50
    failures = {}
    for operation in operations:
        try:
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                _fuzz(operation, mode, server)
        except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - one run shows every failing operation
            failures[operation.label] = f"{type(exc).__name__}: {str(exc)[:1500]}"
    assert not failures, "\n\n".join(f"{label}\n{text}" for label, text in failures.items())


def _fuzz(operation: Any, mode: GenerationMode, server: RunningServer) -> None:
    """Valid-looking requests (positive) and requests that break the schema (negative)."""

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
    def run(case: Any) -> None:
        for headers in ({"Authorization": f"Bearer {server.admin_key}"}, {}):
            response = case.call(base_url=server.base_url, headers=headers, timeout=30)
            case.validate_response(response, checks=CHECKS, headers=headers)
            assert_problem_if_error(response)

    try:
        run()
    except Unsatisfiable:
        # Nothing to break: no parameter or body has a constraint a negative case could violate.
        if mode is GenerationMode.POSITIVE:
            raise


def assert_problem_if_error(response: Any) -> None:
    """A 4xx is a problem+json with a known code (an HTML page on the families' pages)."""
    assert response.status_code < 500, response.text
    if response.status_code < 400:
        return
    content_type = response.headers.get("content-type", [""])[0]
    if response.request.url.split("/", 3)[-1].startswith("r/"):
        assert content_type.startswith("text/html"), (response.status_code, content_type)
        return
    assert content_type.startswith(PROBLEM), (response.status_code, response.text)
    body = response.json()
    assert body["code"] in CONTRACT_CODES | OWN_CODES, body
    assert body["status"] == response.status_code, body
