"""Segment counts, with expected values worked out by hand from the GSM 03.38 tables."""

from __future__ import annotations

import pytest

from notifications.segments import Segments, count_segments, to_gsm7


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("", Segments("GSM-7", 0, 0), id="empty"),
        pytest.param("Bonjour", Segments("GSM-7", 7, 1), id="ascii"),
        pytest.param("a" * 160, Segments("GSM-7", 160, 1), id="gsm7-full-single"),
        pytest.param("a" * 161, Segments("GSM-7", 161, 2), id="gsm7-one-over"),
        pytest.param("a" * 306, Segments("GSM-7", 306, 2), id="gsm7-two-full"),
        pytest.param("a" * 307, Segments("GSM-7", 307, 3), id="gsm7-three"),
        pytest.param("é è à ù É Ç ì ò", Segments("GSM-7", 15, 1), id="french-accents-in-basic-table"),
        pytest.param("Line\nbreak", Segments("GSM-7", 10, 1), id="newline-is-basic"),
        pytest.param("€", Segments("GSM-7", 2, 1), id="euro-costs-two"),
        pytest.param("[x]{y}", Segments("GSM-7", 10, 1), id="brackets-cost-two"),
        pytest.param("a" * 158 + "€", Segments("GSM-7", 160, 1), id="extension-fills-single"),
        pytest.param("a" * 159 + "€", Segments("GSM-7", 161, 2), id="extension-overflows-single"),
        pytest.param("empêchement", Segments("UCS-2", 11, 1), id="e-circumflex"),
        pytest.param("ê" * 70, Segments("UCS-2", 70, 1), id="ucs2-full-single"),
        pytest.param("ê" * 71, Segments("UCS-2", 71, 2), id="ucs2-one-over"),
        pytest.param("ê" * 134, Segments("UCS-2", 134, 2), id="ucs2-two-full"),
        pytest.param("ê" * 135, Segments("UCS-2", 135, 3), id="ucs2-three"),
        pytest.param("مرحبا", Segments("UCS-2", 5, 1), id="arabic"),
        pytest.param("OK 👍", Segments("UCS-2", 5, 1), id="emoji-is-a-surrogate-pair"),
    ],
)
def test_count_segments(text: str, expected: Segments) -> None:
    assert count_segments(text) == expected


@pytest.mark.parametrize("char", list("êâîôûëïçÀœ"))
def test_french_letters_outside_gsm7_force_ucs2(char: str) -> None:
    assert count_segments(f"Rendez-vous {char}").encoding == "UCS-2"


def test_capital_c_cedilla_is_gsm7_but_small_one_is_not() -> None:
    assert count_segments("Ç").encoding == "GSM-7"
    assert count_segments("ç").encoding == "UCS-2"


def test_escape_sequence_never_split_across_segments() -> None:
    # 152 + 2 + 152 = 306 septets, 2 segments by division; but the euro sign does not fit
    # in the first segment's last septet, so it opens the second, which then overflows.
    assert count_segments("a" * 152 + "€" + "a" * 152) == Segments("GSM-7", 306, 3)


def test_surrogate_pair_never_split_across_segments() -> None:
    # 66 + 2 + 66 = 134 units, 2 segments by division; the emoji cannot take the first
    # segment's 67th unit alone, so it opens the second, which then overflows.
    assert count_segments("ê" * 66 + "👍" + "ê" * 66) == Segments("UCS-2", 134, 3)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "Maison des Familles — Françoise Dolto",
            "Maison des Familles - Francoise Dolto",
            id="em-dash-c-cedilla",
        ),
        pytest.param("l’Hôtel « Cœur » – île", 'l\'Hotel " Coeur " - ile', id="quotes-oe-circumflex"),
        pytest.param("Bâtiment B\u202f: 3e étage…", "Batiment B : 3e étage...", id="narrow-space-ellipsis"),
        pytest.param("Ça, à É è ù Ñ ü [1]", "Ça, à É è ù Ñ ü [1]", id="gsm7-kept-as-is"),
        pytest.param("Centre 😀 日本", "Centre  ", id="no-gsm7-spelling-left-out"),
    ],
)
def test_to_gsm7_spells_a_text_in_gsm7(text: str, expected: str) -> None:
    assert to_gsm7(text) == expected
    assert count_segments(to_gsm7(text)).encoding == "GSM-7"
