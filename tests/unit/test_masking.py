"""Phone masking: what logs and API answers may show of a number."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from notifications.masking import mask_phone


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        pytest.param("+33612345678", "+33 6•• ••• •78", id="france-mobile"),
        pytest.param("+33781234567", "+33 7•• ••• •67", id="france-07"),
        pytest.param("+262692123456", "+262 6•• ••• •56", id="reunion"),
        pytest.param("+594694123456", "+594 6•• ••• •56", id="guyane"),
        pytest.param("+14155550123", "+1 4 ••• ••• •23", id="ten-digit-national"),
        pytest.param("+33 6 12", "+33 •••", id="too-short-to-reveal-anything"),
    ],
)
def test_masks_international_numbers(number: str, expected: str) -> None:
    assert mask_phone(number) == expected


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        pytest.param(None, "<none>", id="none"),
        pytest.param("", "<none>", id="empty"),
        pytest.param("   ", "<none>", id="blank"),
        pytest.param("0612345678", "• ••• ••• •78", id="national-form-keeps-last-two-only"),
        pytest.param("not a number", "•••", id="no-digits"),
        pytest.param("12", "•••", id="two-digits"),
    ],
)
def test_masks_anything_else_without_raising(number: str | None, expected: str) -> None:
    assert mask_phone(number) == expected


@given(st.text())
def test_never_raises_and_never_shows_more_than_six_digits(text: str) -> None:
    # At most: a three-digit country code, the first national digit and the last two.
    assert sum(char.isdigit() for char in mask_phone(text)) <= 6


@given(st.from_regex(r"\+33[67][0-9]{8}", fullmatch=True))
def test_french_mobiles_keep_prefix_and_last_two_digits(number: str) -> None:
    assert mask_phone(number) == f"+33 {number[3]}•• ••• •{number[-2:]}"
