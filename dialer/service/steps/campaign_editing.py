"""``update_campaign``: a patch merged into a campaign's stored spec, validated like a
creation, applied in the command's one transaction under the campaign's row lock
(steps/campaign_commands.run_command), and recorded as the event ``updated``.

What may change in which status is the table of ``dialer/editing.py``. The spec is
the one source of every setting: writing it changes its digest, so the next tick,
dial and result read the new one (service/spec_cache.py), and the generated
``channels`` column follows it as it does for allocate_channels.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pydantic
from sqlalchemy.orm import Session

from dialer import editing
from dialer.errors import ValidationError
from dialer.pacing import rebase_next_free_slot
from dialer.service.steps.campaign_creation import REFERENCES, checked_spec
from dialer.service.steps.campaign_state import load_campaign, transition
from dialer.spec import CampaignSpec
from dialer.store import audiences, campaign_edits
from dialer.store.campaign_members import enrol_audience
from dialer.store.events import record_event
from models.tables import Campaign

# A change of these moves contacts waiting for the old calendar's opening (or the old
# start) back to "due now", for the tick to place them under the new one.
CALENDAR_FIELDS = ("schedule", "timezone", "scheduled_at")


def update_campaign(session: Session, campaign_id: str, patch: Any, *, now: datetime,
                    source: str) -> Campaign:
    if not isinstance(patch, dict):
        raise ValidationError([("patch", "expected an object of spec fields")])
    campaign = load_campaign(session, campaign_id, lock=True)
    stored = _stored_spec(campaign)
    merged = editing.merge_spec_patch(stored, patch)
    has_run = campaign_edits.has_run(session, campaign.id)
    changed = _changes(stored, merged)
    refusals = editing.edit_errors(campaign.status, changed,
                                   agent_was_set=bool(campaign.agent_id), has_run=has_run)
    touched = {field.split(".", 1)[0] for field in changed}
    # Every refusal and every invalid field in one error, as a creation names them.
    spec = checked_spec(session, merged, org_id=campaign.org_id, now=now,
                        check_schedule="scheduled_at" in touched,
                        references=REFERENCES & touched, more_errors=tuple(refusals))
    if not changed:
        return campaign  # nothing to write, nothing to record
    after = spec.model_dump(mode="json")
    _apply(session, campaign, spec, after, changed, now=now, source=source)
    return campaign


def _apply(session: Session, campaign: Campaign, spec: CampaignSpec, after: dict[str, Any],
           changed: list[str], *, now: datetime, source: str) -> None:
    old_pacing = CampaignSpec.model_validate(campaign.spec).pacing if _parses(
        campaign.spec) else None
    move = editing.schedule_move(campaign.status, campaign.scheduled_at, spec.scheduled_at)
    touched = {field.split(".", 1)[0] for field in changed}
    if "audience_id" in touched:
        assert spec.audience_id is not None  # required by the validation
        campaign_edits.delete_participants(session, campaign.id)
        # As a creation does (steps/campaign_creation.py). After the campaign's row, unlike
        # an addition's order, yet no deadlock: an addition to the new audience locks the
        # campaigns that use it as committed, which this draft does not yet.
        audiences.lock_shared(session, spec.audience_id)
        enrol_audience(session, campaign.id, spec.audience_id, now=now)
    campaign.spec = after
    campaign.name, campaign.description = spec.name, spec.description
    campaign.agent_id, campaign.audience_id = spec.agent_id, spec.audience_id
    campaign.phone_number_ids = list(spec.phone_number_ids)
    campaign.timezone, campaign.priority = spec.timezone, spec.priority
    campaign.scheduled_at = spec.scheduled_at
    campaign.updated_at = now
    if old_pacing is not None and "pacing" in touched:
        campaign.next_free_slot_at = rebase_next_free_slot(
            campaign.next_free_slot_at, before=old_pacing, after=spec.pacing)
    if touched & set(CALENDAR_FIELDS):
        campaign_edits.make_pending_due(session, campaign.id, now=now)
    record_event(session, campaign.id, at=now, action="updated", source=source,
                 detail=", ".join(changed))
    if move == "schedule" or move == "reschedule":
        assert spec.scheduled_at is not None
        if move == "schedule":
            transition(campaign, "schedule", now)  # refuses without an agent
        record_event(session, campaign.id, at=now, action="scheduled", source=source,
                     detail=f"{'starts' if move == 'schedule' else 'moved to'} "
                            f"{spec.scheduled_at.isoformat()}")
    elif move == "unschedule":
        transition(campaign, "unschedule", now)
        record_event(session, campaign.id, at=now, action="unscheduled", source=source,
                     detail="scheduled_at cleared: back to draft")
    # The generated channels column is computed by PostgreSQL from the new spec.
    session.flush()
    session.refresh(campaign)


def _changes(stored: dict[str, Any], merged: dict[str, Any]) -> list[str]:
    """The fields the edit changes, as the spec reads them: the same instant at another
    offset, the same days in another order, 2 for 2.0 restate a value and change
    nothing (so the table never refuses them), and a new preset changes the pacing
    fields it fills. When the merged spec does not parse (the edit is refused anyway),
    the fields whose value differs, less those that only restate theirs."""
    try:
        after = CampaignSpec.model_validate(merged)
    except pydantic.ValidationError:
        return [field for field in editing.changed_fields(_as_read(stored), _as_read(merged))
                if not _restates(stored, merged, field.split("."))]
    return editing.changed_fields(_as_read(stored), _comparable(after))


def _restates(stored: dict[str, Any], merged: dict[str, Any], path: list[str]) -> bool:
    """Whether ``merged``'s value at ``path`` is the stored one in another form: put
    alone into the stored spec, the spec reads the same."""
    try:
        alone = _with_value(stored, path, _value(merged, path))
        return _comparable(CampaignSpec.model_validate(alone)) == _as_read(stored)
    except (KeyError, TypeError, pydantic.ValidationError):
        return False  # a new key, a removed one, or a value the spec refuses


def _value(spec: Any, path: list[str]) -> Any:
    for key in path:
        spec = spec[key]
    return spec


def _with_value(spec: dict[str, Any], path: list[str], value: Any) -> dict[str, Any]:
    head, *rest = path
    return {**spec, head: _with_value(spec[head], rest, value) if rest else value}


def _stored_spec(campaign: Campaign) -> dict[str, Any]:
    """The stored spec with the start the campaign waits for: a recurring campaign
    re-armed for its next period keeps that instant in its column, not in its spec."""
    stored = dict(campaign.spec)
    spec_at = _instant(stored.get("scheduled_at"))
    if spec_at != campaign.scheduled_at:
        stored["scheduled_at"] = (None if campaign.scheduled_at is None
                                  else campaign.scheduled_at.isoformat())
    return stored


def _instant(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _parses(raw: Any) -> bool:
    try:
        CampaignSpec.model_validate(raw)
    except pydantic.ValidationError:
        return False
    return True


def _as_read(raw: dict[str, Any]) -> dict[str, Any]:
    """A spec as the spec reads it. One that does not parse (a stored one the edit may
    be repairing, a merged one the edit is refused for) is compared as it is, but for
    its start, read as every start is compared (_utc_start): else a start kept as it
    was given (...Z, +02:00) would differ from the same instant read, and count as
    changed, refused while paused and checked for the past."""
    try:
        return _comparable(CampaignSpec.model_validate(raw))
    except pydantic.ValidationError:
        if "scheduled_at" not in raw:
            return raw
        return {**raw, "scheduled_at": _utc_start(raw["scheduled_at"])}


def _comparable(spec: CampaignSpec) -> dict[str, Any]:
    """The spec's JSON form with its start as a UTC instant: JSON keeps the offset it
    was given, and the same instant given at another offset is the same start."""
    dumped = spec.model_dump(mode="json")
    dumped["scheduled_at"] = _utc_start(dumped["scheduled_at"])
    return dumped


def _utc_start(value: Any) -> Any:
    """A start as compared: an instant with an offset, in UTC; anything else (null, a
    value the spec refuses) as it is."""
    at = _instant(value)
    if at is None or at.tzinfo is None:
        return value
    try:
        return at.astimezone(UTC).isoformat()
    except OverflowError:  # 9999-12-31T23:00-14:00 is past datetime's range in UTC
        return value
