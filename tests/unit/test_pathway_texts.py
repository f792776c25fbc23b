"""A care pathway's one text: every session with who is expected, in every language, within budget."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from notifications.texts import PATHWAY_EVENTS, MessageContext, default_catalog

PARIS = ZoneInfo("Europe/Paris")
SHIPPED_LANGUAGES = ("fr", "en", "ar", "tr", "pt", "ro")
LINK = "https://rdv.exemple.fr/r/Ab3dE5fG7h"
# French's longest dates: "mercredi" and "septembre" are the longest day and month names, the days
# have two digits and the times four.
LONGEST_FRENCH = [datetime(2026, 9, day, 14, 30, tzinfo=PARIS) for day in (9, 16, 23, 30)]
LONG_SITE = MessageContext(
    start=LONGEST_FRENCH[0],
    site_label="Maison municipale des Familles Jean-Moulin",
    site_address="12 avenue du Général de Gaulle, Résidence Les Tilleuls, 94120 Fontenay-sous-Bois",
    link=LINK,
    site_phone="01 43 94 33 00",
)
EVERYONE = "family"  # "parents et enfant": the longest French words for who is expected


def _sessions(who: list[str | None]) -> list[tuple[datetime, str | None]]:
    return list(zip(LONGEST_FRENCH, who, strict=True))


@pytest.mark.parametrize("event", PATHWAY_EVENTS)
def test_french_lists_four_sessions_with_the_longest_dates_within_three_gsm7_segments(event: str) -> None:
    sms = default_catalog().render_pathway(event, "fr", LONG_SITE, _sessions([EVERYONE] * 4))
    assert sms.segments.encoding == "GSM-7"
    assert sms.segments.segments == 3  # measured: 3 segments, no shortening needed
    for day in (9, 16, 23, 30):
        assert f"mercredi {day} septembre à 14h30 (parents et enfant)" in sms.body
    assert "Résidence Les Tilleuls" in sms.body and sms.body.endswith(LINK)


def test_the_french_confirmation_reads_as_written() -> None:
    ctx = MessageContext(LONGEST_FRENCH[0], "Mairie annexe", None, "https://x.fr/r/Ab3dE5fG7h")
    who: list[str | None] = ["parents", "child", "family", None]
    body = default_catalog().render_pathway("pathway_booked", "fr", ctx, _sessions(who)).body
    assert body == (
        "Rendez-vous (Mairie annexe) : mercredi 9 septembre à 14h30 (parents) ; mercredi 16 septembre à "
        "14h30 (enfant) ; mercredi 23 septembre à 14h30 (parents et enfant) ; mercredi 30 septembre à 14h30. "
        "Pour confirmer ou annuler : https://x.fr/r/Ab3dE5fG7h"
    )


@pytest.mark.parametrize("language", SHIPPED_LANGUAGES)
@pytest.mark.parametrize("event", PATHWAY_EVENTS)
def test_every_language_names_who_is_expected_in_its_own_words(language: str, event: str) -> None:
    catalog = default_catalog()
    sms = catalog.render_pathway(event, language, LONG_SITE, _sessions(["parents", "child", "family", None]))
    assert sms.language == language
    assert sms.body.count("(") >= 4  # the place, then three sessions' attendees
    assert "parents et enfant" not in sms.body or language == "fr"


SITE_TEXT = st.text(max_size=120)


@settings(max_examples=60, deadline=None)
@given(label=SITE_TEXT, address=st.none() | SITE_TEXT, language=st.sampled_from(SHIPPED_LANGUAGES),
       event=st.sampled_from(PATHWAY_EVENTS), count=st.integers(1, 4))
def test_every_pathway_text_keeps_to_its_budget_whatever_the_site(
    label: str, address: str | None, language: str, event: str, count: int
) -> None:
    ctx = MessageContext(LONGEST_FRENCH[0], label, address, LINK, "01 43 94 33 00")
    sms = default_catalog().render_pathway(event, language, ctx, _sessions([EVERYONE] * 4)[:count])
    assert sms.segments.segments <= (3 if language in ("fr", "en") else 6)
