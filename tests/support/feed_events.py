"""Feed builder inputs in domain words: a psychologist's interview, a parents' discussion group."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from scheduler.feeds.ical import FeedEvent, FeedSpec, Privacy

STAMP = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
NOTE = "Première venue avec la grand-mère; parler du harcèlement"


def feed_spec(privacy: Privacy = "standard", **overrides: Any) -> FeedSpec:
    """Mme Durand's feed at the Point Écoute, at the given privacy level."""
    fields: dict[str, Any] = {
        "calendar_uid": "feed-7@creneau",
        "name": "Mme Durand — Point Écoute",
        "colour": "steelblue",
        "privacy": privacy,
        "source_url": "https://creneau.example/feeds/tok3n.ics",
        "domain": "creneau.local",
    }
    return FeedSpec(**(fields | overrides))


def appointment(appointment_id: str = "101", start: datetime | None = None, **overrides: Any) -> FeedEvent:
    """A one-hour psychologist interview at the CCAS office, booked on 1 March 2026."""
    start = start or datetime(2026, 3, 31, 7, 0, tzinfo=UTC)
    fields: dict[str, Any] = {
        "appointment_id": appointment_id,
        "start": start,
        "end": start + timedelta(hours=1),
        "zone": "Europe/Paris",
        "status": "confirmed",
        "sequence": 0,
        "last_modified": STAMP,
        "service_name": "Entretien psychologue",
        "site_kind": "office",
        "site_label": "CCAS Centre",
        "site_address": "1 place de la Mairie 59000 Lille",
        "family_reference": "PRE-2026-0042",
    }
    return FeedEvent(**(fields | overrides))


def parents_group(appointment_id: str, status: str = "booked", **overrides: Any) -> FeedEvent:
    """One family's booking in the Wednesday 14:00 parents' discussion group."""
    start = datetime(2026, 4, 8, 12, 0, tzinfo=UTC)
    return appointment(
        appointment_id,
        start=start,
        end=start + timedelta(hours=2),
        status=status,
        service_name="Groupe de parole parents",
        family_reference=f"PRE-2026-{appointment_id:0>4}",
        **overrides,
    )


def special_characters_notes() -> dict[str, str]:
    """Notes whose 1- to 4-octet characters fall across the 75-octet fold boundary, one per prefix length."""
    return {
        str(k): "x" * k + 'é€😀;,\\ C:\\notes "guillemets"\nligne deux\r\ntrois\rbip\x07' * 6
        for k in range(4)
    }


def special_characters_feed_events(notes: dict[str, str]) -> list[FeedEvent]:
    """One interview per note, its family reference full of characters iCalendar escapes."""
    return [
        appointment(
            k,
            start=datetime(2026, 5, 4 + int(k), 7, 0, tzinfo=UTC),
            note=note,
            family_reference=f"Réf, n°{k}; \\ fin",
        )
        for k, note in notes.items()
    ]
