"""The operator's lifecycle commands as one table, shared by the client, the CLI and
remote control; each is carried out at most once per command id when one is given."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from dialer import lifecycle
from dialer import spec as spec_rules
from dialer import statuses as st
from dialer.errors import DialerError, InvalidTransition, NotFound, ValidationError
from dialer.ids import is_uuid
from dialer.service.runtime import Runtime
from dialer.service.steps import leads
from dialer.service.steps.campaign_editing import update_campaign
from dialer.service.steps.campaign_state import (
    close_execution,
    load_campaign,
    open_execution,
    return_queued_calls,
    transition,
    withdraw,
)
from dialer.service.transient import is_lost_conflict
from dialer.statuses import ParticipantStatus as P
from dialer.store import audiences, campaigns, requests
from dialer.store import campaign_members as members
from dialer.store.events import record_event
from dialer.views import AudienceView, OrgRef
from models.tables import Audience, Campaign

log = logging.getLogger(__name__)

# Tries of a command whose transaction PostgreSQL aborted to break a deadlock.
CONFLICT_ATTEMPTS = 3

# `delete` is beyond the first contract (docs/remote-control.md; refused while running);
# `update` takes ``patch`` (steps/campaign_editing.py); the last four steer leads
# (steps/leads.py).
COMMANDS = ("start", "pause", "resume", "stop", "allocate_channels", "reset_breaker", "delete",
            "update", "requeue", "close", "add_contacts", "remove_contacts")

T = TypeVar("T")


class AlreadyApplied(DialerError):
    """A command id (a remote command's task id) that was carried out before."""

    def __init__(self, command_id: str, applied_at: Any) -> None:
        self.command_id = command_id
        self.applied_at = applied_at
        super().__init__(f"command {command_id} was already applied at {applied_at}; "
                         f"not applied again")


def run_command(rt: Runtime, org: OrgRef, campaign_id: str, command: str,
                args: dict[str, Any], *, source: str,
                command_id: str | None = None) -> Campaign | None:
    """Carry out ``command`` on one of ``org``'s campaigns in one transaction; with
    ``command_id``, at most once per id (AlreadyApplied). Another organisation's
    campaign is NotFound, exactly like an unknown id."""
    now = rt.clock.now()
    handlers: dict[str, Callable[[Session], Campaign | None]] = {
        "start": lambda s: start(s, campaign_id, now=now, source=source),
        "pause": lambda s: pause(s, campaign_id, now=now, source=source),
        "resume": lambda s: resume(s, campaign_id, now=now, source=source),
        "stop": lambda s: stop(s, campaign_id, now=now, source=source),
        "allocate_channels": lambda s: allocate_channels(
            s, campaign_id, args.get("channels", args.get("n")), now=now, source=source,
            org_cap=org.channel_cap),
        "reset_breaker": lambda s: _reset_breaker(rt, s, campaign_id, now=now, source=source),
        "delete": lambda s: delete_campaign(s, campaign_id, now=now, source=source),
        # Under the same row lock as every command, so no tick or command sees half.
        "update": lambda s: update_campaign(s, campaign_id, args.get("patch"), now=now,
                                            source=source),
        "requeue": lambda s: _steered(s, campaign_id, leads.requeue, args.get("contact_ids"),
                                      now=now, source=source),
        "close": lambda s: _steered(s, campaign_id, leads.close, args.get("contact_ids"),
                                    now=now, source=source),
        "add_contacts": lambda s: _with_contacts(rt, s, org, campaign_id,
                                                 args.get("contacts"), now=now,
                                                 source=source)[0],
        "remove_contacts": lambda s: _without_contacts(s, org, campaign_id,
                                                       args.get("contact_ids"), now=now,
                                                       source=source)[0],
    }
    handler = handlers.get(command)
    if handler is None:
        raise ValidationError([("command", f"unknown command {command!r}; one of "
                                           f"{', '.join(COMMANDS)}")])
    return in_transaction(rt, org, campaign_id, command, handler, command_id=command_id)


def steer_contacts(rt: Runtime, org: OrgRef, campaign_id: str, verb: str, contact_ids: Any,
                   *, source: str) -> int:
    """Requeue (``verb`` ``requeue``) or close (``close``) contacts of a campaign; how many."""
    step = leads.requeue if verb == "requeue" else leads.close
    now = rt.clock.now()
    return in_transaction(rt, org, campaign_id, verb, lambda s: step(
        s, load_campaign(s, campaign_id, lock=True), contact_ids, now=now, source=source))


def add_campaign_contacts(rt: Runtime, org: OrgRef, campaign_id: str, contacts: Any, *,
                          source: str, command_id: str | None = None) -> AudienceView:
    """Contacts added to the campaign's audience (and so to the campaign); with
    ``command_id``, at most once per id."""
    now = rt.clock.now()
    return in_transaction(rt, org, campaign_id, "add_contacts", lambda s: _with_contacts(
        rt, s, org, campaign_id, contacts, now=now, source=source)[1], command_id=command_id)


def remove_campaign_contacts(rt: Runtime, org: OrgRef, campaign_id: str, contact_ids: Any,
                             *, source: str, command_id: str | None = None) -> int:
    """Contacts taken out of the campaign's audience (and so of the campaign, and of the
    audience's other campaigns that have not finished), as ``remove_audience_members``
    does; how many. With ``command_id``, at most once per id."""
    now = rt.clock.now()
    return in_transaction(rt, org, campaign_id, "remove_contacts", lambda s: _without_contacts(
        s, org, campaign_id, contact_ids, now=now, source=source)[1], command_id=command_id)


def _steered(session: Session, campaign_id: str, step: Callable[..., int], contact_ids: Any,
             *, now: datetime, source: str) -> Campaign:
    campaign = load_campaign(session, campaign_id, lock=True)
    step(session, campaign, contact_ids, now=now, source=source)
    return campaign


def _with_contacts(rt: Runtime, session: Session, org: OrgRef, campaign_id: str,
                   contacts: Any, *, now: datetime, source: str
                   ) -> tuple[Campaign, AudienceView]:
    campaign, audience = locked_for_contacts(session, campaign_id, org_id=org.id)
    view = leads.add_contacts(session, audience, contacts, now=now, source=source,
                              default_region=rt.settings.default_region)
    return campaign, view


def _without_contacts(session: Session, org: OrgRef, campaign_id: str, contact_ids: Any, *,
                      now: datetime, source: str) -> tuple[Campaign, int]:
    campaign, audience = locked_for_contacts(session, campaign_id, org_id=org.id,
                                             verb="remove contacts from")
    removed = leads.remove_named_contacts(session, audience.id, contact_ids, now=now,
                                          source=source)
    return campaign, removed


def locked_for_contacts(session: Session, campaign_id: str, *, org_id: str,
                        lock: bool = True, verb: str = "add contacts to"
                        ) -> tuple[Campaign, Audience]:
    """A campaign taking new contacts (or losing some: ``verb``) and its audience, both
    locked, the audience first (store/leads.py's order); InvalidTransition once the
    campaign has finished, checked under its lock (a stop committed meanwhile is seen).
    ``lock`` False: checked only."""
    campaign = load_campaign(session, campaign_id, org_id=org_id)
    audience_id = leads.campaign_accepts_contacts(campaign, verb=verb)
    if not lock:
        found = audiences.find(session, audience_id, org_id=org_id)
        assert found is not None  # the campaign's own audience, of its organisation
        return campaign, found
    audiences.lock_for_change(session, audience_id)
    campaign = load_campaign(session, campaign_id, lock=True, org_id=org_id)
    if leads.campaign_accepts_contacts(campaign, verb=verb) != audience_id:
        # A draft moved to another audience meanwhile: that one is not locked.
        raise InvalidTransition("the campaign's audience changed meanwhile; try again")
    audience = audiences.find(session, audience_id, org_id=org_id)
    assert audience is not None  # the campaign's own audience, of its organisation
    return campaign, audience


def in_transaction(rt: Runtime, org: OrgRef, campaign_id: str, command: str,
                   handler: Callable[[Session], T], *, command_id: str | None = None) -> T:
    """``handler`` in one transaction on one of ``org``'s campaigns, run again when
    PostgreSQL aborted it to break a deadlock; with ``command_id``, at most once per id."""
    if not is_uuid(campaign_id):
        # Before the claim, which would try to store it (its column holds a uuid).
        raise NotFound(f"campaign {campaign_id} not found")
    now = rt.clock.now()
    for attempt in range(1, CONFLICT_ATTEMPTS + 1):
        try:
            with rt.transaction() as session:
                load_campaign(session, campaign_id, org_id=org.id)  # NotFound unless its own
                if command_id is not None:
                    _claim(session, command_id, campaign_id, command, now)
                return handler(session)
        except OperationalError as exc:
            # A stop deletes the queued calls a dial may be claiming. The claim now takes
            # the campaign's row before the call's (ARCHITECTURE.md, "Locks"), so that
            # deadlock is gone; kept for any other: PostgreSQL breaks one by aborting a
            # side. The command is one transaction, all rolled back: running it again is
            # safe, and it goes through.
            if not is_lost_conflict(exc) or attempt == CONFLICT_ATTEMPTS:
                raise
            log.info("command %s of campaign %s lost a lock conflict; running it again",
                     command, campaign_id)
            # Apart, so that the same two transactions do not meet again at once.
            time.sleep(random.uniform(0.01, 0.05) * attempt)
    raise AssertionError("unreachable")


def _claim(session: Session, command_id: str, campaign_id: str, command: str,
           now: datetime) -> None:
    # In the command's own transaction: if the command fails, the id is not
    # taken; a concurrent duplicate waits on the key, then finds it taken.
    if not requests.claim_command(session, command_id, campaign_id=campaign_id,
                                  command=command, now=now):
        raise AlreadyApplied(command_id, requests.command_applied_at(session, command_id))


def _reset_breaker(rt: Runtime, session: Session, campaign_id: str, *, now: datetime,
                   source: str) -> Campaign:
    campaign = reset_breaker(session, campaign_id, now=now, source=source)
    # Forget the failures that tripped it, or the first result after resume trips it again.
    rt.breaker.reset(campaign.id)
    return campaign


def start(session: Session, campaign_id: str, *, now: datetime, source: str) -> Campaign:
    campaign = load_campaign(session, campaign_id, lock=True)
    transition(campaign, "start", now)
    campaign.pause_reason = None
    open_execution(session, campaign, now)
    record_event(session, campaign.id, at=now, action="started", source=source)
    return campaign


def pause(session: Session, campaign_id: str, *, now: datetime, source: str,
          reason: str | None = None) -> Campaign:
    campaign = load_campaign(session, campaign_id, lock=True)
    transition(campaign, "pause", now)
    campaign.pause_reason = reason or "manual"
    close_execution(session, campaign, now, st.CampaignStatus.PAUSED)
    return_queued_calls(session, campaign.id, now)
    record_event(session, campaign.id, at=now, action="paused", source=source,
                 detail=campaign.pause_reason)
    return campaign


def resume(session: Session, campaign_id: str, *, now: datetime, source: str) -> Campaign:
    campaign = load_campaign(session, campaign_id, lock=True)
    if campaign.status == st.CampaignStatus.PAUSED and campaign.breaker_open:
        raise InvalidTransition("the circuit breaker is open; reset_breaker first")
    transition(campaign, "resume", now)
    campaign.pause_reason = None
    open_execution(session, campaign, now)
    record_event(session, campaign.id, at=now, action="resumed", source=source)
    return campaign


def stop(session: Session, campaign_id: str, *, now: datetime, source: str) -> Campaign:
    campaign = load_campaign(session, campaign_id, lock=True)
    transition(campaign, "stop", now)
    close_execution(session, campaign, now, st.CampaignStatus.STOPPED)
    canceled = withdraw(session, campaign.id, (P.PENDING, P.RETRY_SCHEDULED, P.QUEUED),
                        now=now)
    record_event(session, campaign.id, at=now, action="stopped", source=source,
                 detail=f"{canceled} pending contacts canceled")
    return campaign


def allocate_channels(session: Session, campaign_id: str, channels: Any, *, now: datetime,
                      source: str, org_cap: int) -> Campaign:
    if isinstance(channels, bool) or not isinstance(channels, int) or channels < 0:
        raise ValidationError([("channels", "must be an integer >= 0")])
    granted = min(channels, org_cap)
    if granted > spec_rules.MAX_CHANNELS:
        # The count is stored in the spec, which must still parse afterwards (only an
        # organisation cap above the spec's bound lets a request get this far).
        raise ValidationError([("channels", f"at most {spec_rules.MAX_CHANNELS}")])
    campaign = load_campaign(session, campaign_id, lock=True)
    if campaign.status in st.CAMPAIGN_TERMINAL:
        raise InvalidTransition(f"cannot allocate channels to a campaign that is {campaign.status}")
    before = campaign.channels
    campaigns.set_channels(session, campaign, granted, now=now)
    detail = f"{before} -> {granted}"
    if granted < channels:
        detail += f" (asked {channels}, capped by the organisation cap {org_cap})"
    record_event(session, campaign.id, at=now, action="channels_allocated", source=source,
                 detail=detail)
    return campaign


def reset_breaker(session: Session, campaign_id: str, *, now: datetime, source: str) -> Campaign:
    campaign = load_campaign(session, campaign_id, lock=True)
    if not campaign.breaker_open:
        raise InvalidTransition("the circuit breaker is not tripped")
    campaign.breaker_open = False
    campaign.updated_at = now
    record_event(session, campaign.id, at=now, action="breaker_reset", source=source,
                 detail="campaign stays paused until resumed")
    return campaign


def delete_campaign(session: Session, campaign_id: str, *, now: datetime, source: str) -> None:
    campaign = load_campaign(session, campaign_id, lock=True)
    lifecycle.check_deletable(campaign.status)
    if campaign.status in (st.CampaignStatus.PAUSED, st.CampaignStatus.SCHEDULED,
                           st.CampaignStatus.DRAFT):
        members.delete_queued_calls(session, campaign.id)
    # Soft delete: the rows stay as an audit trail, the id stops resolving.
    campaign.deleted_at = now
    campaign.updated_at = now
    record_event(session, campaign.id, at=now, action="deleted", source=source)
