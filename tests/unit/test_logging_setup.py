"""Log masking, the JSON formatter and the masked task reprs, without I/O."""

from __future__ import annotations

import json
import logging
import sys

import pytest

from workers.logging_setup import (
    JsonFormatter,
    PhoneMaskFilter,
    configure_handlers,
    mask_phones,
)
from workers.requests import masked_repr


def record(msg: object, *args: object, level: int = logging.INFO, exc_info=None,
           **extra: object) -> logging.LogRecord:
    rec = logging.LogRecord("dialer.test", level, __file__, 1, msg, args or None, exc_info)
    rec.__dict__.update(extra)
    return rec


@pytest.mark.parametrize(("text", "expected"), [
    ("calling +14155550123 now", "calling +1415555**** now"),
    ("+442071838750,+33142685300", "+44207183****,+3314268****"),
    ("Niue +6837012 too", "Niue +683**** too"),                 # 7 digits: the shortest
    ("short +123456 stays", "short +123456 stays"),             # 6 digits: not a number
    ("too long +1234567890123456", "too long +1234567890123456"),  # 16 digits
    ("already +1415555**** masked", "already +1415555**** masked"),
    ("id 5+14155550123", "id 5+14155550123"),                   # glued to a word
    ("no numbers here", "no numbers here"),
])
def test_mask_phones(text: str, expected: str) -> None:
    assert mask_phones(text) == expected


def test_masking_twice_changes_nothing() -> None:
    once = mask_phones("+123456789012345")
    assert once == "+12345678901****"
    assert mask_phones(once) == once


def test_filter_masks_message_args_and_extras_at_info() -> None:
    rec = record("to %s with %r", "+14155550123", {"phone": "+12125550100"},
                 data={"kwargs": "{'to': '+12125550100'}", "n": 3})
    assert PhoneMaskFilter().filter(rec) is True
    assert rec.getMessage() == "to +1415555**** with {'phone': '+1212555****'}"
    assert rec.data == {"kwargs": "{'to': '+1212555****'}", "n": 3}


def test_filter_masks_tracebacks() -> None:
    try:
        raise ValueError("bad number +14155550123")
    except ValueError:
        rec = record("failed", level=logging.ERROR, exc_info=sys.exc_info())
    PhoneMaskFilter().filter(rec)
    assert "+1415555****" in rec.exc_text and "+14155550123" not in rec.exc_text


def test_filter_leaves_debug_alone_and_never_drops() -> None:
    rec = record("dialing %s", "+14155550123", level=logging.DEBUG)
    assert PhoneMaskFilter().filter(rec) is True
    assert rec.getMessage() == "dialing +14155550123"


def test_a_malformed_log_call_is_left_to_the_handler() -> None:
    rec = record("%d calls", "not a number")
    assert PhoneMaskFilter().filter(rec) is True
    with pytest.raises(TypeError):
        rec.getMessage()


def test_json_formatter_one_line_with_extras() -> None:
    rec = record("line one\nline %d", 2, campaign_id="c-1")
    line = JsonFormatter().format(rec)
    assert "\n" not in line
    payload = json.loads(line)
    assert payload["message"] == "line one\nline 2"
    assert payload["level"] == "INFO" and payload["logger"] == "dialer.test"
    assert payload["campaign_id"] == "c-1"
    assert payload["ts"].endswith("+00:00")
    assert "task_id" not in payload  # not inside a task


def test_json_formatter_includes_the_traceback() -> None:
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        rec = record("failed", level=logging.ERROR, exc_info=sys.exc_info())
    payload = json.loads(JsonFormatter().format(rec))
    assert "RuntimeError: boom" in payload["exc_info"]


def test_configure_handlers_is_idempotent_and_switches_format() -> None:
    logger = logging.Logger("dialer.configure-test")
    handler = logging.Handler()
    logger.addHandler(handler)
    configure_handlers(logger, log_json=False)
    configure_handlers(logger, log_json=True)
    assert sum(isinstance(f, PhoneMaskFilter) for f in handler.filters) == 1
    assert isinstance(handler.formatter, JsonFormatter)


def test_task_reprs_count_contacts_and_mask_numbers() -> None:
    kwargs = {"spec": {"name": "March", "description": "call +14155550123 first"},
              "contacts": [{"phone": "+12125550100"}, {"phone": "+12125550101", "name": "A"}],
              "start": True}
    shown = masked_repr(kwargs)
    assert "<2 contacts>" in shown and "'start': True" in shown
    assert "+1415555****" in shown and "+12125550100" not in shown
    # Contacts passed positionally are counted too.
    assert masked_repr([{"name": "x"}, [{"phone": "+12125550100"}]]) == \
        "[{'name': 'x'}, <1 contacts>]"
    # One malformed item does not expose the others' numbers in national format.
    assert masked_repr({"contacts": [{"phone": "(415) 555-0123"}, "junk"]}) == \
        "{'contacts': <2 contacts>}"


def test_tasks_we_send_or_retry_carry_masked_reprs(monkeypatch: pytest.MonkeyPatch) -> None:
    from workers import tasks

    sent: list[dict[str, object]] = []
    monkeypatch.setattr(tasks.app, "send_task",
                        lambda name, args=None, kwargs=None, **options: sent.append(options))
    kwargs = {"spec": {"name": "March"}, "contacts": [{"phone": "+12125550100"}]}
    tasks.enqueue_campaign.apply_async(kwargs=kwargs)
    # A retry re-sends through a signature built from the request.
    tasks.enqueue_campaign.signature(kwargs=kwargs, countdown=1).apply_async()
    assert len(sent) == 2
    for options in sent:
        assert "<1 contacts>" in str(options["kwargsrepr"])
        assert "+12125550100" not in str(options["kwargsrepr"])
