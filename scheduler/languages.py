"""Languages: ISO 639 codes checked and normalised (families', interpreters' and texts' languages)."""

from __future__ import annotations

from functools import lru_cache

import pycountry

from scheduler.domain.errors import InvalidInput

# ISO 639-2 codes that name no language (undetermined, multiple, none, uncoded) and the
# range reserved for local use: no interpreter can be matched on them.
SPECIAL_CODES = frozenset({"und", "mul", "zxx", "mis"})
LOCAL_USE = ("qaa", "qtz")


def normalize_language(code: str) -> str:
    """An ISO 639 code: two letters where one exists, else three (``ar``, ``ber``, ``fsl``).

    Raises:
        InvalidInput: for an unknown code, a special or local-use code (``und``, ``mul``, ``zxx``,
            ``mis``, ``qaa``-``qtz``), or a three-letter code that has a two-letter form.
    """
    code = code.strip().lower()
    problem = _language_problem(code)
    if problem:
        raise InvalidInput(problem)
    return code


@lru_cache(maxsize=1024)
def _language_problem(code: str) -> str | None:
    if len(code) == 3 and (code in SPECIAL_CODES or LOCAL_USE[0] <= code <= LOCAL_USE[1]):
        return (
            f"{code!r} is not a language (ISO 639 special or local-use code): name the language, e.g. 'ar'."
        )
    if len(code) == 2 and pycountry.languages.get(alpha_2=code) is not None:
        return None
    if len(code) == 3:
        language = pycountry.languages.get(alpha_3=code)
        if language is not None:
            short = getattr(language, "alpha_2", None)
            return f"Use the two-letter code {short!r} for this language." if short else None
        if pycountry.language_families.get(alpha_3=code) is not None:
            return None
    return f"Unknown language code {code!r}: use ISO 639 (e.g. 'fr', 'ar', 'ber')."
