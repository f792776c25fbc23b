"""The family page's routes: ``GET /r/{token}``, the confirm and cancel forms (POST, then redirect).

No ``from __future__ import annotations``: Litestar reads these handlers' annotations at runtime.
The token in the path is the only credential; the forms carry an HMAC of it against CSRF.
"""

import base64
import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from litestar import Controller, MediaType, Request, Response, get, post
from litestar.datastructures import State
from litestar.di import Provide
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Redirect, Template
from litestar.template.config import TemplateConfig

from scheduler.api.audit import note
from scheduler.api.common import Services
from scheduler.family_page import offer
from scheduler.family_page.pathway_view import pathway_context
from scheduler.family_page.texts import PageCatalog, PageTexts, default_page_catalog
from scheduler.family_page.view import appointment_view, time_choices
from scheduler.observability.windows import Windows, WindowStore
from scheduler.services import family_page as use_cases
from scheduler.services import family_pathway, rebooking
from scheduler.services.audit import Access
from scheduler.services.family_links import LinkMaker, token_hash, well_formed
from scheduler.settings import Settings

HERE = Path(__file__).resolve().parent
CSS = (HERE / "page.css").read_text(encoding="utf-8")
# The inline style is allowed by its hash: the page loads nothing, runs nothing, and may
# post its forms only to itself. No referrer, so the token never leaves with a map click.
CSP = (
    "default-src 'none'; "
    f"style-src 'sha256-{base64.b64encode(hashlib.sha256(CSS.encode()).digest()).decode()}'; "
    "img-src data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
FAMILY_PAGE = "family_page.html.j2"
# The one key of the counter of wrong tokens from all addresses.
WRONG_TOKENS = "all"
HEADERS = {
    "Content-Security-Policy": CSP,
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "X-Robots-Tag": "noindex, nofollow",
}


@dataclass(frozen=True, slots=True)
class FamilyPage:
    """What the routes share: the link maker, the words, and the rate limits (``app.state``)."""

    links: LinkMaker
    catalog: PageCatalog
    per_token: Windows
    """Failures per link (its token's hash): a wrong token, a forged form."""
    per_address: Windows
    """Requests per client address."""
    wrong_tokens: Windows
    """Wrong tokens from all addresses together (one key)."""

    @classmethod
    def from_settings(cls, settings: Settings, links: LinkMaker, store: WindowStore) -> "FamilyPage":
        """Built once in ``create_app``; the limits count in ``store`` (Redis when shared)."""
        return cls(links, default_page_catalog(),
                   store.windows("family-token", settings.family_page_per_token_per_minute),
                   store.windows("family-address", settings.family_page_per_address_per_minute),
                   store.windows("family-wrong", settings.family_page_wrong_tokens_per_minute))


def template_config() -> TemplateConfig[JinjaTemplateEngine]:
    """The app's templates: this package's (autoescaped Jinja)."""
    return TemplateConfig(directory=HERE / "templates", engine=JinjaTemplateEngine)


def family_page(state: State) -> FamilyPage:
    """Dependency: the family page's shared parts."""
    found: FamilyPage = state.family_page
    return found


def _render(name: str, texts: PageTexts, heading: str, status: int = 200, **context: Any) -> Template:
    headers = dict(HEADERS)
    if "retry_after" in context:
        headers["Retry-After"] = str(context["retry_after"])
    return Template(
        template_name=name,
        status_code=status,
        media_type=MediaType.HTML,
        headers=headers,
        context={
            "lang": texts.language,
            "dir": texts.direction,
            "t": texts.words,
            "css": CSS,
            "heading": heading,
            **context,
        },
    )


def _message(
    request: Request[Any, Any, Any], page: FamilyPage, status: int, key: str, **context: Any
) -> Template:
    """A page with a title and one sentence, in the browser's language (no appointment known)."""
    texts = page.catalog.negotiate(request.headers.get("accept-language"))
    return _render("family_message.html.j2", texts, texts.words[f"{key}_title"], status,
                   message=texts.words[key], **context)


async def _not_found(request: Request[Any, Any, Any], page: FamilyPage, token: str) -> Template:
    """A wrong link: the same 404 for unknown, malformed, expired and revoked links alike, or 429
    once wrong links from all addresses passed this minute's cap (guessing from many addresses)."""
    await page.per_token.hit(token_hash(token))
    wrong = await page.wrong_tokens.hit(WRONG_TOKENS)
    if not wrong.allowed:
        return _message(request, page, 429, "too_many", retry_after=wrong.retry_after)
    return _message(request, page, 404, "not_found")


async def _refused(request: Request[Any, Any, Any], page: FamilyPage, token: str) -> Template:
    """A forged or stale form: 403, counted as a failure of the link."""
    await page.per_token.hit(token_hash(token))
    back = f"/r/{token}" if well_formed(token) else None
    return _message(request, page, 403, "refused", back=back)


async def _too_many(request: Request[Any, Any, Any], page: FamilyPage, token: str) -> Template | None:
    """The 429 page when this address has asked too often this minute, or this link has failed
    too often (its family's own visits never count), else None."""
    address = request.client.host if request.client else "unknown"
    asked = await page.per_address.hit(address)
    if not asked.allowed:
        return _message(request, page, 429, "too_many", retry_after=asked.retry_after)
    spent = await page.per_token.spent(token_hash(token))
    if spent is not None:
        return _message(request, page, 429, "too_many", retry_after=spent.retry_after)
    return None


async def _form_key_ok(request: Request[Any, Any, Any], page: FamilyPage, token: str) -> bool:
    form = await request.form()
    sent = form.get("csrf")
    return page.links.form_key_ok(token, sent if isinstance(sent, str) else None)


async def _appointment_page(
    request: Request[Any, Any, Any], svc: Services, page: FamilyPage, token: str, template: str
) -> Template:
    limited = await _too_many(request, page, token)
    if limited is not None:
        return limited
    now = svc.clock.now()
    row = await use_cases.shown(svc, token, now)
    if row is None:
        # Not an appointment's link: perhaps a waiting-list offer's (its SMS shares the page's path);
        # an accepted offer's link shows the appointment it booked.
        found = await offer.offer_context(svc, token, page.catalog.get) if template == FAMILY_PAGE else None
        if found is None:
            return await _not_found(request, page, token)
        if found[2]["booked"] is not None:
            return await _appointment_page(request, svc, page, page.links.token(found[2]["booked"]), template)
        return _offer_template(page, token, found)
    note(request, Access("family", None, None, "family_page.read", "appointment", row.id, None, row.id))
    texts = page.catalog.get(row.language)
    heading = texts.words["cancel"] if template == "family_cancel.html.j2" else texts.words["title"]
    # The page offers the next free times with the same person, same place: to book again after a
    # cancellation, or to move a booked appointment while the family still may.
    starts = await rebooking.other_times(svc, token, now) if template == "family_page.html.j2" else None
    pathway = pathway_context(await family_pathway.shown(svc, row.id), row.id, texts, page.links, now)
    return _render(template, texts, heading, token=token, form_key=page.links.form_key(token),
                   other_times=None if starts is None else time_choices(starts, texts),
                   **appointment_view(row, texts, now), **pathway)


async def offer_page(
    svc: Services, page: FamilyPage, token: str, *, taken: bool = False
) -> Template | None:
    """The page of the waiting-list offer behind ``token``, or None when it is no offer's."""
    found = await offer.offer_context(svc, token, page.catalog.get, taken=taken)
    return None if found is None else _offer_template(page, token, found)


def _offer_template(page: FamilyPage, token: str, found: Any) -> Template:
    texts, heading, context = found
    return _render(offer.TEMPLATE, texts, heading, token=token, form_key=page.links.form_key(token),
                   **context)


class FamilyPageController(Controller):
    """The family's page: no API key, the unguessable token in the path is the credential."""

    path = "/r"
    tags = ("family page",)
    # A dict, as Litestar documents it: the framework copies it into the controller's router.
    dependencies = {"page": Provide(family_page, sync_to_thread=False)}  # noqa: RUF012
    security = ({},)

    @get("/{token:str}", operation_id="family_page", summary="The family's page of an appointment (HTML)",
         media_type=MediaType.HTML, exclude_from_auth=True)
    async def show(
        self, request: Request[Any, Any, Any], svc: Services, page: FamilyPage, token: str
    ) -> Template:
        """Date, time, place, interpreter, what to bring; confirm and cancel buttons; the site's phone."""
        return await _appointment_page(request, svc, page, token, "family_page.html.j2")

    @get("/{token:str}/cancel", operation_id="family_page_cancel_step",
         summary="The family's page: are you sure you want to cancel? (HTML)", media_type=MediaType.HTML,
         exclude_from_auth=True)
    async def cancel_step(
        self, request: Request[Any, Any, Any], svc: Services, page: FamilyPage, token: str
    ) -> Template:
        """Asks once more before cancelling."""
        return await _appointment_page(request, svc, page, token, "family_cancel.html.j2")

    @get(["/", "/{token:str}/{rest:path}"], include_in_schema=False, media_type=MediaType.HTML,
         exclude_from_auth=True)
    async def elsewhere(self, request: Request[Any, Any, Any], page: FamilyPage) -> Template:
        """Anything else under ``/r/``: the same 404 page as a wrong token (and rate limited alike)."""
        return await _too_many(request, page, "") or await _not_found(request, page, "")

    @post("/{token:str}/confirm", operation_id="family_page_confirm", summary="The family confirms (form)",
          media_type=MediaType.HTML, status_code=303, exclude_from_auth=True)
    async def confirm(
        self, request: Request[Any, Any, Any], svc: Services, page: FamilyPage, token: str
    ) -> Response[Any]:
        """Marks the appointment confirmed (idempotent), then back to the page."""
        return await _act(request, svc, page, token, "confirm")

    @post("/{token:str}/cancel", operation_id="family_page_cancel", summary="The family cancels (form)",
          media_type=MediaType.HTML, status_code=303, exclude_from_auth=True)
    async def cancel(
        self, request: Request[Any, Any, Any], svc: Services, page: FamilyPage, token: str
    ) -> Response[Any]:
        """Cancels the appointment and frees the slot (idempotent), then back to the page."""
        return await _act(request, svc, page, token, "cancel")


class RebookController(Controller):
    """The family chooses another time (a form on its page): it books again after a cancellation, or
    moves its booked appointment."""

    path = "/r"
    tags = ("family page",)
    dependencies = {"page": Provide(family_page, sync_to_thread=False)}  # noqa: RUF012
    security = ({},)

    @post(
        "/{token:str}/rebook",
        operation_id="family_page_rebook",
        summary="The family chooses another time (form)",
        media_type=MediaType.HTML,
        status_code=303,
        exclude_from_auth=True,
    )
    async def rebook(
        self, request: Request[Any, Any, Any], svc: Services, page: FamilyPage, token: str
    ) -> Response[Any]:
        """Books (or moves to) the chosen time for the same family, then to the appointment's page."""
        limited = await _too_many(request, page, token)
        if limited is not None:
            return limited
        form = await request.form()
        start = _aware(form.get("start"))
        if not page.links.form_key_ok(token, _text(form.get("csrf"))) or start is None:
            return await _refused(request, page, token)
        now_showing = await rebooking.rebook(svc, token, start)
        if now_showing is None:
            return await _not_found(request, page, token)
        return Redirect(f"/r/{page.links.token(now_showing)}", status_code=303, headers=HEADERS)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _aware(value: Any) -> datetime | None:
    """The chosen start, as the page's form wrote it (ISO 8601 with its offset), else None."""
    try:
        start = datetime.fromisoformat(value) if isinstance(value, str) and len(value) <= 40 else None
    except ValueError:
        return None
    return start if start is not None and start.utcoffset() is not None else None


async def _act(
    request: Request[Any, Any, Any],
    svc: Services,
    page: FamilyPage,
    token: str,
    action: use_cases.Action,
) -> Response[Any]:
    """Rate limit, CSRF, the use case, then Post/Redirect/Get."""
    limited = await _too_many(request, page, token)
    if limited is not None:
        return limited
    if not await _form_key_ok(request, page, token):
        return await _refused(request, page, token)
    if not await use_cases.act(svc, token, action):
        return await _not_found(request, page, token)
    acted = await use_cases.shown(svc, token, svc.clock.now())
    if acted is not None:
        note(request, Access("family", None, None, f"family_page.{action}", "appointment", acted.id, None,
                             acted.id))
    return Redirect(f"/r/{token}", status_code=303, headers=HEADERS)
