"""The page's words per language, from ``config/page/<lang>.toml``, French as the fallback."""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from babel import Locale

DEFAULT_LANGUAGE = "fr"
PAGE_TEXTS_DIR = Path(__file__).resolve().parents[2] / "config" / "page"


@dataclass(frozen=True, slots=True)
class PageTexts:
    """One language's page: its babel locale, writing direction and words."""

    language: str
    locale: Locale
    direction: str
    words: Mapping[str, str]

    def language_name(self, code: str) -> str:
        """A language's name as this language writes it (the code itself when babel has none)."""
        return str(self.locale.languages.get(code.lower(), code))


class PageCatalog:
    """Every language's page words, checked when loaded: each file has exactly French's keys."""

    def __init__(self, languages: Mapping[str, PageTexts]) -> None:
        expected = set(languages[DEFAULT_LANGUAGE].words)
        for texts in languages.values():
            if set(texts.words) != expected:
                raise ValueError(f"page texts {texts.language}: keys differ from {DEFAULT_LANGUAGE} "
                                 f"by {sorted(set(texts.words) ^ expected)}")
        self._languages = dict(languages)

    @classmethod
    def load(cls, directory: Path = PAGE_TEXTS_DIR) -> PageCatalog:
        """Read every ``<lang>.toml`` of ``directory``."""
        return cls({path.stem: _parse(path) for path in sorted(directory.glob("*.toml"))})

    @property
    def languages(self) -> frozenset[str]:
        return frozenset(self._languages)

    def get(self, language: str | None) -> PageTexts:
        """The texts of ``language`` (``pt-BR`` reads ``pt``), else French."""
        base = (language or "").strip().lower().replace("_", "-").split("-")[0]
        return self._languages.get(base) or self._languages[DEFAULT_LANGUAGE]

    def negotiate(self, accept_language: str | None) -> PageTexts:
        """The texts a browser asks for in ``Accept-Language`` (pages with no appointment)."""
        for part in (accept_language or "").split(","):
            tag = part.split(";")[0].strip().lower().replace("_", "-").split("-")[0]
            if tag in self._languages:
                return self._languages[tag]
        return self._languages[DEFAULT_LANGUAGE]


def _parse(path: Path) -> PageTexts:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    if data["dir"] not in ("ltr", "rtl"):
        raise ValueError(f"{path}: dir must be ltr or rtl")
    return PageTexts(path.stem, Locale.parse(data["locale"]), data["dir"], dict(data["text"]))


@functools.cache
def default_page_catalog() -> PageCatalog:
    """The shipped catalog, loaded once."""
    return PageCatalog.load()
