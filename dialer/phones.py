"""Phone numbers: E.164 normalisation and masking for logs."""

from __future__ import annotations

import re

import phonenumbers

from dialer.phones_fast import NOT_VALID, e164_fast_path

# The one wording for a number that cannot be dialed, on every path that takes one
# (caller IDs, contacts, CSV rows, DNC, inline contacts of enqueue_campaign): whether
# phonenumbers could not parse it or parsed it and found it invalid is no help to
# the person fixing the row, and two wordings read like two different problems.
INVALID_PHONE = NOT_VALID


def normalize_e164(raw: object, *, default_region: str | None = None) -> str:
    """Parse ``raw`` into E.164 or raise ``ValueError`` saying why."""
    if not isinstance(raw, str | int) or isinstance(raw, bool):
        raise ValueError("phone must be a string")
    text = str(raw).strip()
    if not text:
        raise ValueError("phone is empty")
    # Already E.164 (most imported rows): the same answer for half the cost.
    fast = e164_fast_path(text)
    if fast is not None:
        return fast
    return parse_e164(text, default_region=default_region)


def parse_e164(text: str, *, default_region: str | None = None) -> str:
    """The full parse of a stripped, non-empty ``text``; ``normalize_e164`` is the entry."""
    try:
        parsed = phonenumbers.parse(text, None if text.startswith("+") else default_region)
    except phonenumbers.NumberParseException as exc:
        raise ValueError(INVALID_PHONE) from exc
    if not phonenumbers.is_valid_number(parsed):
        raise ValueError(INVALID_PHONE)
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def mask(number: str | None) -> str:
    """``+14155550123`` -> ``+1415555****``: enough to tell numbers apart in logs, no more."""
    if not number:
        return "-"
    keep = max(0, len(number) - 4)
    return number[:keep] + "*" * (len(number) - keep)


# A run of digits long enough to be a phone number (an error may quote a parameter).
_DIGITS = re.compile(r"\+?\d[\d\s().-]{5,}\d")


def mask_digits(text: str) -> str:
    """``text`` with every phone-like run of digits replaced by ``<digits>``: for error
    messages of others (a provider's, a database's) shown or stored by us."""
    return _DIGITS.sub("<digits>", text)
