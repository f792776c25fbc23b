"""Replies from families: recognised words, and the inbox row each reply leaves for staff."""

from __future__ import annotations

import tomllib
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Literal

from sqlalchemy import Text
from sqlmodel import Column, Field, SQLModel

from scheduler.db.tables import new_id

Action = Literal["confirm", "cancel", "stop", "keep"]
REPLIES_FILE = Path(__file__).resolve().parents[1] / "config" / "replies.toml"


class InboundMessage(SQLModel, table=True):
    """A reply received; its text is kept only when no keyword was recognised (staff read it)."""

    __tablename__ = "inbound_message"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    provider_id: str = Field(max_length=64, unique=True)
    family_id: str | None = Field(default=None, max_length=32, index=True)
    appointment_id: str | None = Field(default=None, max_length=32, index=True)
    action: str = Field(max_length=16)
    body: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    received_at: datetime


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
    return ReplyWords(*(frozenset(normalise(word) for word in data[name]) for name in ("confirm", "cancel", "stop")))
