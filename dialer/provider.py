"""The telephony provider interface (CONTRACT §5)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable


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


@runtime_checkable
class Provider(Protocol):
    def place_call(self, request: CallRequest) -> str:
        """Start the call; return the provider's call id. Raising means not placed."""
        ...
