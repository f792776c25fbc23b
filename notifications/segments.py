"""Count the SMS segments a text costs: GSM-7 when every character allows it, else UCS-2."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Literal

Encoding = Literal["GSM-7", "UCS-2"]

# GSM 03.38 basic character set, in table order (0x1B, the escape to the extension
# table, is left out: it is not a character a text can contain on its own).
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ"
    " !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# Extension table: each of these is sent as ESC + character, so it costs two septets.
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

# Characters NFKD cannot bring into GSM-7, spelled the way a French reader expects.
_GSM7_SPELLING = {
    **dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212", "-"),
    **dict.fromkeys("\u2018\u2019\u201a\u201b\u2032\u00b4\u0060", "'"),
    **dict.fromkeys("\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb", '"'),
    **dict.fromkeys("\u00a0\u2007\u2009\u202f\t", " "),
    "\u2026": "...", "\u0153": "oe", "\u0152": "OE", "\u00b0": "o", "\u2022": "-", "\u00b7": "-",
}

SINGLE_SEGMENT_UNITS: dict[Encoding, int] = {"GSM-7": 160, "UCS-2": 70}
# A concatenated message loses 7 septets / 3 UTF-16 units per segment to the UDH header.
CONCATENATED_SEGMENT_UNITS: dict[Encoding, int] = {"GSM-7": 153, "UCS-2": 67}


@dataclass(frozen=True, slots=True)
class Segments:
    """What a text costs: its encoding, its length in that encoding's units, its segments."""

    encoding: Encoding
    units: int
    segments: int


def count_segments(text: str) -> Segments:
    """Count the segments a text needs, the way carriers split it.

    Args:
        text: The message body.

    Returns:
        The encoding, the length in septets (GSM-7) or UTF-16 code units (UCS-2), and the
        number of segments (0 for an empty text, which cannot be sent).
    """
    encoding, costs = _unit_costs(text)
    units = sum(costs)
    if units == 0:
        return Segments(encoding, 0, 0)
    if units <= SINGLE_SEGMENT_UNITS[encoding]:
        return Segments(encoding, units, 1)
    return Segments(encoding, units, _pack(costs, CONCATENATED_SEGMENT_UNITS[encoding]))


def is_gsm7(text: str) -> bool:
    """Whether every character of a text is in the GSM-7 alphabet (basic or extension table)."""
    return all(char in GSM7_BASIC or char in GSM7_EXTENSION for char in text)


def to_gsm7(text: str) -> str:
    """The closest GSM-7 spelling of a text: accents GSM-7 lacks dropped, typography made plain.

    ``"Maison des Familles — Françoise Dolto"`` -> ``"Maison des Familles - Francoise Dolto"``.
    Letters GSM-7 has (é è à ù Ç...) are kept; ê ç œ « — and the like are spelled without
    (NFKD keeps the base letter); a character with no GSM-7 spelling at all is left out.
    """
    if is_gsm7(text):
        return text
    return "".join(_gsm7_char(char) for char in text)


def _gsm7_char(char: str) -> str:
    if char in GSM7_BASIC or char in GSM7_EXTENSION:
        return char
    if char in _GSM7_SPELLING:
        return _GSM7_SPELLING[char]
    decomposed = unicodedata.normalize("NFKD", char)
    return "".join(part for part in decomposed if part in GSM7_BASIC or part in GSM7_EXTENSION)


def _unit_costs(text: str) -> tuple[Encoding, list[int]]:
    """The encoding a text needs and the units each of its characters costs in it."""
    if is_gsm7(text):
        return "GSM-7", [2 if char in GSM7_EXTENSION else 1 for char in text]
    # Characters outside the Basic Multilingual Plane (emoji) are a UTF-16 surrogate pair.
    return "UCS-2", [2 if ord(char) > 0xFFFF else 1 for char in text]


def _pack(costs: list[int], per_segment: int) -> int:
    """Segments needed when a character is never cut in two.

    An escape sequence or a surrogate pair cannot straddle two segments, so a segment may
    end one unit short; a plain division would undercount those messages.
    """
    segments, used = 1, 0
    for cost in costs:
        if used + cost > per_segment:
            segments, used = segments + 1, 0
        used += cost
    return segments
