"""Count the SMS segments a text costs: GSM-7 when every character allows it, else UCS-2."""

from __future__ import annotations

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


def _unit_costs(text: str) -> tuple[Encoding, list[int]]:
    """The encoding a text needs and the units each of its characters costs in it."""
    if all(char in GSM7_BASIC or char in GSM7_EXTENSION for char in text):
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
