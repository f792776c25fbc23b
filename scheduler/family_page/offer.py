"""What the page of a waiting-list offer shows (``/r/{token}``, the link its SMS carries).

The offer's link shares the family page's path and rate limits: a token that is no appointment's
is looked up as an offer's. No JavaScript: one form per time.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from babel.dates import format_date, format_time

from scheduler.family_page.texts import PageTexts
from scheduler.services import waitlist_offers
from scheduler.services.waitlist_texts import WaitlistTexts, default_catalog

if TYPE_CHECKING:
    from scheduler.collaborators import Collaborators

TEMPLATE = "family_offer.html.j2"


async def offer_context(svc: Collaborators, token: str, texts_for: Any, *, taken: bool = False) -> Any:
    """``(texts, heading, context)`` of the offer behind ``token``, or None when it is no offer's."""
    shown = await waitlist_offers.page(svc, token, taken=taken)
    if shown is None:
        return None
    page_texts: PageTexts = texts_for(shown.language)
    words = default_catalog().get(shown.language)
    return page_texts, words.words["title"], {
        "state": shown.state,
        "w": words.words,
        "offered": _choice(shown.start, words),
        "until": format_time(shown.until.time(), "short", locale=words.locale),
        "place": shown.place,
        "address": shown.address,
        "others": [_choice(start, words) for start in shown.other_times],
        "booked": shown.appointment_id if shown.state == "booked" else None,
    }


def _choice(start: datetime, words: WaitlistTexts) -> dict[str, str]:
    return {"iso": start.isoformat(), "date": format_date(start.date(), "full", locale=words.locale),
            "time": format_time(start.time(), "short", locale=words.locale)}
