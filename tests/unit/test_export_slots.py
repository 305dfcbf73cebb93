"""The bound on exports read at once: per process, per organisation, and every way an
export can end gives its slot back."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from dialer.api.errors import ApiError
from dialer.api.export_slots import ExportSlots


def rows(n: int) -> Iterator[str]:
    yield from (f"row {i}\n" for i in range(n))


def test_an_organisation_over_its_share_is_refused_with_retry_after() -> None:
    slots = ExportSlots(total=3, per_org=2)
    first, second = slots.guard("a", rows(3)), slots.guard("a", rows(3))
    with pytest.raises(ApiError) as refused:
        slots.guard("a", rows(3))
    assert refused.value.status == 429 and refused.value.headers == {"Retry-After": "5"}
    other = slots.guard("b", rows(3))  # another organisation still has room
    with pytest.raises(ApiError):
        slots.guard("c", rows(3))  # but not past the process's total
    assert (slots.in_use("a"), slots.in_use("b"), slots.in_use()) == (2, 1, 3)
    del first, second, other


def test_a_slot_comes_back_when_the_export_ends_fails_closes_or_is_dropped() -> None:
    slots = ExportSlots(total=1, per_org=1)
    assert list(slots.guard("a", rows(2))) == ["row 0\n", "row 1\n"]  # exhausted
    assert slots.in_use() == 0

    def failing() -> Iterator[str]:
        yield "row 0\n"
        raise RuntimeError("the database went away")

    broken = slots.guard("a", failing())
    next(broken)
    with pytest.raises(RuntimeError):
        next(broken)
    assert slots.in_use() == 0

    closed = slots.guard("a", rows(5))
    next(closed)
    closed.close()  # the client went away mid-download
    assert slots.in_use() == 0

    slots.guard("a", rows(5))  # a response that never started reading
    gc.collect()
    assert slots.in_use() == 0
    closed.close()  # closing twice gives back nothing more
    assert slots.in_use() == 0


def test_a_refused_export_is_closed_unread() -> None:
    slots = ExportSlots(total=1, per_org=1)
    held = slots.guard("a", rows(1))
    opened: list[bool] = []

    def export() -> Iterator[str]:
        opened.append(True)
        yield "row\n"

    refused = export()
    with pytest.raises(ApiError):
        slots.guard("a", refused)
    assert opened == [] and list(refused) == []  # closed before it ever ran
    del held
