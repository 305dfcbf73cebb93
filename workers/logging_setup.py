"""Logs: phone numbers masked at INFO and above, one JSON object per line on request.

Masking is a ``logging.Filter`` on every handler, not a habit of whoever
writes a log call: Celery's own records carry task arguments, and an
exception message can quote a number. It rewrites the record (message,
arguments, traceback, extra fields) before any formatter sees it.

``DIALER_LOG_JSON=1`` swaps the handlers' formatter for ``JsonFormatter``,
so a log shipper gets ``ts``, ``level``, ``logger``, ``message``, the task's
name and id when inside one, and every extra field, without parsing text.
Celery workers and beat get both through the ``after_setup_logger`` and
``after_setup_task_logger`` signals (connected in ``workers.app``).
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any

from dialer.phones import mask

# E.164: '+' and 7 to 15 digits (the shortest in service: Niue, Tokelau, +683 7012),
# not glued to a longer run of digits or to a mask already applied (masking
# twice would hide more than four digits).
PHONE_PATTERN = re.compile(r"(?<![\w+])\+\d{7,15}(?![\d*])")

# Attributes every LogRecord has; anything else on a record is an "extra" field.
_RECORD_ATTRS = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


def mask_phones(text: str) -> str:
    return PHONE_PATTERN.sub(lambda match: mask(match.group()), text)


def _mask_value(value: Any) -> Any:
    if isinstance(value, str):
        return mask_phones(value)
    if isinstance(value, dict):
        return {key: _mask_value(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_mask_value(item) for item in value]
    if isinstance(value, tuple):
        return tuple(_mask_value(item) for item in value)
    return value


class PhoneMaskFilter(logging.Filter):
    """Masks E.164 numbers in records at ``level`` and above; never drops a record."""

    _traceback_formatter = logging.Formatter()

    def __init__(self, level: int = logging.INFO) -> None:
        super().__init__()
        self.level = level

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < self.level:
            return True
        # Render once, then mask the result: numbers inside args (str, dict,
        # repr of a list) are found whatever their type.
        try:
            message = record.getMessage()
        except Exception:
            # A malformed log call: the handler reports it as logging always does,
            # instead of this filter raising into the caller.
            return True
        record.msg, record.args = mask_phones(message), ()
        if record.exc_info and not record.exc_text:
            record.exc_text = self._traceback_formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_phones(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_phones(record.stack_info)
        for key in _extra_keys(record):
            setattr(record, key, _mask_value(getattr(record, key)))
        return True


def _extra_keys(record: logging.LogRecord) -> list[str]:
    return [key for key in record.__dict__ if key not in _RECORD_ATTRS and not key.startswith("_")]


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line."""

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            # The record's own wall-clock instant: logs are read against other
            # systems' logs, so this is real time, not the dialer's simulated clock.
            "ts": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "process": record.processName,
        }
        payload.update(_current_task())
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            payload["exc_info"] = record.exc_text
        if record.stack_info:
            payload["stack_info"] = record.stack_info
        for key in _extra_keys(record):
            payload.setdefault(key, getattr(record, key))
        return json.dumps(payload, default=str, ensure_ascii=False)


def _current_task() -> dict[str, str]:
    from celery._state import get_current_task

    task = get_current_task()
    if task is None or not task.request.id:
        return {}
    return {"task_name": str(task.name), "task_id": str(task.request.id)}


def configure_handlers(logger: logging.Logger, *, log_json: bool) -> None:
    """Mask on every handler of ``logger``; JSON formatting when asked. Idempotent."""
    for handler in logger.handlers:
        if not any(isinstance(f, PhoneMaskFilter) for f in handler.filters):
            handler.addFilter(PhoneMaskFilter())
        if log_json:
            handler.setFormatter(JsonFormatter())


def configure_process_logging(*, log_json: bool, level: int = logging.INFO) -> None:
    """For processes Celery does not set up (``dialer metrics serve``): stderr, masked."""
    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("[%(asctime)s: %(levelname)s/%(name)s] %(message)s"))
        root.addHandler(handler)
    root.setLevel(level)
    configure_handlers(root, log_json=log_json)


def connect_celery_signals(*, log_json: bool) -> None:
    """Hook the setup into Celery's logging of workers and beat (idempotent)."""
    from celery.signals import after_setup_logger, after_setup_task_logger

    def on_setup(logger: logging.Logger, **_: object) -> None:
        configure_handlers(logger, log_json=log_json)

    after_setup_logger.connect(on_setup, weak=False, dispatch_uid="dialer-logging")
    after_setup_task_logger.connect(on_setup, weak=False, dispatch_uid="dialer-task-logging")
