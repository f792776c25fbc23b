"""The API's documentation pages at ``/schema``, with Swagger UI served by the service itself.

Litestar's default pages load Redoc, Swagger UI, RapiDoc and Elements from public CDNs, fonts
from Google and a favicon from GitHub: every visit told third parties who reads the API
documentation, and the pages broke without Internet access. Swagger UI comes here from a
Python package (``swagger-ui-bundle-v2``, Apache-2.0, the Swagger UI 5 distribution, which
reads OpenAPI 3.1) and is served at ``/schema/assets/``; the other renderers are not offered.

Pages: ``/schema`` and ``/schema/swagger`` (Swagger UI), ``/schema/openapi.json``,
``/schema/openapi.yaml``.
"""

from __future__ import annotations

from pathlib import Path

from litestar import Router
from litestar.datastructures import CacheControlHeader
from litestar.openapi.plugins import (
    JsonRenderPlugin,
    OpenAPIRenderPlugin,
    SwaggerRenderPlugin,
    YamlRenderPlugin,
)
from litestar.static_files import create_static_files_router
from swagger_ui_bundle import swagger_ui_path  # type: ignore[import-untyped]  # no types shipped

ASSETS_PATH = "/schema/assets"
SWAGGER_UI = Path(str(swagger_ui_path))
FAVICON = f"<link rel='icon' type='image/png' href='{ASSETS_PATH}/favicon-32x32.png'>"


def render_plugins() -> list[OpenAPIRenderPlugin]:
    """Swagger UI at ``/schema`` and ``/schema/swagger`` with local assets; the document as JSON and YAML."""
    swagger = SwaggerRenderPlugin(
        path=["/", "/swagger"],
        js_url=f"{ASSETS_PATH}/swagger-ui-bundle.js",
        css_url=f"{ASSETS_PATH}/swagger-ui.css",
        standalone_preset_js_url=f"{ASSETS_PATH}/swagger-ui-standalone-preset.js",
        favicon=FAVICON,
    )
    return [swagger, JsonRenderPlugin(favicon=FAVICON), YamlRenderPlugin(favicon=FAVICON)]


def assets_router() -> Router:
    """Swagger UI's files, cached by browsers for a day (they change only with the package)."""
    return create_static_files_router(
        path=ASSETS_PATH, directories=[SWAGGER_UI], name="api-docs-assets",
        cache_control=CacheControlHeader(max_age=86_400, public=True), include_in_schema=False,
    )
