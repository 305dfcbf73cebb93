"""One error hierarchy for the whole dialer.

Expected call outcomes (busy, no answer, voicemail) are data, never exceptions.
"""

from __future__ import annotations


class DialerError(Exception):
    """Base of every error this project raises on purpose."""


class ValidationError(DialerError, ValueError):
    """Bad input. ``errors`` maps each offending field (dotted path) to its message."""

    def __init__(self, errors: dict[str, str] | list[tuple[str, str]]):
        items = list(errors.items()) if isinstance(errors, dict) else list(errors)
        self.errors: list[tuple[str, str]] = items
        message = "; ".join(f"{field}: {reason}" for field, reason in items)
        super().__init__(message or "invalid input")

    @property
    def fields(self) -> list[str]:
        return [field for field, _ in self.errors]


class NotFound(DialerError, LookupError):
    """An id that does not exist (or was deleted)."""


class InvalidTransition(DialerError):
    """A lifecycle change that the campaign's current state forbids. ``field`` names
    what forbids it: ``status`` unless another field is missing (``agent_id``)."""

    def __init__(self, message: str = "", *, field: str = "status") -> None:
        self.field = field
        super().__init__(message)


class InfrastructureError(DialerError):
    """PostgreSQL, Redis or the broker briefly away; safe to retry.

    What an adapter raises for a driver error it wraps at its boundary (the
    Celery dispatcher for kombu's). Always transient: ``dialer.service.transient``
    lists it beside the driver errors the service layer meets directly.
    """


class ProviderError(DialerError):
    """The telephony provider could not place a call (outcome ``failed``)."""


class ConfigurationError(DialerError, ValueError):
    """Settings that cannot work together (reported by setting name)."""
