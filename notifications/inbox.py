"""Replies from families: the words recognised in them (the rows they leave are
``scheduler/db/inbox.py``'s)."""

from __future__ import annotations

import tomllib
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

Action = Literal["confirm", "cancel", "stop", "keep"]
REPLIES_FILE = Path(__file__).resolve().parents[1] / "config" / "replies.toml"


@dataclass(frozen=True, slots=True)
class ReplyWords:
    """The words of each action, normalised."""

    confirm: frozenset[str]
    cancel: frozenset[str]
    stop: frozenset[str]

    def action(self, text: str) -> Action:
        """What a reply asks for."""
        word = normalise(text)
        for name in ("stop", "cancel", "confirm"):
            if word in getattr(self, name):
                return name
        return "keep"


def normalise(text: str) -> str:
    """Upper case, no accents, no surrounding spaces or punctuation (``" Oui ! "`` -> ``"OUI"``)."""
    decomposed = unicodedata.normalize("NFKD", text.strip().upper())
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return bare.strip(" .!?,;:'\"()-\n\t")


@cache
def reply_words(path: Path = REPLIES_FILE) -> ReplyWords:
    """The reply words of ``config/replies.toml``, loaded once."""
    with path.open("rb") as handle:
        data = tomllib.load(handle)
    return ReplyWords(
        *(frozenset(normalise(word) for word in data[name]) for name in ("confirm", "cancel", "stop"))
    )
