"""Who gets no SMS at all, and why: no number, a number that cannot receive SMS, no consent."""

from __future__ import annotations

import pytest

from notifications.policy import may_text, receives_sms, why_not_texted


@pytest.mark.parametrize(
    ("phone", "expected"),
    [
        ("+33612345678", True),  # French mobile
        ("+33712345678", True),  # French mobile (07)
        ("+262692123456", True),  # Réunion mobile
        ("+12015550123", True),  # United States: fixed line or mobile, the library cannot tell
        ("+33143943300", False),  # Paris landline
        ("+33970123456", False),  # VoIP (09)
        ("+33800123456", False),  # toll-free
        ("+3361234", True),  # not a number the library can judge: the sender will say
        ("not a number", True),
    ],
)
def test_only_a_number_known_not_to_be_a_mobile_cannot_receive_sms(phone: str, expected: bool) -> None:
    assert receives_sms(phone) is expected


@pytest.mark.parametrize(
    ("phone", "consent", "expected"),
    [
        ("+33612345678", True, None),
        ("+33612345678", False, "no-consent"),
        ("+33143943300", True, "landline"),
        ("+33143943300", False, "landline"),
        (None, True, "no-phone"),
        ("  ", False, "no-phone"),
    ],
)
def test_why_a_family_is_never_texted(phone: str | None, consent: bool, expected: str | None) -> None:
    assert why_not_texted(phone, consent) == expected
    assert may_text(phone, consent) is (expected is None)
