"""Lifecycle commands as one table, shared by the client, the CLI and remote control."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from dialer.errors import ValidationError
from dialer.service import campaigns as c
from dialer.service.runtime import Runtime
from models.db import transaction
from models.tables import Campaign

# `delete` is beyond CONTRACT §8, documented in docs/remote-control.md (refused while running).
COMMANDS = ("start", "pause", "resume", "stop", "allocate_channels", "reset_breaker", "delete")


def run_command(rt: Runtime, campaign_id: str, command: str, args: dict[str, Any],
                *, source: str) -> Campaign | None:
    now = rt.clock.now()
    handlers: dict[str, Callable[[Session], Campaign | None]] = {
        "start": lambda s: c.start(s, campaign_id, now=now, source=source),
        "pause": lambda s: c.pause(s, campaign_id, now=now, source=source),
        "resume": lambda s: c.resume(s, campaign_id, now=now, source=source),
        "stop": lambda s: c.stop(s, campaign_id, now=now, source=source),
        "allocate_channels": lambda s: c.allocate_channels(
            s, campaign_id, args.get("channels", args.get("n")), now=now, source=source,
            org_cap=rt.settings.org_channel_cap),
        "reset_breaker": lambda s: _reset_breaker(rt, s, campaign_id, now=now, source=source),
        "delete": lambda s: c.delete_campaign(s, campaign_id, now=now, source=source),
    }
    handler = handlers.get(command)
    if handler is None:
        raise ValidationError([("command", f"unknown command {command!r}; one of "
                                           f"{', '.join(COMMANDS)}")])
    with transaction(rt.sessions) as session:
        return handler(session)


def _reset_breaker(rt: Runtime, session: Session, campaign_id: str, *, now: Any,
                   source: str) -> Campaign:
    campaign = c.reset_breaker(session, campaign_id, now=now, source=source)
    # Forget the failures that tripped it, or the first result after resume trips it again.
    rt.breaker.reset(campaign.id)
    return campaign
