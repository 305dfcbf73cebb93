"""What the console's admin pages read from a form: numbers typed one a line, a number
search without its punctuation, the invalid numbers named back, pages of a list."""

from __future__ import annotations

from fastapi import Request

from dialer.api.console.dnc import invalid_numbers, numbers_typed
from dialer.api.console.numbers import number_search
from dialer.api.console.render import list_query, refusal_status
from dialer.errors import ValidationError


def test_numbers_are_read_one_a_line_or_comma_separated_blanks_left_out():
    assert numbers_typed(" +12125550100 \r\n\n+12125550101, +12125550102,\n  ") == [
        "+12125550100", "+12125550101", "+12125550102"]
    assert numbers_typed("\n \n") == []


def test_a_number_search_keeps_digits_and_plus():
    assert number_search(" +1 (212) 555-0100 ") == "+12125550100"
    assert number_search("212.555/01\x00") == "21255501"


def test_the_invalid_numbers_are_named_by_what_was_typed():
    typed = ["+12125550100", "banana", "12"]
    error = ValidationError([("numbers[1]", "not a valid phone number"),
                             ("numbers[2]", "too short")])
    assert invalid_numbers(typed, error) == (
        "Not valid: “banana” (not a valid phone number); “12” (too short). "
        "Nothing was added.")
    assert invalid_numbers([], ValidationError([("numbers", "must be a list")])) == \
        "Not valid: must be a list. Nothing was added."


def test_many_invalid_numbers_are_counted_past_the_first_twenty():
    typed = [f"x{n}" for n in range(25)]
    error = ValidationError([(f"numbers[{n}]", "bad") for n in range(25)])
    message = invalid_numbers(typed, error)
    assert "“x19”" in message and "“x20”" not in message and "and 5 more" in message


def test_a_list_query_leaves_out_empty_filters_and_page_1_only():
    assert list_query(page=1, status="", outcome=None) == ""
    assert list_query(page=2, status="failed") == "?page=2&status=failed"
    # Any other parameter equal to 1 is kept (the leads' copy dropped a count of 1).
    assert list_query(page=1, done="close", count=1) == "?done=close&count=1"


def test_a_refusal_is_200_for_htmx_which_swaps_only_a_success():
    def request(headers: dict[str, str]) -> Request:
        return Request({"type": "http", "headers": [
            (k.encode(), v.encode()) for k, v in headers.items()]})

    assert refusal_status(request({"hx-request": "true"}), 409) == 200
    assert refusal_status(request({}), 409) == 409
