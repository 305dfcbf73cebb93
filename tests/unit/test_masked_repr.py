"""The worker's repr masking runs in its main process: it must never raise."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as hs

from workers.requests import REPR_MAX_CHARS, masked_repr

JSON = hs.recursive(
    hs.none() | hs.booleans() | hs.floats(allow_nan=True) | hs.integers() | hs.text()
    | hs.just("+12125550123") | hs.fixed_dictionaries({"phone": hs.text()}),
    lambda children: hs.lists(children) | hs.dictionaries(hs.text(), children)
    | hs.tuples(children, children),
    max_leaves=60)


def nested(depth: int, leaf: Any = "+12125550123") -> Any:
    value: Any = [leaf]
    for index in range(depth):
        value = [value] if index % 2 else {"k": value}
    return value


@given(value=JSON, depth=hs.integers(0, 5000))
@settings(max_examples=300, deadline=None)
def test_masking_never_raises_and_stays_bounded(value: Any, depth: int) -> None:
    shown = masked_repr([nested(depth), value])
    assert isinstance(shown, str) and len(shown) <= REPR_MAX_CHARS + 200
    assert "+12125550123" not in shown


def test_a_list_nested_deeper_than_the_recursion_limit_is_shown_cut() -> None:
    shown = masked_repr({"x": nested(100_000)})
    assert shown.startswith("{'x': ") and "..." in shown


def test_a_huge_flat_list_is_shown_cut_without_walking_all_of_it() -> None:
    shown = masked_repr([list(range(1_000_000))])
    assert len(shown) <= REPR_MAX_CHARS + 200


def test_a_self_referencing_value_does_not_loop() -> None:
    value: list[Any] = [1]
    value.append(value)
    assert masked_repr(value)
