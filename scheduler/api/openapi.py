"""The error answers and the examples of every operation, written into the OpenAPI document once.

Litestar documents a generic ``400`` on each operation, while the service answers errors as
RFC 9457 problems with the contract's statuses (422, 401, 403, 404, 409, 413, 415, 429). This
rewrites each operation's error responses from what the middleware and handlers can answer,
so that clients (and the schema-driven fuzzer) see the real contract.

Litestar also drops pydantic models' own examples, so ``document_examples`` writes those of
``api/examples.py`` onto the component schemas and onto each request and response body. (Its
serialiser leaves out null members, so an example shows an optional field only when it is set.)
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from litestar import Litestar
from litestar.openapi.spec import (
    Example,
    OpenAPI,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Reference,
    RequestBody,
    Schema,
)

from scheduler.api.examples import examples_by_schema_name
from scheduler.api.problems import PROBLEM_JSON

PROBLEM_SCHEMA = "Problem"
WRITE_METHODS = ("post", "put", "patch", "delete")
# (status, description): which errors an operation can answer depends on where it lives.
VALIDATION = ("422", "Invalid input (validation-error, invalid-phone, idempotency-key-reused)")
UNAUTHORIZED = ("401", "No API key, or an unknown or revoked one (unauthorized)")
FORBIDDEN = ("403", "The API key lacks the scope (forbidden)")
BAD_SIGNATURE = ("403", "Missing or invalid X-Twilio-Signature (forbidden)")
NOT_FOUND = ("404", "Unknown id, token or revoked feed (not-found)")
CONFLICT = ("409", "Conflict: in-use, slot-unavailable, family-busy or interpreter-unavailable")
TOO_LARGE = ("413", "Request body too large (payload-too-large)")
NOT_JSON = ("415", "The body is not JSON (unsupported-media-type)")
RATE_LIMITED = ("429", "Too many requests for this key (rate-limited); see Retry-After")
# The family, report and staff pages answer people, not programs: their errors are HTML pages.
PAGE_SCHEMA = re.compile(r"^Page_(\w+)_$")  # how Litestar names ``Page[XOut]``
PAGE_ERRORS = [("403", "The form was refused (expired or tampered)"), ("404", "Unknown or expired link"),
               ("429", "Too many requests from this address or for this link; see Retry-After")]
# The staff page's forms may also find the appointment past the action, or a reason missing.
STAFF_FORM_ERRORS = [("409", "The appointment can no longer take this action"),
                     ("422", "The cancellation's reason is missing or too long (the page again)")]


def document_errors(app: Litestar) -> None:
    """Start-up hook: rewrite the error responses of the app's (cached) OpenAPI document."""
    describe_errors(app.openapi_schema)


def describe_errors(openapi: OpenAPI) -> None:
    """Replace Litestar's generic 400 by the problem responses each operation can give."""
    _add_problem_schema(openapi)
    for path, item in (openapi.paths or {}).items():
        for method in ("get", "post", "put", "patch", "delete"):
            operation = getattr(item, method, None)
            if isinstance(operation, Operation):
                _describe(operation, path, method)


def _describe(operation: Operation, path: str, method: str) -> None:
    responses = operation.responses or {}
    responses.pop("400", None)
    page = path.startswith(("/r/", "/reports/", "/s/"))
    form_errors = STAFF_FORM_ERRORS if path.startswith("/s/") and method == "post" else []
    for status, description in PAGE_ERRORS + form_errors if page else _errors(operation, path, method):
        responses.setdefault(status, _html(description) if page else _problem(description))
    operation.responses = responses
    if not path.startswith("/v1/"):
        # Health, schema, metrics, feeds, webhooks and family pages take no API key.
        operation.security = []


def _errors(operation: Operation, path: str, method: str) -> list[tuple[str, str]]:
    errors = [VALIDATION]
    if path.startswith("/v1/"):
        errors += [UNAUTHORIZED, FORBIDDEN, RATE_LIMITED]
    elif path.startswith("/webhooks/"):
        errors.append(BAD_SIGNATURE)
    if path.startswith(("/v1/", "/webhooks/")) or "{" in path:  # ids in paths, queries and bodies
        errors.append(NOT_FOUND)
    if path.startswith("/v1/") and method in WRITE_METHODS:
        errors.append(CONFLICT)
    if operation.request_body is not None:
        errors += [TOO_LARGE] + ([NOT_JSON] if path.startswith("/v1/") else [])
    return errors


def _problem(description: str) -> OpenAPIResponse:
    return OpenAPIResponse(
        description=description,
        content={PROBLEM_JSON: OpenAPIMediaType(schema=Reference(f"#/components/schemas/{PROBLEM_SCHEMA}"))},
    )


def _html(description: str) -> OpenAPIResponse:
    return OpenAPIResponse(description=description,
                           content={"text/html": OpenAPIMediaType(schema=Schema(type=OpenAPIType.STRING))})


def _add_problem_schema(openapi: OpenAPI) -> None:
    schemas = openapi.components.schemas if openapi.components.schemas is not None else {}
    schemas[PROBLEM_SCHEMA] = Schema(
        type=OpenAPIType.OBJECT,
        required=["type", "title", "status", "detail", "code"],
        properties={
            "type": Schema(type=OpenAPIType.STRING),
            "title": Schema(type=OpenAPIType.STRING),
            "status": Schema(type=OpenAPIType.INTEGER),
            "detail": Schema(type=OpenAPIType.STRING),
            "code": Schema(
                type=OpenAPIType.STRING, description="A stable machine string, e.g. slot-unavailable."
            ),
            "errors": Schema(
                type=OpenAPIType.ARRAY,
                description="For validation-error: each field and its problem.",
                items=Schema(
                    type=OpenAPIType.OBJECT,
                    required=["field", "message"],
                    properties={
                        "field": Schema(
                            type=OpenAPIType.STRING, description="The field, as sent; empty for the body."
                        ),
                        "message": Schema(type=OpenAPIType.STRING),
                    },
                ),
            ),
        },
        description="An RFC 9457 problem.",
    )
    openapi.components.schemas = schemas


def document_examples(app: Litestar) -> None:
    """Start-up hook: put an example on every schema, request body and response body that has one."""
    describe_examples(app.openapi_schema)


def describe_examples(openapi: OpenAPI) -> None:
    """Write each model's example on its component schema and on the bodies that use it."""
    schemas = openapi.components.schemas or {}
    named = examples_by_schema_name()
    for name, schema in schemas.items():
        value = _example_for(name, named)
        if value is not None:
            schema.examples = [value]
    for media in _bodies(openapi):
        ref = _schema_name(media.schema)
        target = schemas.get(ref) if ref else None
        if target is not None and target.examples:
            media.examples = {"example": Example(summary=f"A {ref}", value=target.examples[0])}


def _example_for(name: str, named: dict[str, dict[str, Any]]) -> dict[str, Any] | None:
    page = PAGE_SCHEMA.match(name)
    if page and page.group(1) in named:
        return {"items": [named[page.group(1)]], "next_cursor": None}
    return named.get(name)


def _bodies(openapi: OpenAPI) -> Iterator[OpenAPIMediaType]:
    """The JSON media types of every request body and response."""
    for item in (openapi.paths or {}).values():
        for method in ("get", "post", "put", "patch", "delete"):
            operation = getattr(item, method, None)
            if not isinstance(operation, Operation):
                continue
            bodies = [operation.request_body, *(operation.responses or {}).values()]
            for body in bodies:
                if isinstance(body, RequestBody | OpenAPIResponse):
                    yield from (
                        media for kind, media in (body.content or {}).items() if kind.endswith("json")
                    )


def _schema_name(schema: Any) -> str | None:
    """The component a body refers to, directly or as the non-null branch of an optional body."""
    if isinstance(schema, Reference):
        return schema.ref.rsplit("/", 1)[-1]
    if isinstance(schema, Schema):
        refs = [branch for branch in (schema.one_of or schema.any_of or []) if isinstance(branch, Reference)]
        return refs[0].ref.rsplit("/", 1)[-1] if len(refs) == 1 else None
    return None
