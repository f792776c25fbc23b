"""The staff outcome page: ``GET /s/{token}``, the outcome and cancel forms (POST, then redirect).

No ``from __future__ import annotations``: Litestar reads these handlers' annotations at runtime.
The token in the path (bound to one live staff feed and one appointment, see
``scheduler.services.staff_links``) is the only credential; the forms carry an HMAC of it
against CSRF. No script, nothing loaded from elsewhere, French (the staff's language).
"""

import base64
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from litestar import Controller, MediaType, Request, Response, get, post
from litestar.datastructures import State
from litestar.di import Provide
from litestar.response import Redirect

from scheduler.api.audit import note
from scheduler.api.common import Services
from scheduler.family_page.controller import CSS as FAMILY_CSS
from scheduler.observability.windows import Windows, WindowStore
from scheduler.services import staff_links
from scheduler.services.audit import Access
from scheduler.services.staff_links import REASON_MAX, StaffLinks, token_hash
from scheduler.settings import Settings
from scheduler.staff_page.view import appointment_view

HERE = Path(__file__).resolve().parent
CSS = FAMILY_CSS + (HERE / "staff.css").read_text(encoding="utf-8")
TEMPLATES = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["j2"]))
CSP = (
    "default-src 'none'; "
    f"style-src 'sha256-{base64.b64encode(hashlib.sha256(CSS.encode()).digest()).decode()}'; "
    "img-src data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
WRONG_TOKENS = "all"
HEADERS = {
    "Content-Security-Policy": CSP,
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "X-Robots-Tag": "noindex, nofollow",
}
MESSAGES = {
    "not_found": ("Lien inconnu", ("Ce lien ne mène à aucun rendez-vous : le calendrier a peut-être été "
                  "révoqué. Utilisez le lien de votre calendrier à jour.")),
    "refused": ("Formulaire expiré", "Rouvrez le rendez-vous depuis votre calendrier et recommencez."),
    "too_many": ("Trop de demandes", "Réessayez dans une minute."),
    "not_now": ("Action impossible", ("Ce rendez-vous ne peut plus recevoir cette action : rouvrez-le "
                "pour voir son état.")),
}
OUTCOMES = ("attended", "no_show")


@dataclass(frozen=True, slots=True)
class StaffPage:
    """What the routes share: the link maker and the rate limits (``app.state.staff_page``)."""

    links: StaffLinks
    per_token: Windows
    """Failures per link (its token's hash): a wrong token, a forged form."""
    per_address: Windows
    """Requests per client address."""
    wrong_tokens: Windows
    """Wrong tokens from all addresses together (one key)."""

    @classmethod
    def from_settings(cls, settings: Settings, secret: bytes, store: WindowStore) -> "StaffPage":
        """Built once in ``create_app``, with the family links' secret and the family page's limits,
        counted in ``store`` (Redis when shared)."""
        return cls(StaffLinks(secret, settings.public_url),
                   store.windows("staff-token", settings.family_page_per_token_per_minute),
                   store.windows("staff-address", settings.family_page_per_address_per_minute),
                   store.windows("staff-wrong", settings.family_page_wrong_tokens_per_minute))


def staff_page(state: State) -> StaffPage:
    """Dependency: the staff page's shared parts."""
    found: StaffPage = state.staff_page
    return found


def _page(template: str, status: int = 200, headers: dict[str, str] | None = None,
          **context: Any) -> Response[str]:
    body = TEMPLATES.get_template(template).render(css=CSS, **context)
    return Response(body, status_code=status, media_type=MediaType.HTML,
                    headers={**HEADERS, **(headers or {})})


def _message(status: int, key: str, retry_after: int | None = None) -> Response[str]:
    heading, message = MESSAGES[key]
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
    return _page("staff_message.html.j2", status, headers, heading=heading, message=message)


async def _not_found(page: StaffPage, token: str) -> Response[str]:
    """A wrong link: one 404 for malformed, forged and revoked alike, or 429 past this minute's cap
    of wrong links from all addresses together (guessing from many addresses)."""
    await page.per_token.hit(token_hash(token))
    wrong = await page.wrong_tokens.hit(WRONG_TOKENS)
    if not wrong.allowed:
        return _message(429, "too_many", wrong.retry_after)
    return _message(404, "not_found")


async def _refused(page: StaffPage, token: str) -> Response[str]:
    """A forged or stale form: 403, counted as a failure of the link."""
    await page.per_token.hit(token_hash(token))
    return _message(403, "refused")


async def _too_many(request: Request[Any, Any, Any], page: StaffPage, token: str) -> Response[str] | None:
    """The 429 page when this address asked too often this minute, or this link failed too often."""
    address = request.client.host if request.client else "unknown"
    asked = await page.per_address.hit(address)
    if not asked.allowed:
        return _message(429, "too_many", asked.retry_after)
    spent = await page.per_token.spent(token_hash(token))
    if spent is not None:
        return _message(429, "too_many", spent.retry_after)
    return None


def _noted(request: Request[Any, Any, Any], row: Any, action: str) -> None:
    """The audit trail's entry: this staff member, through their feed's link, on this appointment."""
    note(request, Access("staff", row.staff_id, row.staff_name, action, "appointment", row.id, None,
                         appointment_id=row.id, family_reference=row.reference))


async def _show(request: Request[Any, Any, Any], svc: Services, page: StaffPage, token: str,
                status: int = 200, error: str | None = None) -> Response[str]:
    row = await staff_links.shown(svc, page.links, token)
    if row is None:
        return await _not_found(page, token)
    _noted(request, row, "staff_page.read")
    view = appointment_view(row, svc.clock.now())
    return _page("staff_page.html.j2", status, heading="Rendez-vous", token=token,
                 form_key=page.links.form_key(token), reason_max=REASON_MAX, error=error, **view)


async def _note_change(request: Request[Any, Any, Any], svc: Services, page: StaffPage, token: str,
                       action: str) -> None:
    row = await staff_links.shown(svc, page.links, token)
    if row is not None:
        _noted(request, row, action)


def _field(form: Any, name: str) -> str | None:
    value = form.get(name)
    return value if isinstance(value, str) else None


def _back(token: str) -> Response[Any]:
    return Redirect(f"{staff_links.PATH}/{token}", status_code=303, headers=HEADERS)


class StaffPageController(Controller):
    """The staff member's page of one appointment: no API key, the token in the path is the credential."""

    path = staff_links.PATH
    tags = ("staff page",)
    dependencies = {"page": Provide(staff_page, sync_to_thread=False)}  # noqa: RUF012
    security = ({},)

    @get("/{token:str}", operation_id="staff_page", media_type=MediaType.HTML, exclude_from_auth=True,
         summary="The staff member's page of an appointment (HTML)")
    async def show(
        self, request: Request[Any, Any, Any], svc: Services, page: StaffPage, token: str
    ) -> Response[str]:
        """When, where, which family; record attended or no-show, or cancel with a reason."""
        return await _too_many(request, page, token) or await _show(request, svc, page, token)

    @get(["/", "/{token:str}/{rest:path}"], include_in_schema=False, media_type=MediaType.HTML,
         exclude_from_auth=True)
    async def elsewhere(self, request: Request[Any, Any, Any], page: StaffPage) -> Response[str]:
        """Anything else under ``/s/``: the same 404 page as a wrong token (and rate limited alike)."""
        return await _too_many(request, page, "") or await _not_found(page, "")

    @post("/{token:str}/outcome", operation_id="staff_page_outcome",
          summary="The staff member records attended or no-show (form)", media_type=MediaType.HTML,
          status_code=303, exclude_from_auth=True)
    async def outcome(
        self, request: Request[Any, Any, Any], svc: Services, page: StaffPage, token: str
    ) -> Response[Any]:
        """Records the outcome (idempotent), then back to the page."""
        limited = await _too_many(request, page, token)
        if limited is not None:
            return limited
        form = await request.form()
        outcome = _field(form, "outcome")
        if not page.links.form_key_ok(token, _field(form, "csrf")) or outcome not in OUTCOMES:
            return await _refused(page, token)
        done = await staff_links.record_outcome(svc, page.links, token, outcome)  # type: ignore[arg-type]
        if done is None:
            return await _not_found(page, token)
        await _note_change(request, svc, page, token, "staff_page.outcome")
        return _back(token) if done else _message(409, "not_now")

    @post("/{token:str}/cancel", operation_id="staff_page_cancel",
          summary="The staff member cancels with a reason (form)", media_type=MediaType.HTML,
          status_code=303, exclude_from_auth=True)
    async def cancel(
        self, request: Request[Any, Any, Any], svc: Services, page: StaffPage, token: str
    ) -> Response[Any]:
        """Cancels, frees the slot and texts the family its usual notice, then back to the page."""
        limited = await _too_many(request, page, token)
        if limited is not None:
            return limited
        form = await request.form()
        if not page.links.form_key_ok(token, _field(form, "csrf")):
            return await _refused(page, token)
        reason = " ".join((_field(form, "reason") or "").split())
        if not reason or len(reason) > REASON_MAX:
            error = f"Indiquez un motif (au plus {REASON_MAX} caractères)."
            return await _show(request, svc, page, token, 422, error)
        done = await staff_links.cancel(svc, page.links, token, reason)
        if done is None:
            return await _not_found(page, token)
        await _note_change(request, svc, page, token, "staff_page.cancel")
        return _back(token) if done else _message(409, "not_now")
