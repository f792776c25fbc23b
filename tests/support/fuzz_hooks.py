"""Schemathesis hooks: valid values for the string formats the OpenAPI document names.

The document says ``format: phone`` (or ``mobile``, ``time-zone``, ``language``) where the
service checks a value against a library (phonenumbers, the IANA zone database, ISO 639) that
no JSON Schema pattern can describe; these strategies give the fuzzer values a client would send.
Loaded with ``SCHEMATHESIS_HOOKS=tests/support/fuzz_hooks.py``.
"""

from __future__ import annotations

import uuid

import schemathesis
from hypothesis import strategies as st

PHONES = ["01 43 94 33 00", "+33 1 43 94 33 00", "+590590123456"]
MOBILES = ["06 12 34 56 78", "+33612345678", "+32470123456"]
ZONES = ["Europe/Paris", "America/Cayenne", "Indian/Reunion"]
schemathesis.openapi.format("phone", st.sampled_from(PHONES))
schemathesis.openapi.format("mobile", st.sampled_from(MOBILES))
schemathesis.openapi.format("time-zone", st.sampled_from(ZONES))
schemathesis.openapi.format("language", st.sampled_from(["fr", "ar", "ber", "en", "fsl"]))


# Every next_cursor the server gave during the run: the only cursors a client can send.
GIVEN_CURSORS: set[str] = set()


@schemathesis.hook
def before_call(ctx: schemathesis.HookContext, case: schemathesis.Case, **kwargs: object) -> None:
    """A fuzzed request is a new request, never a retry, and it pages only with a cursor it was given.

    - Each gets its own Idempotency-Key: the same key with another body is a 422 by contract,
      and two generated cases sharing a short key such as "0" are not what the key is for.
    - A schema-valid case carries a ``cursor`` only if the server gave it (a cursor is opaque:
      any other is refused, a documented 422); a negative case keeps its broken cursor.
    """
    if case.headers and "Idempotency-Key" in case.headers:
        case.headers["Idempotency-Key"] = uuid.uuid4().hex
    positive = case.meta is None or case.meta.generation.mode.is_positive
    if positive and case.query and case.query.get("cursor") not in GIVEN_CURSORS:
        case.query.pop("cursor", None)


@schemathesis.hook
def after_call(
    ctx: schemathesis.HookContext, case: schemathesis.Case, response: schemathesis.Response
) -> None:
    """Remember the cursors the server gives."""
    if response.headers.get("content-type", [""])[0].startswith("application/json"):
        body = response.json()
        if isinstance(body, dict) and isinstance(body.get("next_cursor"), str):
            GIVEN_CURSORS.add(body["next_cursor"])


# The contract's table (docs/api.md), plus the framework-level answers we map ourselves.
CONTRACT_CODES = {
    "validation-error", "invalid-phone", "idempotency-key-reused", "unauthorized", "forbidden", "not-found",
    "in-use", "slot-unavailable", "interpreter-unavailable", "rate-limited", "webhook-url-refused",
    "family-busy", "rule-overlap", "service-unavailable",
}
OWN_CODES = {"method-not-allowed", "payload-too-large", "unsupported-media-type", "appointment-closed",
             "secret-key-required", "import-refused", "request-timeout", "request-headers-too-large"}


@schemathesis.check
def error_is_a_problem_with_a_contract_code(
    ctx: schemathesis.CheckContext, response: schemathesis.Response, case: schemathesis.Case
) -> bool | None:
    """A 4xx is a problem+json with a ``code`` of the contract's table (HTML on the families' pages)."""
    if response.status_code < 400:
        return None
    content_type = response.headers.get("content-type", [""])[0]
    # The family, report and staff pages answer HTML; a refused method is the framework's problem+json.
    if case.path.startswith(("/r/", "/reports/", "/s/")) and response.status_code != 405:
        assert content_type.startswith("text/html"), (response.status_code, content_type)
        return None
    assert content_type.startswith("application/problem+json"), (response.status_code, response.text[:300])
    body = response.json()
    assert body["code"] in CONTRACT_CODES | OWN_CODES, body
    assert body["status"] == response.status_code, body
    return None
