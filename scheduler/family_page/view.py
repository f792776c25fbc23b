"""What the page shows, computed from a link's row: the template only lays it out."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time

from scheduler.family_page.texts import PageTexts
from scheduler.phones import dialable

MAP_SEARCH = "https://www.openstreetmap.org/search?query="
ACTIVE = ("booked", "confirmed")
# No address is written for these: a home visit is at the family's, an online one nowhere.
NO_ADDRESS_KINDS = ("home", "online")


@dataclass(frozen=True, slots=True)
class Phone:
    """A number as written for people, and as dialled."""

    shown: str
    href: str


def appointment_view(row: Any, texts: PageTexts, now: datetime) -> dict[str, Any]:
    """The template context of an appointment's page (never the staff, service name or note)."""
    local = row.starts_at.astimezone(ZoneInfo(row.timezone))
    state = page_state(row.status, row.starts_at, now)
    return {
        "state": state,
        "can_act": state in ACTIVE,
        "iso_start": local.isoformat(),
        "date": format_date(local.date(), "full", locale=texts.locale),
        "time": format_time(local.time(), "short", locale=texts.locale),
        "place": row.public_label,
        "address": None if row.kind in NO_ADDRESS_KINDS else row.address,
        "place_note": _place_note(row.kind, texts),
        "map_url": _map_url(row.kind, row.address),
        "interpreter": _interpreter(row.interpreter_language, row.interpreter_status, texts),
        "bring": row.bring,
        "phone": phone(row.phone),
        # The number sits between the words in a left-to-right island (Arabic keeps "+33 1..." whole).
        "call": tuple(texts.words["call"].split("{phone}", 1)),
    }


def time_choices(starts: list[datetime], texts: PageTexts) -> list[dict[str, str]]:
    """The times a family may choose instead, as its page writes them (starts in the site's zone)."""
    return [{"iso": start.isoformat(), "date": format_date(start.date(), "full", locale=texts.locale),
             "time": format_time(start.time(), "short", locale=texts.locale)} for start in starts]


def page_state(status: str, starts_at: datetime, now: datetime) -> str:
    """``booked``, ``confirmed``, ``cancelled`` or ``past`` (once it has started, or was held)."""
    if status == "cancelled":
        return "cancelled"
    if status not in ACTIVE or now >= starts_at:
        return "past"
    return status


def phone(number: str | None) -> Phone | None:
    """The site's number for a ``tel:`` link, or None."""
    if not number:
        return None
    return Phone(dialable(number), "tel:" + re.sub(r"[^\d+]", "", number))


def _place_note(kind: str, texts: PageTexts) -> str | None:
    return {"home": texts.words["at_home"], "online": texts.words["online"]}.get(kind)


def _map_url(kind: str, address: str | None) -> str | None:
    # A plain link: the page itself loads nothing from the map's site.
    if not address or kind in NO_ADDRESS_KINDS:
        return None
    return MAP_SEARCH + quote(address, safe="")


def _interpreter(language: str | None, status: str | None, texts: PageTexts) -> str | None:
    if not language or status == "cancelled":
        return None
    key = "interpreter_booked" if status == "booked" else "interpreter_requested"
    return texts.words[key].format(language=texts.language_name(language))
