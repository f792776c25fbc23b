"""What the staff page shows of an appointment, computed from its row: the template only lays it out."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time

LOCALE: Final = "fr_FR"
ACTIVE: Final = ("booked", "confirmed")
STATES: Final = {
    "booked": "Réservé",
    "confirmed": "Confirmé par la famille",
    "attended": "La famille est venue",
    "no_show": "La famille n'est pas venue",
    "cancelled": "Annulé",
}


def appointment_view(row: Any, now: datetime) -> dict[str, Any]:
    """The template context of the page: when, where, what, which family, and what can be done."""
    zone = ZoneInfo(row.timezone)
    start, end = row.starts_at.astimezone(zone), row.ends_at.astimezone(zone)
    started = now >= row.starts_at
    return {
        "state": row.status,
        "state_text": "Passé : venue à noter" if started and row.status in ACTIVE
                      else STATES.get(row.status, row.status),
        "iso_start": start.isoformat(),
        "date": format_date(start.date(), "full", locale=LOCALE),
        "time": f"{format_time(start.time(), 'short', locale=LOCALE)} – "
                f"{format_time(end.time(), 'short', locale=LOCALE)}",
        "service": row.service_name,
        "site": row.site_name,
        "family": None if row.capacity > 1 else row.reference,
        "cancel_reason": row.cancel_reason if row.status == "cancelled" else None,
        # An outcome once it has started (and may be corrected); cancelling while still active.
        "outcomes": started and row.status != "cancelled",
        "not_started": not started and row.status in ACTIVE,
        "can_cancel": row.status in ACTIVE,
    }
