"""Site numbers are stored in E.164 and shown to families as they dial them."""

from __future__ import annotations

import pytest

from scheduler.phones import dialable


@pytest.mark.parametrize(("stored", "shown"), [
    ("+33143943300", "01 43 94 33 00"),  # mainland landline
    ("+33612345678", "06 12 34 56 78"),
    ("+262262123456", "0262 12 34 56"),  # Réunion: part of the French numbering plan
    ("+590590123456", "0590 12 34 56"),  # Guadeloupe
    ("+4930123456", "+49 30 123456"),  # abroad: international form
    ("accueil", "accueil"),  # a value stored before numbers were checked is shown as it is
])
def test_numbers_are_shown_as_families_dial_them(stored: str, shown: str) -> None:
    assert dialable(stored) == shown
