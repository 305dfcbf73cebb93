"""The telephony provider interface (docs/contract.md §4); the built-in simulator and the
loader of ``DIALER_PROVIDER`` are in ``dialer.providers``."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol, runtime_checkable

from dialer.errors import ProviderError


@dataclass(frozen=True)
class CallRequest:
    call_id: str
    campaign_id: str
    contact_id: int
    attempt: int
    to: str
    from_number: str | None
    agent_id: str | None
    ring_timeout_s: int
    max_duration_s: int
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ResultExtras:
    """What a provider may report with a call's result besides the outcome
    (``dialer.call_result``'s optional ``recording_url``, ``transcript_url``, ``cost``;
    docs/contract.md §5), stored on the call. All optional: a provider that has none
    sends none."""

    recording_url: str | None = None
    transcript_url: str | None = None
    cost: Decimal | None = None  # in the provider's currency, >= 0, 6 decimal places

    def columns(self) -> dict[str, Any]:
        return {"recording_url": self.recording_url, "transcript_url": self.transcript_url,
                "cost": self.cost}

    def task_kwargs(self) -> dict[str, Any]:
        """The keyword arguments of ``dialer.call_result`` that carry them (JSON: the cost
        as a decimal string, exact), only those given, so that a result without extras
        is the message an older sender would send."""
        out: dict[str, Any] = {}
        if self.recording_url is not None:
            out["recording_url"] = self.recording_url
        if self.transcript_url is not None:
            out["transcript_url"] = self.transcript_url
        if self.cost is not None:
            out["cost"] = str(self.cost)
        return out


NO_EXTRAS = ResultExtras()


class CallRefused(ProviderError):
    """Raised by ``place_call`` when the provider is *certain* the call was not placed.

    A rate limit answered before dialing, a number the carrier rejects, a
    provider outage seen before the request left: the call is put back and
    its attempt is not counted. ``retry_after_s`` (real seconds, like an HTTP
    ``Retry-After``) says when the contact may be tried again; None means at
    once. Any other exception, and a ``place_call`` that outlives
    ``DIALER_PROVIDER_TIMEOUT_S``, means "unknown whether placed": the call is
    treated as placed (see ``dialer.service.provider_call``).

    ``permanent=True`` says waiting will not help: the account, the caller ID or the
    agent is refused, not this one call (an invalid account, a caller ID the carrier
    does not allow). ``DIALER_FAIL_AFTER_PROVIDER_REFUSALS`` of those in a row, before
    any call of the run was placed, fail the campaign with ``reason`` as its error
    (phone-like digits masked).
    """

    def __init__(self, reason: str = "refused by the provider", *,
                 retry_after_s: float | None = None, permanent: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after_s = retry_after_s
        self.permanent = permanent


@runtime_checkable
class Provider(Protocol):
    def place_call(self, request: CallRequest) -> str:
        """Start the call; return the provider's call id.

        Raise ``CallRefused`` only when the call was certainly not placed;
        any other exception is read as "unknown whether placed" (docs/contract.md §4:
        outcome ``failed``, once the call's deadline has passed).
        """
        ...
