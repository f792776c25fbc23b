"""The family page's view of a care pathway: every session, who is expected, and what it can do.

Each session keeps its own page link (its token): the pathway's list links to each session's
page and posts its confirm form to it, so every action stays one session's, as the API's are.
"""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time

from scheduler.family_page.texts import DEFAULT_LANGUAGE, PageTexts
from scheduler.family_page.view import ACTIVE, page_state
from scheduler.services.family_links import LinkMaker
from scheduler.services.family_pathway import PathwayShown

WORDS_FILE = Path(__file__).resolve().parents[2] / "config" / "page_pathway.toml"


@functools.cache
def pathway_words() -> Mapping[str, Mapping[str, str]]:
    """Each language's words for the pathway's part of the page, each with French's keys."""
    data = tomllib.loads(WORDS_FILE.read_text(encoding="utf-8"))
    expected = set(data[DEFAULT_LANGUAGE])
    for language, words in data.items():
        if set(words) != expected:
            raise ValueError(f"{WORDS_FILE}: [{language}] keys differ from [{DEFAULT_LANGUAGE}]")
    return data


def pathway_context(
    found: PathwayShown | None, current_id: str, texts: PageTexts, links: LinkMaker, now: datetime
) -> dict[str, Any]:
    """The template context of the pathway's part: ``pathway`` is None for a single appointment."""
    if found is None:
        return {"pathway": None}
    all_words = pathway_words()
    words = all_words.get(texts.language, all_words[DEFAULT_LANGUAGE])
    zone = ZoneInfo(found.timezone)
    # Numbered among the sessions that stay (as the staff's feed numbers them); a cancelled one is listed
    # unnumbered, so that the family sees what changed.
    kept = [item.id for item in found.sessions if item.status != "cancelled"]
    sessions = []
    for item in found.sessions:
        local = item.starts_at.astimezone(zone)
        state = page_state(item.status, item.starts_at, now)
        token = links.token(item.id)
        who = words.get(item.attendees or "")
        sessions.append({
            "title": (words["session"].format(number=kept.index(item.id) + 1, total=len(kept))
                      if item.id in kept else None),
            "current": item.id == current_id,
            "iso_start": local.isoformat(),
            "date": format_date(local.date(), "full", locale=texts.locale),
            "time": format_time(local.time(), "short", locale=texts.locale),
            "who": words["who"].format(who=who) if who else None,
            "state": state,
            "state_text": texts.words["please_confirm" if state == "booked" else state],
            "can_act": state in ACTIVE,
            "token": token,
            "form_key": links.form_key(token),
        })
    return {"pathway": {"words": words, "sessions": sessions}}
