"""Validation of the identity data families give: phone numbers and languages."""

from __future__ import annotations

from functools import lru_cache

import phonenumbers
import pycountry

from scheduler.domain.errors import InvalidInput, InvalidPhone

MOBILE_TYPES = {phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE}
# A national number typed by a family overseas ("0692 ...") is not valid under "FR":
# the overseas departments have their own country codes, tried in this order.
NATIONAL_REGIONS = ("FR", "RE", "GP", "MQ", "GF", "YT", "PM")


def normalize_mobile(raw: str) -> str:
    """The E.164 form of a mobile number given in national or international form.

    Raises:
        InvalidPhone: when it is not a valid mobile number (the number is never echoed).
    """
    for region in NATIONAL_REGIONS:
        number = _parse(raw, region)
        if number is not None and phonenumbers.is_valid_number(number):
            if phonenumbers.number_type(number) not in MOBILE_TYPES:
                raise InvalidPhone("The phone number is not a mobile number, so it cannot receive SMS.")
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
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
        InvalidInput: for an unknown code, or a three-letter code that has a two-letter form.
    """
    code = code.strip().lower()
    problem = _language_problem(code)
    if problem:
        raise InvalidInput(problem)
    return code


@lru_cache(maxsize=1024)
def _language_problem(code: str) -> str | None:
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
