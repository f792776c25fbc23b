"""The report page: ``GET /reports/{token}``, server-rendered HTML, no script, nothing loaded from elsewhere.

No ``from __future__ import annotations``: Litestar reads these handlers' annotations at runtime.
The token in the path is the only credential (256 random bits); the page is read-only.
"""

import base64
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from litestar import Controller, MediaType, Request, Response, get
from litestar.datastructures import State
from litestar.di import Provide

from scheduler.api.common import Services
from scheduler.observability.windows import Windows, WindowStore
from scheduler.report_page.view import report_view
from scheduler.services import reports
from scheduler.settings import Settings

HERE = Path(__file__).resolve().parent
CSS = (HERE / "report.css").read_text(encoding="utf-8")
TEMPLATES = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["j2"]))
# The one inline style is allowed by its hash; the SVG charts use presentation attributes.
CSP = (
    "default-src 'none'; "
    f"style-src 'sha256-{base64.b64encode(hashlib.sha256(CSS.encode()).digest()).decode()}'; "
    "img-src data:; form-action 'none'; base-uri 'none'; frame-ancestors 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "X-Robots-Tag": "noindex, nofollow",
}
SHORT_PAGE = ('<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>{0}</title></head>'
              "<body><main><h1>{0}</h1><p>{1}</p></main></body></html>")
NOT_FOUND = SHORT_PAGE.format("Lien inconnu ou expiré", "Demandez un nouveau lien de bilan.")
TOO_MANY = SHORT_PAGE.format("Trop de demandes", "Réessayez dans une minute.")


@dataclass(frozen=True, slots=True)
class ReportPage:
    """The per-address request limit of the page (``app.state.report_page``)."""

    per_address: Windows

    @classmethod
    def from_settings(cls, settings: Settings, store: WindowStore) -> "ReportPage":
        """Built once in ``create_app``: the family page's per-address limit, counted in ``store``."""
        return cls(store.windows("report-address", settings.family_page_per_address_per_minute))


def report_page(state: State) -> ReportPage:
    """Dependency: the page's shared parts."""
    found: ReportPage = state.report_page
    return found


def render(context: dict[str, Any]) -> str:
    """The page's HTML."""
    return TEMPLATES.get_template("report.html.j2").render(css=CSS, **context)


class ReportPageController(Controller):
    """A report for funders: the unguessable token in the path is the credential."""

    path = "/reports"
    tags = ("report page",)
    dependencies = {"page": Provide(report_page, sync_to_thread=False)}  # noqa: RUF012
    security = ({},)

    @get("/{token:str}", operation_id="report_page", summary="A report page (HTML, print-ready on A4)",
         media_type=MediaType.HTML, exclude_from_auth=True)
    async def show(self, request: Request[Any, Any, Any], svc: Services, page: ReportPage,
                   token: str) -> Response[str]:
        """Totals, appointments per month by outcome, no-show rates per site and service, languages, SMS."""
        address = request.client.host if request.client else "unknown"
        asked = await page.per_address.hit(address)
        if not asked.allowed:
            return Response(TOO_MANY, status_code=429, media_type=MediaType.HTML,
                            headers={**HEADERS, "Retry-After": str(asked.retry_after)})
        found = await reports.report_figures(svc.db, token, svc.clock.now()) if len(token) <= 100 else None
        if found is None:
            return Response(NOT_FOUND, status_code=404, media_type=MediaType.HTML, headers=HEADERS)
        return Response(render(report_view(found)), media_type=MediaType.HTML, headers=HEADERS)
