"""The waiting list's words per language (its offer SMS and page), from ``config/waitlist/<lang>.toml``,
French as the fallback: every file has exactly French's keys, checked when loaded."""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from babel import Locale
from babel.dates import format_date, format_time

DEFAULT_LANGUAGE = "fr"
TEXTS_DIR = Path(__file__).resolve().parents[2] / "config" / "waitlist"
LINK_MARK = "{link}"
"""Left in the stored SMS: the dispatcher puts the offer's link there when it sends."""


@dataclass(frozen=True, slots=True)
class WaitlistTexts:
    """One language's words: its babel locale, writing direction and texts."""

    language: str
    locale: Locale
    direction: str
    words: Mapping[str, str]

    def when(self, local: datetime) -> str:
        """A local start as the texts write it (``mercredi 11 mars à 10:00``)."""
        return self.words["when"].format(date=format_date(local.date(), "EEEE d MMMM", locale=self.locale),
                                         time=format_time(local.time(), "short", locale=self.locale))

    def sms(self, local: datetime, place: str) -> str:
        """The offer's SMS, its link left as ``{link}``."""
        return self.words["sms"].format(when=self.when(local), place=place, link=LINK_MARK)


class WaitlistCatalog:
    """Every language's waiting-list words."""

    def __init__(self, languages: Mapping[str, WaitlistTexts]) -> None:
        expected = set(languages[DEFAULT_LANGUAGE].words)
        for texts in languages.values():
            if set(texts.words) != expected:
                raise ValueError(f"waiting list texts {texts.language}: keys differ from {DEFAULT_LANGUAGE}")
        self._languages = dict(languages)

    @classmethod
    def load(cls, directory: Path = TEXTS_DIR) -> WaitlistCatalog:
        """Read every ``<lang>.toml`` of ``directory``."""
        return cls({path.stem: _parse(path) for path in sorted(directory.glob("*.toml"))})

    def get(self, language: str | None) -> WaitlistTexts:
        """The texts of ``language`` (``pt-BR`` reads ``pt``), else French."""
        base = (language or "").strip().lower().replace("_", "-").split("-")[0]
        return self._languages.get(base) or self._languages[DEFAULT_LANGUAGE]


def _parse(path: Path) -> WaitlistTexts:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    if data["dir"] not in ("ltr", "rtl"):
        raise ValueError(f"{path}: dir must be ltr or rtl")
    return WaitlistTexts(path.stem, Locale.parse(data["locale"]), data["dir"], dict(data["text"]))


@functools.cache
def default_catalog() -> WaitlistCatalog:
    """The shipped catalog, loaded once."""
    return WaitlistCatalog.load()
