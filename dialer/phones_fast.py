"""A fast path for numbers already written in E.164, with the full parse's results.

``phonenumbers.parse`` is general: punctuation, vanity letters, extensions,
international and national prefixes. For a plain ``+<digits>`` most of that
work cannot change anything, and skipping it halves the cost of validating a
contact (an import of a million rows spends most of its Python time here).

What the full parse still does to ``+<digits>``, and this path does the same:
the country code is the shortest known prefix of 1-3 digits; a national
significant number outside 2-17 digits is an error; a leading national
prefix (``+44 0...``) may be stripped, so any number that begins with one is
left to the full parse; leading zeros are kept (Italy). Validity is then
asked of the very same ``is_valid_number``. ``tests/unit/test_phones_fast.py``
checks with hypothesis that both paths agree, input by input.
"""

from __future__ import annotations

import re
from functools import cache

from phonenumbers import (
    COUNTRY_CODE_TO_REGION_CODE,
    PhoneMetadata,
    PhoneNumber,
    is_valid_number,
    region_code_for_country_code,
)

NOT_VALID = "not a valid phone number"
# ASCII only: \d would also match other scripts' digits, which the full parse normalises.
_PLAIN_E164 = re.compile(r"\+[1-9][0-9]{3,19}")
_MAX_COUNTRY_CODE_DIGITS = 3
_MIN_NSN_DIGITS = 2
_MAX_NSN_DIGITS = 17
_UNDECIDED = re.compile(r"(?!)")  # marks a country whose metadata we do not read here


def e164_fast_path(text: str) -> str | None:
    """``text`` itself when it is a valid E.164 number; None when only the full
    parse can tell. Raises ``ValueError`` when it is E.164-shaped but not valid."""
    if _PLAIN_E164.fullmatch(text) is None:
        return None
    digits = text[1:]
    country_code, national = _split_country_code(digits)
    if country_code == 0 or not _MIN_NSN_DIGITS <= len(national) <= _MAX_NSN_DIGITS:
        return None
    prefix = _national_prefix(country_code)
    if prefix is _UNDECIDED or (prefix is not None and prefix.match(national)):
        return None
    number = PhoneNumber(country_code=country_code, national_number=int(national))
    _keep_leading_zeros(national, number)
    if not is_valid_number(number):
        raise ValueError(NOT_VALID)
    return text


def _split_country_code(digits: str) -> tuple[int, str]:
    for length in range(1, min(len(digits), _MAX_COUNTRY_CODE_DIGITS) + 1):
        code = int(digits[:length])
        if code in COUNTRY_CODE_TO_REGION_CODE:
            return code, digits[length:]
    return 0, digits


@cache
def _national_prefix(country_code: int) -> re.Pattern[str] | None:
    """The pattern the full parse would try to strip after this country code."""
    region = region_code_for_country_code(country_code)
    metadata = PhoneMetadata.metadata_for_region_or_calling_code(country_code, region)
    if metadata is None:
        return _UNDECIDED
    pattern = metadata.national_prefix_for_parsing
    return re.compile(pattern) if pattern else None


def _keep_leading_zeros(national: str, number: PhoneNumber) -> None:
    # As the full parse does: "0..." national numbers keep their zeros, but an
    # all-zero number does not count its last zero as leading.
    if len(national) > 1 and national[0] == "0":
        number.italian_leading_zero = True
        zeros = 1
        while zeros < len(national) - 1 and national[zeros] == "0":
            zeros += 1
        if zeros != 1:
            number.number_of_leading_zeros = zeros
