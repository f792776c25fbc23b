"""Validation of identity data: families' and sites' phone numbers, and languages."""

from __future__ import annotations

from functools import lru_cache

import phonenumbers
import pycountry

from scheduler.domain.errors import InvalidInput, InvalidPhone

MOBILE_TYPES = {phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE}
# A national number typed by a family overseas ("0692 ...") is not valid under "FR":
# the overseas departments have their own country codes, tried in this order.
NATIONAL_REGIONS = ("FR", "RE", "GP", "MQ", "GF", "YT", "PM")
# ISO 639-2 codes that name no language (undetermined, multiple, none, uncoded) and the
# range reserved for local use: no interpreter can be matched on them.
SPECIAL_CODES = frozenset({"und", "mul", "zxx", "mis"})
LOCAL_USE = ("qaa", "qtz")


def normalize_mobile(raw: str) -> str:
    """The E.164 form of a mobile number given in national or international form.

    Raises:
        InvalidPhone: when it is not a valid mobile number (the number is never echoed).
    """
    number = _valid_number(raw)
    if phonenumbers.number_type(number) not in MOBILE_TYPES:
        raise InvalidPhone("The phone number is not a mobile number, so it cannot receive SMS.")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_phone(raw: str) -> str:
    """The E.164 form of any valid number (a site's or staff member's landline too).

    Families read it in their SMS ("call the site on ..."), so free text is not enough.

    Raises:
        InvalidPhone: when it is not a valid number (the number is never echoed).
    """
    return phonenumbers.format_number(_valid_number(raw), phonenumbers.PhoneNumberFormat.E164)


def dialable(stored: str) -> str:
    """How a family reads a site's number: French numbering plan numbers as dialled in France
    ("01 43 94 33 00", "0262 12 34 56"), others in international form; unparsable text as is."""
    number = _parse(stored, "FR")
    if number is None or not phonenumbers.is_valid_number(number):
        return stored
    region = phonenumbers.region_code_for_number(number)
    style = (phonenumbers.PhoneNumberFormat.NATIONAL if region in NATIONAL_REGIONS
             else phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    return phonenumbers.format_number(number, style)


def _valid_number(raw: str) -> phonenumbers.PhoneNumber:
    for region in NATIONAL_REGIONS:
        number = _parse(raw, region)
        if number is not None and phonenumbers.is_valid_number(number):
            return number
        if raw.strip().startswith(("+", "00")):
            break  # an international number does not depend on the region tried
    raise InvalidPhone("The phone number is not a valid number.")


def _parse(raw: str, region: str) -> phonenumbers.PhoneNumber | None:
    try:
        return phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None


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
        return f"{code!r} is not a language (ISO 639 special or local-use code): name the language, e.g. 'ar'."
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
