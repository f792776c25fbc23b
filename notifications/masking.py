"""Phone numbers and family page links as they may appear in logs and API answers."""

from __future__ import annotations

import re

import phonenumbers

MASK = "•"
NO_NUMBER = "<none>"
# Below this many national digits, first + last two would reveal most of the number.
_MIN_DIGITS_TO_REVEAL = 6
# A family page link's token: whatever follows ``/r/`` up to the end of the URL path segment.
_LINK_TOKEN = re.compile(r"(?<=/r/)[^\s/?#]+")
LINK_TOKEN_MASK = "…"


def mask_phone(e164: str | None) -> str:
    """Mask a phone number so that a log line or an API answer never carries it in clear.

    Keeps the country code, the first national digit and the last two digits
    (``+33612345678`` -> ``+33 6•• ••• •78``). Never raises: anything that is not a
    parsable international number keeps at most its last two digits.

    Args:
        e164: The number, normally in E.164 form; ``None`` or blank is allowed.

    Returns:
        The masked number, or ``<none>`` when there is no number.
    """
    if e164 is None or not e164.strip():
        return NO_NUMBER
    try:
        parsed = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return _group(_mask_digits([c for c in e164 if c.isdigit()], keep_first=False))
    national = phonenumbers.national_significant_number(parsed)
    return f"+{parsed.country_code} {_group(_mask_digits(list(national), keep_first=True))}"


def _mask_digits(digits: list[str], *, keep_first: bool) -> str:
    """Replace every digit but the first (optionally) and the last two by the mask."""
    if len(digits) < _MIN_DIGITS_TO_REVEAL:
        return MASK * max(len(digits), 3)
    head = 1 if keep_first else 0
    return "".join(digits[:head]) + MASK * (len(digits) - head - 2) + "".join(digits[-2:])


def _group(masked: str) -> str:
    """Group by three from the right, as French numbers are read (``6•• ••• •78``)."""
    groups = [masked[max(end - 3, 0) : end] for end in range(len(masked), 0, -3)]
    return " ".join(reversed(groups))


def mask_links(text: str) -> str:
    """Hide the token of every family page link in a text, keeping the link's shape.

    ``... : https://rdv.example.fr/r/Ab3dE5fG7hJk`` -> ``... : https://rdv.example.fr/r/…``:
    the token opens the family's page (its appointment, confirm, cancel), so it is a secret.
    """
    return _LINK_TOKEN.sub(LINK_TOKEN_MASK, text)
