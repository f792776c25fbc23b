"""Input types every request schema and parameter shares: one-line and multi-line text, exact
integers and booleans, dates in the service's window; and the guard on URLs' control characters.

The rules themselves are pure (``scheduler/domain/input_rules.py``); this module attaches them to
pydantic (JSON bodies) and to Litestar's parameter parsing (paths and query strings), each error
a 422 ``validation-error`` naming the field.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated, Any, ClassVar
from urllib.parse import parse_qsl

from litestar.enums import ScopeType
from litestar.openapi.spec import OpenAPIFormat, OpenAPIType, Schema
from litestar.plugins import InitPluginProtocol, OpenAPISchemaPlugin
from litestar.routes import HTTPRoute
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BeforeValidator,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    WithJsonSchema,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, core_schema

from scheduler.domain.errors import InvalidInput
from scheduler.domain.input_rules import date_problem, has_control_character, instant_problem, text_problem

if TYPE_CHECKING:
    from litestar import Litestar
    from litestar._openapi.schema_generation import SchemaCreator
    from litestar.config.app import AppConfig
    from litestar.types import ASGIApp, Receive, Scope, Send
    from litestar.typing import FieldDefinition


def _raise(problem: str | None) -> None:
    if problem is not None:
        raise ValueError(problem)


# --- text --------------------------------------------------------------------------------------


def _one_line(value: str) -> str:
    _raise(text_problem(value))
    return value


def _lines(value: str) -> str:
    _raise(text_problem(value, multiline=True))
    return value


# The same rules as JSON Schema patterns, for the OpenAPI document (``input_rules`` says why).
# Unpaired surrogates, refused too, are left out: JSON Schema validators take no surrogate range.
ONE_LINE_PATTERN = "^[^\\u0000-\\u001f\\u007f-\\u009f\\u2028\\u2029]*$"
MULTI_LINE_PATTERN = "^[^\\u0000-\\u0009\\u000b-\\u001f\\u007f-\\u009f\\u2028\\u2029]*$"
# Years 1900 to 2999, the service's window, as the start of a written date or instant.
DATE_WINDOW_PATTERN = "^(19|2[0-9])[0-9]{2}-"


class _TextRule(AfterValidator):
    """A text rule that the JSON Schema of its field states too, as a ``pattern``."""

    pattern: ClassVar[str]

    def __get_pydantic_json_schema__(self, schema: CoreSchema, handler: GetJsonSchemaHandler
                                     ) -> JsonSchemaValue:
        value = handler(schema)
        value.setdefault("pattern", self.pattern)
        return value


class _OneLine(_TextRule):
    pattern = ONE_LINE_PATTERN


class _MultiLine(_TextRule):
    pattern = MULTI_LINE_PATTERN


ONE_LINE = _OneLine(_one_line)
"""A name, label, reason or identifier: no control character at all, so no line break."""
MULTI_LINE = _MultiLine(_lines)
"""A note or a postal address: lines separated by ``\\n``, no other control character."""


# --- exact scalars -----------------------------------------------------------------------------
# Litestar validates bodies in pydantic's lax mode (``strict=False`` overrides a field's own
# ``strict``), which reads 0 as false and false as 0: these types refuse what JSON Schema does.


def _exact_int(value: Any) -> Any:
    # JSON Schema counts 60.0 as an integer; a boolean, a string or 60.5 is not one.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("must be an integer")  # noqa: TRY004  (pydantic turns only ValueError into a 422)
    return value


def _exact_bool(value: Any) -> Any:
    if not isinstance(value, bool):
        raise ValueError("must be true or false")  # noqa: TRY004
    return value


ExactInt = Annotated[int, BeforeValidator(_exact_int)]
ExactBool = Annotated[bool, BeforeValidator(_exact_bool)]


# --- dates and instants ------------------------------------------------------------------------


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_ISO_INSTANT = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]")


class ApiDate(date):
    """A ``YYYY-MM-DD`` date between 1900-01-01 and 2999-12-31, in a body or a query string."""

    @classmethod
    def parse(cls, value: object) -> ApiDate:
        """The date a parameter's text names, or ValueError (not ISO 8601, or out of the window)."""
        if isinstance(value, date):
            day = value
        elif isinstance(value, str) and _ISO_DATE.fullmatch(value):
            day = date.fromisoformat(value)
        else:
            raise ValueError("must be a date written YYYY-MM-DD")
        _raise(date_problem(day))
        return cls(day.year, day.month, day.day)

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_before_validator_function(
            _written_date, core_schema.no_info_after_validator_function(cls.parse, handler(date)))

    @classmethod
    def __get_pydantic_json_schema__(cls, schema: CoreSchema, handler: GetJsonSchemaHandler
                                     ) -> JsonSchemaValue:
        return {**handler(schema), "pattern": DATE_WINDOW_PATTERN}


# Lax pydantic reads a number as a Unix time (0 is 1970-01-01): only the written form gets through.
def _written_date(value: Any) -> Any:
    if isinstance(value, date) or (isinstance(value, str) and _ISO_DATE.fullmatch(value)):
        return value
    raise ValueError("must be a date written YYYY-MM-DD")


def _written_instant(value: Any) -> Any:
    if isinstance(value, datetime) or (isinstance(value, str) and _ISO_INSTANT.match(value)):
        return value
    raise ValueError("must be an ISO 8601 date and time with its UTC offset")


def _instant(value: Any) -> Any:
    _raise(instant_problem(value))
    return value


ApiDateTime = Annotated[
    AwareDatetime, BeforeValidator(_written_instant), AfterValidator(_instant),
    WithJsonSchema({"type": "string", "format": "date-time", "pattern": DATE_WINDOW_PATTERN}),
]
"""An ISO 8601 instant with its UTC offset, its local date between 1900 and 2999."""
_UNENCODED_PLUS = re.compile(r" (\d{2}:?\d{2})$")


def query_instant(name: str, value: str | None) -> datetime | None:
    """A query parameter's ISO 8601 instant with its UTC offset; InvalidInput naming ``name`` otherwise.

    A ``+`` left unencoded in a query string arrives as a space: ``09:00:00 01:00`` reads as ``+01:00``.
    """
    if value is None:
        return None
    text = _UNENCODED_PLUS.sub(r"+\1", value)
    try:
        instant = datetime.fromisoformat(text) if _ISO_INSTANT.match(text) else None
    except ValueError:
        instant = None
    problem = ("must be an ISO 8601 date and time with its UTC offset" if instant is None
               else instant_problem(instant))
    if problem is not None:
        raise InvalidInput(f"{name}: {problem}", errors=[{"field": name, "message": problem}])
    return instant


# --- the URL guard -----------------------------------------------------------------------------

API_PREFIX = "/v1/"


def control_character_fields(scope: Scope) -> list[str]:
    """The path and query parameters whose decoded text holds a control character, named as
    Litestar names a parameter it refuses ("query" or "path" when the name itself is at fault)."""
    fields = [name if not has_control_character(name) else "query"
              for name, value in parse_qsl(scope.get("query_string", b"").decode("utf-8", "replace"),
                                           keep_blank_values=True)
              if has_control_character(name) or has_control_character(value)]
    if has_control_character(scope.get("path", "")):
        params = scope.get("path_params") or {}
        named = [name for name, value in params.items() if has_control_character(str(value))]
        fields = (named or ["path"]) + fields
    return list(dict.fromkeys(fields))


def url_guard(app: ASGIApp) -> ASGIApp:
    """Middleware: a NUL or other control character in the path or query string is a 422.

    PostgreSQL refuses NUL in text (a 500 there) where SQLite stores it; refusing every control
    character here makes both databases answer alike, before any handler reads an id. Only the
    API's paths: the family page, feeds and webhooks look nothing up by raw URL text (their
    tokens and references are checked against a signature or a hash first), and answer an
    unknown token in their own way.
    """

    async def guarded(scope: Scope, receive: Receive, send: Send) -> None:
        if (scope["type"] == ScopeType.HTTP and scope["path"].startswith(API_PREFIX)
                and (fields := control_character_fields(scope))):
            raise InvalidInput(
                "; ".join(f"{field}: must not contain control characters" for field in fields),
                errors=[{"field": field, "message": "must not contain control characters"}
                        for field in fields],
            )
        await app(scope, receive, send)

    return guarded


# --- unknown query parameters ------------------------------------------------------------------


def declared_query_parameters(app: Litestar) -> dict[int, frozenset[str]]:
    """The query parameters each route handler declares (its own and its dependencies'), by the
    handler's id: the names Litestar itself parses for the handler (``Parameter(query=...)`` aliases)."""
    declared: dict[int, frozenset[str]] = {}
    for route in app.routes:
        if isinstance(route, HTTPRoute):
            for handler, kwargs_model in route.route_handler_map.values():
                declared[id(handler)] = frozenset(
                    parameter.field_alias for parameter in kwargs_model.expected_query_params)
    return declared


def unknown_query_parameters(app: ASGIApp) -> ASGIApp:
    """Middleware: a query parameter the endpoint does not take is a 422, as an unknown body field is.

    A typo (``stafff_id``) or a filter the endpoint lacks would otherwise be ignored silently and
    answer more than was asked for. Only the API's paths, as for ``url_guard``.
    """
    declared: dict[int, frozenset[str]] | None = None

    async def guarded(scope: Scope, receive: Receive, send: Send) -> None:
        nonlocal declared
        query = scope.get("query_string")
        if scope["type"] == ScopeType.HTTP and scope["path"].startswith(API_PREFIX) and query:
            if declared is None:
                declared = declared_query_parameters(scope["litestar_app"])
            allowed = declared.get(id(scope["route_handler"]))
            names = dict.fromkeys(name for name, _ in parse_qsl(query.decode("utf-8", "replace"),
                                                                  keep_blank_values=True))
            unknown = [name for name in names if allowed is not None and name not in allowed]
            if unknown:
                raise InvalidInput(
                    "; ".join(f"{name}: unknown query parameter" for name in unknown),
                    errors=[{"field": name, "message": "unknown query parameter"} for name in unknown],
                )
        await app(scope, receive, send)

    return guarded


class InputsPlugin(InitPluginProtocol, OpenAPISchemaPlugin):
    """Registers what parameters need: ``ApiDate`` parsing and schema, the URL guard and the refusal
    of unknown query parameters."""

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        app_config.type_decoders = [*(app_config.type_decoders or []),
                                    (lambda kind: kind is ApiDate, lambda _, value: ApiDate.parse(value))]
        app_config.middleware = [*app_config.middleware, url_guard, unknown_query_parameters]
        return app_config

    @staticmethod
    def is_plugin_supported_type(value: Any) -> bool:
        return value is ApiDate

    def to_openapi_schema(self, field_definition: FieldDefinition, schema_creator: SchemaCreator) -> Schema:
        return Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.DATE, pattern=DATE_WINDOW_PATTERN,
                      examples=["2026-11-25"])
