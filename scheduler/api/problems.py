"""Every error as RFC 9457 ``application/problem+json`` with a stable ``code``, mapped in one place."""

from __future__ import annotations

import logging
import traceback
from pathlib import PurePath
from typing import Any

from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from scheduler.domain.errors import DomainError
from scheduler.services.operations import RETRY_AFTER_SECONDS, is_database_outage

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://creneau.fr/problems/"
log = logging.getLogger("creneau.api")

# Litestar's own HTTP errors, by status: (code, title). 400 becomes 422: the contract names
# malformed input a validation error.
HTTP_CODES: dict[int, tuple[str, str]] = {
    400: ("validation-error", "Invalid request"),
    401: ("unauthorized", "Unauthorized"),
    403: ("forbidden", "Forbidden"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    413: ("payload-too-large", "Request body too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
    429: ("rate-limited", "Too many requests"),
}


def problem(status: int, code: str, title: str, detail: str, **extra: Any) -> Response[dict[str, Any]]:
    """A problem+json response."""
    body = {
        "type": TYPE_BASE + code,
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
        **extra,
    }
    return Response(body, status_code=status, media_type=PROBLEM_JSON)


def domain_error(_: Request[Any, Any, Any], exc: DomainError) -> Response[dict[str, Any]]:
    """A domain error: its own status, code and detail."""
    return problem(exc.status, exc.code, exc.title, exc.detail, **exc.extra)


def validation_error(_: Request[Any, Any, Any], exc: ValidationException) -> Response[dict[str, Any]]:
    """A malformed request: 422 with each field's problem, never the submitted values."""
    errors = [_field_error(item) for item in (exc.extra or []) if isinstance(item, dict)]
    detail = "; ".join(f"{e['field']}: {e['message']}" if e["field"] else e["message"] for e in errors)
    return problem(422, "validation-error", "Invalid request", detail or _safe_detail(exc), errors=errors)


def _field_error(item: dict[str, Any]) -> dict[str, str]:
    # Litestar reports "key" (field path) and "message"; pydantic's message never holds the
    # value except in "input", which is dropped here: it could be a phone number.
    # A parameter named after a Python keyword ("from_" for the query's "from") is named as sent.
    field = str(item.get("key") or "").removesuffix("_")
    return {"field": field, "message": str(item.get("message", "invalid"))}


def _safe_detail(exc: HTTPException) -> str:
    detail = str(exc.detail or "")
    return detail if len(detail) < 200 and "Traceback" not in detail else "The request is malformed."


def http_error(_: Request[Any, Any, Any], exc: HTTPException) -> Response[dict[str, Any]]:
    """Framework errors (401, 404, 405, 413...) in the same shape."""
    code, title = HTTP_CODES.get(exc.status_code, ("http-error", "Request refused"))
    status = 422 if exc.status_code == 400 else exc.status_code
    response = problem(status, code, title, _safe_detail(exc))
    if exc.headers:
        response.headers.update(exc.headers)
    return response


def internal_error(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    """A bug: logged by type and code location only, answered without any internals.

    Neither the message nor the traceback is logged: a database error's message carries the
    SQL and its parameters, which may include a phone number.
    """
    if is_database_outage(exc):
        return database_unavailable(request, exc)
    log.error("unhandled %s at %s on %s %s", type(exc).__name__, _where(exc), request.method, _route(request))
    return problem(
        HTTP_500_INTERNAL_SERVER_ERROR, "internal-error", "Internal error",
        "The service failed to answer; the error was logged.",
    )


def database_unavailable(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    """The database cannot be reached or written now: 503, to be retried, logged by type only."""
    log.warning("database unavailable (%s at %s) on %s %s", type(exc).__name__, _where(exc), request.method,
                _route(request))
    response = problem(503, "service-unavailable", "Service unavailable",
                       "The database does not answer; try again shortly.")
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def _route(request: Request[Any, Any, Any]) -> str:
    """The route's template (``/v1/appointments/{appointment_id}``), never the raw path: a path holds
    ids and tokens, and one route's errors read as one line in the logs."""
    return str(request.scope.get("path_template") or "(no route)")


def _where(exc: BaseException) -> str:
    """The innermost frame of our own code (else the innermost frame): ``folder/file.py:line``."""
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [
        frame for frame in frames if "/scheduler/" in frame.filename or "/notifications/" in frame.filename
    ]
    if not (ours or frames):
        return "?"
    frame = (ours or frames)[-1]
    path = PurePath(frame.filename)
    return f"{path.parent.name}/{path.name}:{frame.lineno}"


EXCEPTION_HANDLERS: dict[Any, Any] = {
    DomainError: domain_error,
    ValidationException: validation_error,
    HTTPException: http_error,
    Exception: internal_error,
}

MEDIA_TYPE = MediaType.JSON
