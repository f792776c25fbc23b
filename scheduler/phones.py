"""Phone numbers: validation to E.164 (families', sites' and staff's) and the form families dial."""

from __future__ import annotations

import phonenumbers

from scheduler.domain.errors import InvalidPhone

MOBILE_TYPES = {phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE}
# A national number typed by a family overseas ("0692 ...") is not valid under "FR":
# the overseas departments have their own country codes, tried in this order.
NATIONAL_REGIONS = ("FR", "RE", "GP", "MQ", "GF", "YT", "PM")


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
        if number is not None and number.extension:
            # "+33 1 23 45 67 89 ext. 12": E.164 has no extension, so it would be silently lost.
            raise InvalidPhone("The phone number has an extension, which cannot be stored or texted.")
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
