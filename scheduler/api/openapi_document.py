"""The served OpenAPI document says what the service enforces, in a shape client generators read.

Litestar's schemas of request bodies lose the constraints of an optional field (``Address |
None`` comes out as any string) and say nothing of refused extra fields; pydantic's own JSON
Schema of the same models is what the service validates, so each request body's component is
replaced by it. Then, on the served JSON:

- parameters: a query string has no ``null``, and an API parameter holds no control character;
- each enum (``kind``, ``school_zone``, ``status``...) is one named component, referred to from
  every place that uses it, rather than a copy per field (a generator makes a class of each);
- each create operation links to the operations that take its new ``id``, which is what lets a
  stateful client (or the fuzzer) follow a site to its staff, a booking to its cancel.

It runs at start-up, once, on the document Litestar caches.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, get_args

from litestar import Litestar
from pydantic import BaseModel

from scheduler.api import schemas as s
from scheduler.api.inputs import ONE_LINE_PATTERN

if TYPE_CHECKING:
    from litestar._openapi.plugin import OpenAPIPlugin

REF = "#/components/schemas/"
METHODS = ("get", "post", "put", "patch", "delete")
# Enums named after what they are; any other enum is named after its first owner and field.
NAMED_ENUMS: dict[str, Any] = {
    "SiteKind": s.SiteKind, "SchoolZone": s.SchoolZone, "HolidayRegion": s.HolidayRegion, "StaffRole": s.Role,
    "ApiKeyScope": s.Scope, "AppointmentStatus": s.AppointmentStatus, "InterpreterMode": s.Mode,
}
CURSOR_PATTERN = "^[A-Za-z0-9_-]*$"  # what ``encode_cursor`` writes: URL-safe base64, unpadded


def finish_document(app: Litestar) -> None:
    """Start-up hook: refine the served (cached) OpenAPI document in place."""
    plugin: OpenAPIPlugin = app.plugins.get("OpenAPIPlugin")  # Litestar's, which caches the served JSON
    refine(plugin.provide_openapi_schema())


def refine(document: dict[str, Any]) -> None:
    """Every refinement of the module docstring, in order."""
    schemas: dict[str, Any] = document["components"]["schemas"]
    for name, model in request_models().items():
        if name in schemas:
            schemas[name] = _validation_schema(model, schemas[name])
    for path, method, operation in operations(document):
        for parameter in operation.get("parameters", []):
            parameter["schema"] = _parameter_schema(parameter, path)
        _optional_body(operation)
    name_enums(document)
    link_creations(document)


def operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(path, method, operation) of every operation of the document."""
    for path, item in document.get("paths", {}).items():
        for method in METHODS:
            if method in item:
                yield path, method, item[method]


# --- request bodies ------------------------------------------------------------------------------


def request_models() -> dict[str, type[BaseModel]]:
    """The API's request body models, by name: the ones that refuse unknown fields."""
    found: dict[str, type[BaseModel]] = {}
    pending: list[type[BaseModel]] = [BaseModel]
    while pending:
        for model in pending.pop().__subclasses__():
            pending.append(model)
            if model.__module__.startswith("scheduler.api") and model.model_config.get("extra") == "forbid":
                found[model.__name__] = model
    return found


def _validation_schema(model: type[BaseModel], litestar_schema: dict[str, Any]) -> dict[str, Any]:
    schema: dict[str, Any] = _json_schema_bounds(model.model_json_schema(ref_template=REF + "{model}"))
    schema.pop("$defs", None)  # nested models are components of their own
    for field in schema.get("properties", {}).values():
        field.pop("title", None)
        if field.get("default", 0) is None and "anyOf" not in field:
            del field["default"]  # a PATCH field that may be left out, not set to null
    schema.pop("title", None)
    if "examples" in litestar_schema:
        schema["examples"] = litestar_schema["examples"]
    return schema


# Pydantic writes a bound on a validated integer (``ExactInt``) under its own name.
BOUNDS = {"ge": "minimum", "le": "maximum", "gt": "exclusiveMinimum", "lt": "exclusiveMaximum"}


def _json_schema_bounds(schema: Any) -> Any:
    if isinstance(schema, list):
        return [_json_schema_bounds(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    return {BOUNDS.get(key, key) if isinstance(schema.get("type"), str) else key: _json_schema_bounds(value)
            for key, value in schema.items()}


def _optional_body(operation: dict[str, Any]) -> None:
    """A body that may be left out (cancel's reason) is optional, not a required body that may be ``null``."""
    body = operation.get("requestBody", {})
    for media in body.get("content", {}).values():
        schema = _without_null(media["schema"])
        if schema != media["schema"]:
            media["schema"] = schema
            body["required"] = False


# --- parameters ----------------------------------------------------------------------------------


def _parameter_schema(parameter: dict[str, Any], path: str) -> dict[str, Any]:
    schema = _without_null(parameter["schema"])
    if schema.get("type") == "string" and not ({"format", "enum", "pattern"} & schema.keys()):
        if parameter["name"] == "cursor":
            schema["pattern"] = CURSOR_PATTERN
        elif path.startswith("/v1/") and parameter["in"] in ("path", "query"):
            schema["pattern"] = ONE_LINE_PATTERN  # the API refuses control characters in its URLs
    return schema


def _without_null(schema: dict[str, Any]) -> dict[str, Any]:
    """``X | None`` as ``X``, the constraints written beside the union kept on ``X``."""
    branches = schema.get("oneOf") or schema.get("anyOf")
    if branches and len(branches) == 2 and {"type": "null"} in branches:
        kept = next(branch for branch in branches if branch != {"type": "null"})
        rest = {key: value for key, value in schema.items() if key not in ("oneOf", "anyOf")}
        merged: dict[str, Any] = {**kept, **rest} if "$ref" not in kept else {**kept, **_annotations(rest)}
        return merged
    kinds = schema.get("type")
    if isinstance(kinds, list) and "null" in kinds:
        schema = {**schema, "type": next(kind for kind in kinds if kind != "null")}
        if "enum" in schema:
            schema["enum"] = [value for value in schema["enum"] if value is not None]
    return schema


def _annotations(schema: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in schema.items() if key in ("description", "default")}


# --- enums ---------------------------------------------------------------------------------------


def name_enums(document: dict[str, Any]) -> None:
    """Every inline enum of a schema or a parameter becomes a reference to one named component."""
    schemas: dict[str, Any] = document["components"]["schemas"]
    names = {tuple(get_args(kind)): name for name, kind in NAMED_ENUMS.items()}
    for fallback, holder, key in list(_enum_places(document)):
        holder[key] = _named_enum(holder[key], fallback, names, schemas)


def _enum_places(document: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any], str]]:
    """(fallback name, dict, key) of each schema holding an enum: properties, their items, parameters."""
    for name, schema in list(document["components"]["schemas"].items()):
        for field, value in schema.get("properties", {}).items():
            if _has_enum(value):
                yield name + _camel(field), schema["properties"], field
            if isinstance(value.get("items"), dict) and _has_enum(value["items"]):
                yield name + _camel(field), value, "items"
    for _, _, operation in operations(document):
        for parameter in operation.get("parameters", []):
            if _has_enum(parameter["schema"]):
                yield _camel(operation.get("operationId", "") + "_" + parameter["name"]), parameter, "schema"


def _has_enum(schema: dict[str, Any]) -> bool:
    branches = schema.get("anyOf") or schema.get("oneOf") or []
    return "enum" in schema or any(isinstance(branch, dict) and "enum" in branch for branch in branches)


def _named_enum(schema: Any, fallback: str, names: dict[tuple[Any, ...], str], schemas: dict[str, Any]
                ) -> Any:
    if not isinstance(schema, dict):
        return schema
    branches = schema.get("anyOf") or schema.get("oneOf")
    if branches is not None:
        schema = {**schema}
        key = "anyOf" if "anyOf" in schema else "oneOf"
        schema[key] = [_named_enum(branch, fallback, names, schemas) for branch in branches]
        return schema
    if "enum" not in schema:
        return schema
    values = tuple(value for value in schema["enum"] if value is not None)
    nullable = len(values) < len(schema["enum"])
    name = names.setdefault(values, fallback)
    schemas.setdefault(name, {"type": "string", "enum": list(values)})
    reference = {"$ref": REF + name}
    annotations = _annotations(schema)
    if nullable:
        return {"anyOf": [reference, {"type": "null"}], **annotations}
    return {**reference, **annotations}


def _camel(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[_\W]+", name))


# --- links ---------------------------------------------------------------------------------------


def link_creations(document: dict[str, Any]) -> None:
    """A create's 201 links to each operation under its new resource's path, passing its ``id``."""
    paths: dict[str, Any] = document.get("paths", {})
    for collection, item in paths.items():
        created = item.get("post", {}).get("responses", {}).get("201")
        if created is None or "{" in collection:
            continue
        links: dict[str, Any] = {}
        for path, method, operation in operations(document):
            parameter = _first_parameter_under(collection, path)
            if parameter is not None and "operationId" in operation:
                links[_camel(operation["operationId"])] = {
                    "operationId": operation["operationId"],
                    "parameters": {f"path.{parameter}": "$response.body#/id"},
                }
        if links:
            created["links"] = links


def _first_parameter_under(collection: str, path: str) -> str | None:
    """``ident`` for ``/v1/sites`` and ``/v1/sites/{ident}`` (or ``/v1/sites/{owner_id}/feeds``)."""
    match = re.fullmatch(re.escape(collection) + r"/\{(\w+)\}(/[^{}]*)?", path)
    return match.group(1) if match else None
