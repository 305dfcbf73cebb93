"""Leads while campaigns live: contacts added to an audience join the campaigns that use
it, removed ones leave them, participants are requeued or closed by hand.

Shared by the client, the CLI and the HTTP API (service/leads.py, service/audiences.py,
service/csv_import.py) and by remote control (steps/campaign_commands.py); each function
runs inside its caller's transaction, so a refusal leaves nothing behind.

- Added: a contact joins every campaign using its audience that has not finished (draft,
  scheduled, running, paused) as a participant of its current cycle, pending and due now.
  A recurring campaign between two runs is ``scheduled``: it dials them at its next run
  (and ``start_new_cycle`` enrols at each run whoever is in the audience then).
- Removed: the contact stays stored (``removed_at``) with its calls and events; its
  participants waiting for a call are canceled (``skip_reason`` ``removed``) and their
  queued calls nobody claimed yet deleted. A call already being placed finishes and is
  recorded; the contact is never dialed again (the tick cancels it if a retry was due),
  nor enrolled again, unless it is added again.
- Requeued ("set to created"): pending, attempts from zero, due at once. Closed ("set to
  completed"): completed, never dialed again in this campaign, in no later cycle either.
  Both are refused while the contact has a call in flight.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from dialer import statuses as st
from dialer.errors import InvalidTransition, ValidationError
from dialer.service.steps.audience_intake import DUPLICATE, parse_contacts
from dialer.store import audiences, leads
from dialer.store.events import record_event
from dialer.views import AudienceView, RejectedContact
from models.tables import Audience, Campaign

# Contact ids in one requeue or close: a person's selection, not a bulk import.
MAX_CONTACT_IDS = 10_000


def add_contacts(session: Session, audience: Audience, contacts: Any, *, now: datetime,
                 default_region: str | None, source: str) -> AudienceView:
    """Contacts checked like ``create_audience``'s; bad rows and phones the audience already
    has are reported, a removed contact comes back with the data given. ``count``: how many
    this call added (new or back)."""
    good, rejected = parse_contacts(contacts, default_region=default_region)
    audiences.lock_for_change(session, audience.id)
    campaign_ids = leads.lock_enrolling_campaigns(session, audience.id)
    held = leads.held_phones(session, audience.id, [c["phone"] for _, c in good])
    added: list[int] = []
    fresh: list[tuple[int, dict[str, Any]]] = []
    for index, contact in good:
        known = held.get(contact["phone"])
        if known is None:
            fresh.append((index, contact))
        elif known[1]:
            leads.readd_contact(session, known[0], contact)
            added.append(known[0])
        else:
            rejected.append(_duplicate(index, contact))
    inserted = leads.insert_contacts(session, [{"audience_id": audience.id, **c}
                                               for _, c in fresh])
    for index, contact in fresh:
        if contact["phone"] in inserted:
            added.append(inserted[contact["phone"]])
        else:  # another transaction added this phone meanwhile
            rejected.append(_duplicate(index, contact))
    enrol(session, campaign_ids, added, now=now, source=source)
    rejected.sort(key=lambda r: r.index)
    return AudienceView(id=audience.id, name=audience.name, count=len(added), rejected=rejected)


def _duplicate(index: int, contact: dict[str, Any]) -> RejectedContact:
    return RejectedContact(index=index, phone=contact["phone"], error=DUPLICATE)


def enrol(session: Session, campaign_ids: Sequence[str], contact_ids: list[int], *,
          now: datetime, source: str, audience_id: str | None = None,
          after_id: int | None = None) -> None:
    """Contacts just added join the campaigns (locked by the caller); ``contacts_added``
    on each campaign they joined, with the count only."""
    for campaign_id in campaign_ids:
        joined = leads.enrol_contacts(session, campaign_id, contact_ids, at=now, now=now,
                                      audience_id=audience_id, after_id=after_id)
        if joined:
            record_event(session, campaign_id, at=now, action="contacts_added", source=source,
                         detail=f"{joined} contacts")


def remove_contacts(session: Session, audience_id: str, contact_ids: list[int], *,
                    now: datetime, source: str) -> int:
    """Soft-remove contacts; how many were in the audience. ``contacts_removed`` on each
    campaign that has not finished, with how many of its participants were canceled."""
    audiences.lock_for_change(session, audience_id)
    campaign_ids = leads.lock_enrolling_campaigns(session, audience_id)
    removed = leads.mark_removed(session, audience_id, contact_ids, now=now)
    if not removed or not campaign_ids:
        return len(removed)
    unqueued = leads.delete_unclaimed_calls(session, campaign_ids, removed)
    canceled = leads.cancel_removed(session, campaign_ids, removed, unqueued=unqueued, now=now)
    for campaign_id in campaign_ids:
        record_event(session, campaign_id, at=now, action="contacts_removed", source=source,
                     detail=f"{len(removed)} contacts removed from the audience, "
                            f"{canceled.get(campaign_id, 0)} not yet dialed canceled")
    return len(removed)


def remove_named_contacts(session: Session, audience_id: str, raw_ids: Any, *,
                          now: datetime, source: str) -> int:
    """``remove_contacts`` for a request that names whom to remove (a campaign's remote
    command): the ids checked as ``requeue`` checks them, and the request refused whole,
    naming them, when any is not a current member of the audience (locked by the caller):
    a sender's mistaken id is said, not silently skipped beside the others' removal."""
    contact_ids = checked_contact_ids(raw_ids)
    members = leads.current_members(session, audience_id, contact_ids)
    strangers = [i for i in contact_ids if i not in members]
    if strangers:
        raise ValidationError([("contact_ids", "not current members of the campaign's audience "
                                               f"(never added, or removed already): "
                                               f"{_listed(strangers)}")])
    return remove_contacts(session, audience_id, contact_ids, now=now, source=source)


def requeue(session: Session, campaign: Campaign, contact_ids: Any, *, now: datetime,
            source: str) -> int:
    """"Set to created": pending, attempts (and the number dialed) from zero, due at once
    (the tick still applies the calendar, DNC and caps). The campaign is locked."""
    return _steer(session, campaign, contact_ids, verb="requeue", now=now, source=source)


def close(session: Session, campaign: Campaign, contact_ids: Any, *, now: datetime,
          source: str) -> int:
    """"Set to completed": never dialed again in this campaign. The campaign is locked; a
    running one whose every participant is now done completes at the next tick."""
    return _steer(session, campaign, contact_ids, verb="close", now=now, source=source)


def _steer(session: Session, campaign: Campaign, raw_ids: Any, *, verb: str, now: datetime,
           source: str) -> int:
    contact_ids = checked_contact_ids(raw_ids)
    if campaign.status not in leads.ENROLLING:
        raise InvalidTransition(f"cannot {verb} contacts of a campaign that is "
                                f"{campaign.status}")
    # Calls first (see store/leads.py): a queued call nobody claimed goes; one being
    # claimed is skipped and counts as in flight below.
    unqueued = leads.delete_unclaimed_calls(session, [campaign.id], contact_ids)
    # Refused before the participants' rows are touched: a result being recorded holds its
    # call and participant and then wants the campaign's row, which this one holds.
    _refuse_in_flight(session, campaign, contact_ids, verb)
    rows = leads.lock_participants(session, campaign.id, contact_ids)
    unknown = sorted(set(contact_ids) - {row.contact_id for row in rows})
    if unknown:
        raise ValidationError([("contact_ids", "not contacts of this campaign: "
                                               f"{_listed(unknown)}")])
    # Again under the participants' locks: a dial may have claimed a call since.
    _refuse_in_flight(session, campaign, contact_ids, verb)
    participant_ids = [row.id for row in rows]
    if verb == "requeue":
        removed = [row.contact_id for row in rows if row.removed]
        if removed:
            raise InvalidTransition(f"contacts {_listed(removed)} were removed from the "
                                    "audience; add them again to dial them")
        leads.requeue(session, campaign.id, participant_ids, now=now)
        action = "requeued"
    else:
        leads.close(session, participant_ids, unqueued=unqueued, now=now)
        action = "closed"
    campaign.updated_at = now
    record_event(session, campaign.id, at=now, action=action, source=source,
                 detail=f"{len(rows)} contacts")
    return len(rows)


def _refuse_in_flight(session: Session, campaign: Campaign, contact_ids: list[int],
                      verb: str) -> None:
    in_flight = leads.contacts_in_flight(session, campaign.id, contact_ids)
    if in_flight:
        raise InvalidTransition(f"cannot {verb} contacts with a call in progress "
                                f"({_listed(in_flight)}); try again when it has ended")


def checked_contact_ids(raw: Any) -> list[int]:
    """Contact ids as given (integers, duplicates once), or ValidationError naming each bad
    one."""
    if isinstance(raw, str | bytes | dict) or not isinstance(raw, list | tuple):
        raise ValidationError([("contact_ids", "must be a list of contact ids")])
    if not raw:
        raise ValidationError([("contact_ids", "at least one contact id is required")])
    if len(raw) > MAX_CONTACT_IDS:
        raise ValidationError([("contact_ids", f"at most {MAX_CONTACT_IDS} per request")])
    errors = [(f"contact_ids[{i}]", "must be a contact id (a positive integer)")
              for i, value in enumerate(raw)
              if isinstance(value, bool) or not isinstance(value, int)
              or not 0 < value < 2 ** 63]
    if errors:
        raise ValidationError(errors)
    return list(dict.fromkeys(raw))


def _listed(ids: list[int], shown: int = 10) -> str:
    text = ", ".join(str(i) for i in ids[:shown])
    return text + (f" and {len(ids) - shown} more" if len(ids) > shown else "")


def campaign_accepts_contacts(campaign: Campaign, *, verb: str = "add contacts to") -> str:
    """The audience a campaign takes new contacts into (or has contacts removed from, the
    ``verb`` the refusal says); InvalidTransition once it has finished (or lost its
    audience)."""
    if campaign.status in st.CAMPAIGN_TERMINAL:
        raise InvalidTransition(f"cannot {verb} a campaign that is {campaign.status}")
    if campaign.audience_id is None:
        raise InvalidTransition("the campaign's audience was deleted")
    return campaign.audience_id
