"""Family page links and page logic without a server: tokens, SMS length, states, rate windows, words."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from notifications.texts import APPOINTMENT_EVENTS, MessageContext, default_catalog
from scheduler.family_page.texts import default_page_catalog
from scheduler.family_page.view import page_state, phone
from scheduler.observability.ratelimit import WindowCounter
from scheduler.services.family_links import ALPHABET, TOKEN_LENGTH, LinkMaker, token_hash, well_formed

PARIS = ZoneInfo("Europe/Paris")
MAKER = LinkMaker(b"k" * 32, "https://rdv.fontenay-sous-bois.fr")
START = datetime(2026, 11, 25, 14, 0, tzinfo=PARIS)


def test_a_token_is_twelve_base62_characters_that_is_71_bits() -> None:
    token = MAKER.token("3aecba9897dd4ee5bef85c3a4208edb9")
    assert len(token) == TOKEN_LENGTH and set(token) <= set(ALPHABET) and well_formed(token)
    assert len(ALPHABET) ** TOKEN_LENGTH > 2**71


def test_a_token_is_rederived_alike_and_differs_by_appointment_and_secret() -> None:
    assert MAKER.token("a1") == MAKER.token("a1")
    assert MAKER.token("a1") != MAKER.token("a2")
    assert LinkMaker(b"j" * 32, MAKER.public_url).token("a1") != MAKER.token("a1")
    assert MAKER.url("a1") == f"https://rdv.fontenay-sous-bois.fr/r/{MAKER.token('a1')}"


def test_only_the_hash_is_stored() -> None:
    token = MAKER.token("a1")
    assert len(token_hash(token)) == 64 and token not in token_hash(token)


@pytest.mark.parametrize("event", APPOINTMENT_EVENTS)
def test_french_sms_with_a_real_link_and_a_long_site_fit_two_segments(event: str) -> None:
    ctx = MessageContext(
        start=START,
        site_label="Maison municipale des Familles Jean-Moulin",
        site_address="12 avenue du Général de Gaulle, Résidence Les Tilleuls, 94120 Fontenay-sous-Bois",
        link=MAKER.url("3aecba9897dd4ee5bef85c3a4208edb9"),
    )
    sms = default_catalog().render(event, "fr", ctx)
    assert sms.segments.encoding == "GSM-7" and sms.segments.segments <= 2
    assert sms.body.endswith(ctx.link or "") and "Résidence Les Tilleuls" in sms.body


def test_the_form_key_belongs_to_its_token() -> None:
    mine, other = MAKER.token("a1"), MAKER.token("a2")
    assert MAKER.form_key_ok(mine, MAKER.form_key(mine))
    assert not MAKER.form_key_ok(mine, MAKER.form_key(other))
    assert not MAKER.form_key_ok(mine, None) and not MAKER.form_key_ok(mine, "")


@pytest.mark.parametrize("token", ["", "short", "a" * 13, "abcdefghijk!", "abcdefghijk/", "abcdéfghijkl"])
def test_malformed_tokens_are_not_looked_up(token: str) -> None:
    assert not well_formed(token)


@pytest.mark.parametrize(
    ("status", "now", "expected"),
    [
        ("booked", START - timedelta(days=1), "booked"),
        ("confirmed", START - timedelta(minutes=1), "confirmed"),
        ("confirmed", START, "past"),
        ("booked", START + timedelta(days=2), "past"),
        ("attended", START + timedelta(hours=1), "past"),
        ("cancelled", START - timedelta(days=1), "cancelled"),
        ("cancelled", START + timedelta(days=1), "cancelled"),
    ],
    ids=["booked", "confirmed", "starting", "after", "attended", "cancelled", "cancelled_after"],
)
def test_page_state(status: str, now: datetime, expected: str) -> None:
    assert page_state(status, START, now) == expected


def test_the_site_phone_is_dialled_without_spaces() -> None:
    found = phone("01 43 94 33 00")
    assert found is not None and (found.shown, found.href) == ("01 43 94 33 00", "tel:0143943300")
    assert phone(None) is None and phone("") is None


def test_a_window_counts_per_key_and_starts_again() -> None:
    counter = WindowCounter(limit=2, window=60)
    assert [counter.allow("a", 0.0) for _ in range(3)] == [True, True, False]
    assert counter.allow("b", 1.0)
    assert counter.retry_after("a", 30.0) == 30
    assert counter.allow("a", 60.0)


def test_the_page_speaks_the_six_sms_languages_with_french_keys() -> None:
    catalog = default_page_catalog()
    assert catalog.languages == default_catalog().languages == {"fr", "en", "ar", "tr", "pt", "ro"}
    assert catalog.get("ar").direction == "rtl"
    assert {catalog.get(code).direction for code in ("fr", "en", "tr", "pt", "ro")} == {"ltr"}


@pytest.mark.parametrize(("language", "expected"), [("pt-BR", "pt"), ("de", "fr"), ("", "fr"), (None, "fr")])
def test_unknown_languages_read_french(language: str | None, expected: str) -> None:
    assert default_page_catalog().get(language).language == expected


def test_pages_without_an_appointment_follow_the_browser() -> None:
    catalog = default_page_catalog()
    assert catalog.negotiate("ar-MA,ar;q=0.9,fr;q=0.8").language == "ar"
    assert catalog.negotiate("de-DE,en;q=0.5").language == "en"
    assert catalog.negotiate(None).language == "fr"


def test_interpreter_language_names_are_written_in_the_page_language() -> None:
    catalog = default_page_catalog()
    assert catalog.get("fr").language_name("ar") == "arabe"
    assert catalog.get("ar").language_name("ar") == "العربية"
