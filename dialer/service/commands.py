"""Lifecycle commands as one table, shared by the client, the CLI and remote control."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from dialer.errors import DialerError, NotFound, ValidationError
from dialer.ids import is_uuid
from dialer.service import campaigns as c
from dialer.service.runtime import Runtime
from models.db import transaction
from models.tables import AppliedCommand, Campaign

# `delete` is beyond the first contract (docs/remote-control.md; refused while running).
COMMANDS = ("start", "pause", "resume", "stop", "allocate_channels", "reset_breaker", "delete")


class AlreadyApplied(DialerError):
    """A command id (a remote command's task id) that was carried out before."""

    def __init__(self, command_id: str, applied_at: Any) -> None:
        self.command_id = command_id
        self.applied_at = applied_at
        super().__init__(f"command {command_id} was already applied at {applied_at}; "
                         f"not applied again")


def run_command(rt: Runtime, campaign_id: str, command: str, args: dict[str, Any],
                *, source: str, command_id: str | None = None) -> Campaign | None:
    """Carry out ``command``; with ``command_id``, at most once per id (AlreadyApplied)."""
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
    if not is_uuid(campaign_id):
        # Before the claim, which would try to store it (its column holds a uuid).
        raise NotFound(f"campaign {campaign_id} not found")
    with transaction(rt.sessions) as session:
        if command_id is not None:
            _claim(session, command_id, campaign_id, command, now)
        return handler(session)


def _claim(session: Session, command_id: str, campaign_id: str, command: str, now: Any) -> None:
    # In the command's own transaction: if the command fails, the id is not
    # taken; a concurrent duplicate waits on the key, then finds it taken.
    claimed = session.execute(pg_insert(AppliedCommand).values(
        command_id=command_id, campaign_id=campaign_id, command=command, applied_at=now,
    ).on_conflict_do_nothing(index_elements=["command_id"]).returning(
        AppliedCommand.command_id)).first()
    if claimed is None:
        applied_at = session.scalar(select(AppliedCommand.applied_at).where(
            AppliedCommand.command_id == command_id))
        raise AlreadyApplied(command_id, applied_at)


def _reset_breaker(rt: Runtime, session: Session, campaign_id: str, *, now: Any,
                   source: str) -> Campaign:
    campaign = c.reset_breaker(session, campaign_id, now=now, source=source)
    # Forget the failures that tripped it, or the first result after resume trips it again.
    rt.breaker.reset(campaign.id)
    return campaign
