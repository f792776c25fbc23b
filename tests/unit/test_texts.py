"""SMS texts: every event in every language, neutral words, localized dates, segment budget."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from notifications import texts
from notifications.segments import Segments
from notifications.texts import (
    APPOINTMENT_EVENTS,
    EVENTS,
    INTERPRETER_EVENTS,
    MessageContext,
    RenderedSms,
    TextCatalog,
    default_catalog,
    default_texts_dir,
    interpreter_place,
)

PARIS = ZoneInfo("Europe/Paris")
SHIPPED_LANGUAGES = ("fr", "en", "ar", "tr", "pt", "ro")
WEDNESDAY_2PM = datetime(2026, 11, 25, 14, 0, tzinfo=PARIS)
LINK = "https://rdv.exemple.fr/r/Ab3dE5fG7h"
# A long but realistic site: the French texts are written to fit 2 segments with it.
LONG_SITE = MessageContext(
    start=WEDNESDAY_2PM,
    site_label="Maison municipale des Familles Jean-Moulin",
    site_address="12 avenue du Général de Gaulle, Résidence Les Tilleuls, 94120 Fontenay-sous-Bois",
    link=LINK,
    site_phone="01 43 94 33 00",
)
SMALL_SITE = MessageContext(start=WEDNESDAY_2PM, site_label="Mairie annexe", link="https://x.fr/r/Ab3dE5fG7h")
# Words that would tell whoever reads the phone what the appointment is about.
REVEALING = re.compile(
    r"psych|psicó|psicol|psikolog|psiholog|social|sosyal|écoute|ecoute|CCAS|therap|thérap|terap"
    r"|نفس|اجتماع",
    re.IGNORECASE,
)
PROGRAMME_ACRONYM = re.compile(r"\bPRE\b")


def render(event: str, language: str, ctx: MessageContext) -> RenderedSms:
    return default_catalog().render(event, language, ctx)


def test_ships_the_six_languages() -> None:
    assert default_catalog().languages == frozenset(SHIPPED_LANGUAGES)


def test_default_texts_dir_is_config_texts_at_the_repo_root() -> None:
    assert default_texts_dir() == Path(__file__).resolve().parents[2] / "config" / "texts"


@pytest.mark.parametrize("event", EVENTS)
@pytest.mark.parametrize("language", SHIPPED_LANGUAGES)
def test_every_template_renders_in_every_language(language: str, event: str) -> None:
    sms = render(event, language, LONG_SITE)
    expected_language = "fr" if event in INTERPRETER_EVENTS else language
    assert sms.language == expected_language
    assert "{" not in sms.body and "}" not in sms.body
    assert "Maison municipale des Familles Jean-Moulin" in sms.body


@pytest.mark.parametrize("event", EVENTS)
@pytest.mark.parametrize("language", SHIPPED_LANGUAGES)
def test_texts_are_neutral(language: str, event: str) -> None:
    body = render(event, language, LONG_SITE).body
    assert REVEALING.search(body) is None
    assert PROGRAMME_ACRONYM.search(body) is None


@pytest.mark.parametrize("event", EVENTS)
def test_french_texts_fit_two_gsm7_segments_with_a_long_site(event: str) -> None:
    sms = render(event, "fr", LONG_SITE)
    assert sms.segments.encoding == "GSM-7"
    assert sms.segments.segments <= 2
    # ...without having to shorten anything.
    assert "mercredi 25 novembre à 14h00" in sms.body
    assert "Résidence Les Tilleuls" in sms.body


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (
            "fr",
            (
                "Rendez-vous le mercredi 25 novembre à 14h00 : Mairie annexe. "
                "Pour confirmer ou annuler : https://x.fr/r/Ab3dE5fG7h"
            ),
        ),
        (
            "en",
            (
                "Appointment on Wednesday 25 November at 14:00: Mairie annexe. "
                "To confirm or cancel: https://x.fr/r/Ab3dE5fG7h"
            ),
        ),
        (
            "ar",
            (
                "موعدك يوم الأربعاء 25 نوفمبر الساعة 14:00: Mairie annexe. "
                "للتأكيد أو الإلغاء: https://x.fr/r/Ab3dE5fG7h"
            ),
        ),
        (
            "tr",
            (
                "Randevunuz: 25 Kasım Çarşamba saat 14:00, Mairie annexe. "
                "Onaylamak veya iptal etmek için: https://x.fr/r/Ab3dE5fG7h"
            ),
        ),
        (
            "pt",
            (
                "Marcação: quarta-feira, 25 de novembro, às 14:00, Mairie annexe. "
                "Para confirmar ou cancelar: https://x.fr/r/Ab3dE5fG7h"
            ),
        ),
        (
            "ro",
            (
                "Aveți o programare miercuri, 25 noiembrie, ora 14:00: Mairie annexe. "
                "Pentru confirmare sau anulare: https://x.fr/r/Ab3dE5fG7h"
            ),
        ),
    ],
)
def test_booked_text_writes_the_date_the_language_way(language: str, expected: str) -> None:
    assert texts.appointment_booked(language, SMALL_SITE).body == expected


def test_arabic_is_ucs2() -> None:
    assert texts.appointment_reminder("ar", SMALL_SITE).segments.encoding == "UCS-2"


def test_segments_are_those_of_the_body() -> None:
    sms = texts.appointment_booked("fr", SMALL_SITE)
    assert sms.segments == Segments("GSM-7", 114, 1)


@pytest.mark.parametrize("language", ["xx", "", "ber", "de-CH"])
def test_unknown_language_falls_back_to_french(language: str) -> None:
    sms = texts.appointment_booked(language, SMALL_SITE)
    assert sms.language == "fr"
    assert sms.body.startswith("Rendez-vous le mercredi 25 novembre à 14h00")


@pytest.mark.parametrize("language", ["pt-BR", "PT", "pt_PT", " pt "])
def test_regional_variants_use_the_base_language(language: str) -> None:
    assert texts.appointment_booked(language, SMALL_SITE).language == "pt"


def test_reminder_offers_the_site_phone_when_there_is_no_link() -> None:
    ctx = MessageContext(
        datetime(2026, 11, 25, 9, 15, tzinfo=PARIS),
        "Mairie annexe",
        "1 place de la Mairie",
        site_phone="01 43 94 33 00",
    )
    assert texts.appointment_reminder("fr", ctx).body == (
        "Rappel : rendez-vous le mercredi 25 novembre à 9h15 : Mairie annexe, 1 place de la Mairie. "
        "Pour annuler, appelez le 01 43 94 33 00."
    )


def test_link_is_preferred_to_the_phone() -> None:
    ctx = MessageContext(WEDNESDAY_2PM, "Mairie annexe", link=LINK, site_phone="01 43 94 33 00")
    assert texts.appointment_moved("fr", ctx).body == (
        "Votre rendez-vous est déplacé au mercredi 25 novembre à 14h00 : Mairie annexe. "
        "Pour confirmer ou annuler : https://rdv.exemple.fr/r/Ab3dE5fG7h"
    )


def test_cancellation_offers_a_new_appointment() -> None:
    assert texts.appointment_cancelled("fr", SMALL_SITE).body == (
        "Votre rendez-vous du mercredi 25 novembre à 14h00 (Mairie annexe) est annulé. "
        "Pour en prendre un autre : https://x.fr/r/Ab3dE5fG7h"
    )


def test_no_confirm_part_without_link_or_phone() -> None:
    ctx = MessageContext(WEDNESDAY_2PM, "Mairie annexe")
    assert (
        texts.appointment_booked("fr", ctx).body
        == "Rendez-vous le mercredi 25 novembre à 14h00 : Mairie annexe."
    )


@pytest.mark.parametrize("language", ["fr", "ar", "en"])
def test_interpreter_texts_are_french_and_never_carry_the_family_link(language: str) -> None:
    sms = texts.interpreter_booked(language, LONG_SITE)
    assert sms.language == "fr"
    assert sms.body == (
        "Interprétariat réservé le mercredi 25 novembre à 14h00 : "
        "Maison municipale des Familles Jean-Moulin, "
        "12 avenue du Général de Gaulle, Résidence Les Tilleuls, 94120 Fontenay-sous-Bois. "
        "Contact : 01 43 94 33 00."
    )


@pytest.mark.parametrize(
    ("function", "expected"),
    [
        (texts.interpreter_moved, "Interprétariat déplacé au mercredi 25 novembre à 14h00 : Mairie annexe."),
        (
            texts.interpreter_cancelled,
            "Interprétariat du mercredi 25 novembre à 14h00 (Mairie annexe) annulé.",
        ),
        (
            texts.interpreter_reminder,
            "Rappel : interprétariat le mercredi 25 novembre à 14h00 : Mairie annexe.",
        ),
    ],
)
def test_other_interpreter_texts(
    function: Callable[[str, MessageContext], RenderedSms], expected: str
) -> None:
    assert function("fr", SMALL_SITE).body == expected


def test_august_is_written_without_circumflex_to_stay_gsm7() -> None:
    sms = texts.appointment_booked(
        "fr", MessageContext(datetime(2026, 8, 5, 10, 0, tzinfo=PARIS), "Mairie annexe")
    )
    assert sms.body == "Rendez-vous le mercredi 5 aout à 10h00 : Mairie annexe."
    assert sms.segments.encoding == "GSM-7"


def test_too_long_text_first_uses_the_short_date() -> None:
    ctx = MessageContext(
        WEDNESDAY_2PM,
        "Maison municipale des Familles Jean-Moulin",
        "12 avenue du Général de Gaulle, Résidence Les Tilleuls, entrée B par la cour, escalier C, "
        "3e étage, porte à gauche, quartier Ouest, 94120 Fontenay-sous-Bois",
        LINK,
    )
    sms = texts.appointment_booked("fr", ctx)
    assert sms.body.startswith(
        "Rendez-vous le mer. 25/11 à 14h00 : Maison municipale des Familles Jean-Moulin, 12 "
    )
    assert sms.segments == Segments("GSM-7", 301, 2)


def test_address_is_spelled_in_gsm7_rather_than_left_out() -> None:
    # "â" would make the whole text UCS-2 (67 characters a segment) and cost the address.
    ctx = MessageContext(
        WEDNESDAY_2PM,
        "Maison municipale des Familles Jean-Moulin",
        "Bâtiment B, 12 avenue du Général de Gaulle, 94120 Fontenay-sous-Bois",
        LINK,
    )
    sms = texts.appointment_booked("fr", ctx)
    assert sms.body == (
        "Rendez-vous le mercredi 25 novembre à 14h00 : Maison municipale des Familles Jean-Moulin, "
        "Batiment B, 12 avenue du Général de Gaulle, 94120 Fontenay-sous-Bois. "
        "Pour confirmer ou annuler : https://rdv.exemple.fr/r/Ab3dE5fG7h"
    )
    assert sms.segments == Segments("GSM-7", 223, 2)


def test_a_label_with_an_em_dash_and_c_cedilla_stays_gsm7_in_two_segments() -> None:
    ctx = MessageContext(
        WEDNESDAY_2PM, "Maison des Familles — Françoise Dolto",
        "Résidence Les Tilleuls, 12 avenue du Général de Gaulle, 94120 Fontenay-sous-Bois", LINK,
    )
    for event in APPOINTMENT_EVENTS:
        sms = render(event, "fr", ctx)
        assert "Maison des Familles - Francoise Dolto" in sms.body
        assert (sms.segments.encoding, sms.segments.segments) == ("GSM-7", 2)


def test_a_label_too_long_for_any_form_is_cut_last() -> None:
    ctx = MessageContext(WEDNESDAY_2PM, "Maison des Familles " * 20, "1 rue de la Paix", LINK)
    sms = texts.appointment_booked("fr", ctx)
    assert sms.body.startswith("Rendez-vous le mer. 25/11 à 14h00 : Maison des Familles Maison des Familles")
    assert sms.body.endswith(f". Pour confirmer ou annuler : {LINK}")
    assert sms.segments.segments == 2


def test_languages_written_in_ucs2_keep_the_sites_spelling() -> None:
    ctx = MessageContext(WEDNESDAY_2PM, "Maison Françoise Dolto", link=LINK)
    assert "Françoise" in render("appointment_booked", "pt", ctx).body


SITE_TEXT = st.text(max_size=120)


@settings(max_examples=150, deadline=None)
@given(label=SITE_TEXT, address=st.none() | SITE_TEXT, with_link=st.booleans(),
       event=st.sampled_from(EVENTS))
def test_every_french_text_fits_two_segments_whatever_the_site(
    label: str, address: str | None, with_link: bool, event: str
) -> None:
    ctx = MessageContext(WEDNESDAY_2PM, label, address, LINK if with_link else None, "01 43 94 33 00")
    assert render(event, "fr", ctx).segments.segments <= 2


@settings(max_examples=100, deadline=None)
@given(label=SITE_TEXT, address=st.none() | SITE_TEXT, language=st.sampled_from(SHIPPED_LANGUAGES),
       event=st.sampled_from(APPOINTMENT_EVENTS))
def test_every_text_keeps_to_its_languages_budget_whatever_the_site(
    label: str, address: str | None, language: str, event: str
) -> None:
    ctx = MessageContext(WEDNESDAY_2PM, label, address, LINK, "01 43 94 33 00")
    sms = render(event, language, ctx)
    assert sms.segments.segments <= (2 if language in ("fr", "en") else 4)


def test_context_start_must_be_aware() -> None:
    with pytest.raises(ValueError, match="start must carry a UTC offset"):
        MessageContext(datetime(2026, 11, 25, 14, 0), "Mairie annexe")


def test_unknown_event_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown SMS event: 'appointment_forgotten'"):
        default_catalog().render("appointment_forgotten", "fr", SMALL_SITE)


# --- catalogs loaded from another directory -------------------------------------------------


def french_catalog_with(tmp_path: Path, old: str, new: str) -> Path:
    """A texts directory holding the shipped fr.toml with one line replaced."""
    shipped = (default_texts_dir() / "fr.toml").read_text(encoding="utf-8")
    assert old in shipped
    (tmp_path / "fr.toml").write_text(shipped.replace(old, new), encoding="utf-8")
    return tmp_path


def test_a_template_with_e_circumflex_is_ucs2(tmp_path: Path) -> None:
    directory = french_catalog_with(
        tmp_path,
        'text = "Rendez-vous le {when} : {place}."',
        'text = "Rendez-vous le {when} : {place}. En cas d\'empêchement, prévenez-nous."',
    )
    sms = texts.appointment_booked("fr", SMALL_SITE, TextCatalog.load(directory))
    assert sms.segments.encoding == "UCS-2"


def test_loading_refuses_an_unknown_placeholder(tmp_path: Path) -> None:
    directory = french_catalog_with(
        tmp_path, 'text = "Rendez-vous le {when} : {place}."', 'text = "Rendez-vous le {when} : {lieu}."'
    )
    with pytest.raises(ValueError, match=r"appointment_booked.text uses unknown placeholders \['lieu'\]"):
        TextCatalog.load(directory)


def test_loading_refuses_an_unknown_key(tmp_path: Path) -> None:
    directory = french_catalog_with(tmp_path, "[gsm7_spelling]", "[gsm7_speling]")
    with pytest.raises(ValueError, match=r"unknown keys \['gsm7_speling'\]"):
        TextCatalog.load(directory)


def test_loading_refuses_an_unknown_event_part(tmp_path: Path) -> None:
    directory = french_catalog_with(
        tmp_path,
        'phone = " Contact : {site_phone}."\n\n[interpreter_moved]',
        'sms = "x"\n\n[interpreter_moved]',
    )
    with pytest.raises(ValueError, match=r"\[interpreter_booked\] has an unknown key 'sms'"):
        TextCatalog.load(directory)


def test_french_must_have_every_event(tmp_path: Path) -> None:
    directory = french_catalog_with(
        tmp_path,
        "[interpreter_reminder]\n"
        'text = "Rappel : interprétariat le {when} : {place}."\n'
        'phone = " Contact : {site_phone}."\n',
        "",
    )
    with pytest.raises(ValueError, match=r"the fr texts lack: interpreter_reminder$"):
        TextCatalog.load(directory)


def test_a_catalog_without_french_is_refused(tmp_path: Path) -> None:
    (tmp_path / "en.toml").write_text(
        (default_texts_dir() / "en.toml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    with pytest.raises(ValueError, match="the fr texts lack: appointment_booked, appointment_moved, "):
        TextCatalog.load(tmp_path)


def test_appointment_events_exist_in_every_shipped_language() -> None:
    for language in SHIPPED_LANGUAGES:
        for event in APPOINTMENT_EVENTS:
            assert render(event, language, SMALL_SITE).language == language


@pytest.mark.parametrize(("mode", "expected"), [
    ("on_site", ("Accueil", "1 rue de la Paix")),
    (None, ("Accueil", "1 rue de la Paix")),
    ("phone", ("Accueil, par téléphone", None)),
    ("video", ("Accueil, en visio", None)),
])
def test_an_interpreter_who_works_remotely_is_told_how_not_where(
    mode: str | None, expected: tuple[str, str | None]
) -> None:
    assert interpreter_place("Accueil", "1 rue de la Paix", mode) == expected
