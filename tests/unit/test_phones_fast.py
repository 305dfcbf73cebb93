"""The E.164 fast path gives exactly what the full parse gives, or stands aside."""

from __future__ import annotations

import phonenumbers
from hypothesis import example, given, settings
from hypothesis import strategies as st

from dialer.phones import normalize_e164, parse_e164
from dialer.phones_fast import e164_fast_path

_TYPES = [phonenumbers.PhoneNumberType.FIXED_LINE, phonenumbers.PhoneNumberType.MOBILE,
          phonenumbers.PhoneNumberType.TOLL_FREE, phonenumbers.PhoneNumberType.VOIP,
          phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE]


def _examples() -> list[str]:
    numbers = []
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in _TYPES:
            number = phonenumbers.example_number_for_type(region, kind)
            if number is not None:
                numbers.append(phonenumbers.format_number(
                    number, phonenumbers.PhoneNumberFormat.E164))
    for code in sorted(phonenumbers.COUNTRY_CODES_FOR_NON_GEO_REGIONS):
        number = phonenumbers.example_number_for_non_geo_entity(code)
        if number is not None:
            numbers.append(phonenumbers.format_number(number,
                                                      phonenumbers.PhoneNumberFormat.E164))
    return sorted(set(numbers))


EXAMPLES = _examples()
digits = st.text(alphabet="0123456789", max_size=6)


@st.composite
def e164_like(draw: st.DrawFn) -> str:
    """Valid numbers of every region and type, and near misses of them: digits
    changed, added or dropped, a national prefix or zeros after the country code."""
    number = draw(st.sampled_from(EXAMPLES))
    body = number[1:]
    cut = draw(st.integers(0, len(body)))
    change = draw(st.sampled_from(["keep", "replace_tail", "insert", "drop", "append"]))
    if change == "replace_tail":
        tail = draw(st.text(alphabet="0123456789", min_size=len(body) - cut,
                            max_size=len(body) - cut))
        body = body[:cut] + tail
    elif change == "insert":
        body = body[:cut] + draw(st.sampled_from(["0", "00", "1", "8", "06", "180020"])) + \
            body[cut:]
    elif change == "drop":
        body = body[:cut] + body[cut + 1:]
    elif change == "append":
        body = body + draw(digits)
    return "+" + body


def _full(text: str) -> tuple[str, str]:
    try:
        return "ok", parse_e164(text)
    except ValueError as exc:
        return "error", str(exc)


def _fast(text: str) -> tuple[str, str] | None:
    try:
        result = e164_fast_path(text)
    except ValueError as exc:
        return "error", str(exc)
    return None if result is None else ("ok", result)


@settings(max_examples=3000, deadline=None)
@given(e164_like())
@example("+4402079460018")  # the UK national prefix after +44: stripped by the full parse
@example("+390612345678")  # Italy keeps its leading zero
@example("+800")  # too short for a national number
def test_fast_path_agrees_with_the_full_parse_near_valid_numbers(text: str) -> None:
    fast = _fast(text)
    assert fast is None or fast == _full(text)


@settings(max_examples=2000, deadline=None)
@given(st.text(alphabet="+0123456789 -()", min_size=1, max_size=24))
def test_fast_path_agrees_with_the_full_parse_on_any_digits(text: str) -> None:
    text = text.strip()
    fast = _fast(text)
    assert fast is None or fast == _full(text)


def test_fast_path_decides_the_common_cases() -> None:
    # Not vacuous: every valid example that carries no national prefix is decided here.
    decided = [n for n in EXAMPLES if e164_fast_path(n) is not None]
    assert len(decided) > 0.8 * len(EXAMPLES)
    assert e164_fast_path("+12125550123") == "+12125550123"
    assert e164_fast_path("(212) 555-0123") is None
    assert normalize_e164("(212) 555-0123", default_region="US") == "+12125550123"
