"""The accept form of a waiting-list offer's page: ``POST /r/{token}/accept`` (then redirect).

No ``from __future__ import annotations``: Litestar reads these handlers' annotations at runtime.
"""

from typing import Any

from litestar import Controller, MediaType, Request, Response, post
from litestar.di import Provide
from litestar.response import Redirect

from scheduler.api.common import Services
from scheduler.family_page import controller as pages
from scheduler.family_page.controller import FamilyPage
from scheduler.services import waitlist_offers


class OfferController(Controller):
    """The family accepts an offered time (a form on the offer's page)."""

    path = "/r"
    tags = ("family page",)
    dependencies = {"page": Provide(pages.family_page, sync_to_thread=False)}  # noqa: RUF012
    security = ({},)

    @post("/{token:str}/accept", operation_id="family_page_accept_offer",
          summary="The family accepts an offered time (form)", media_type=MediaType.HTML, status_code=303,
          exclude_from_auth=True)
    async def accept(
        self, request: Request[Any, Any, Any], svc: Services, page: FamilyPage, token: str
    ) -> Response[Any]:
        """Books the time (the first acceptance wins), then to the appointment's page; a time just
        taken by another family shows the offer's page again, saying so, with the other free times."""
        limited = await pages._too_many(request, page, token)
        if limited is not None:
            return limited
        form = await request.form()
        start = pages._aware(form.get("start"))
        if not page.links.form_key_ok(token, pages._text(form.get("csrf"))) or start is None:
            return await pages._refused(request, page, token)
        done = await waitlist_offers.accept(svc, token, start)
        if done is None:
            return await pages._not_found(request, page, token)
        if done.outcome == "booked" and done.appointment_id is not None:
            return Redirect(f"/r/{page.links.token(done.appointment_id)}", status_code=303,
                            headers=pages.HEADERS)
        shown = await pages.offer_page(svc, page, token, taken=done.outcome == "taken")
        return shown if shown is not None else await pages._not_found(request, page, token)
