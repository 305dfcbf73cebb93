"""What the engine reads to dispatch a campaign: which to tick, the row lock of one
dispatch (and of a refused call's put-back), its caller IDs, its spec's text, its run
of dispatch failures, and the per-number facts of eligibility (DNC, recent answers,
frequency caps)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Text, cast, func, select, text
from sqlalchemy.orm import Session

from dialer import lifecycle
from dialer.statuses import CampaignStatus as C
from dialer.statuses import Outcome
from dialer.store.sql import SPEC_DIGEST, run_core
from models.tables import Campaign, DncEntry, Event, Execution, Organisation, PhoneNumber


def campaigns_to_tick(session: Session) -> Sequence[str]:
    """Running campaigns, highest priority first."""
    return session.scalars(
        select(Campaign.id).where(Campaign.status == C.RUNNING, Campaign.deleted_at.is_(None))
        .order_by(Campaign.priority.desc(), Campaign.created_at)).all()


def running_campaigns(session: Session) -> Sequence[str]:
    return session.scalars(select(Campaign.id).where(Campaign.status == C.RUNNING)).all()


def lock_for_dispatch(session: Session, campaign_id: str, *,
                      wait: bool) -> tuple[Campaign, str, int, int | None] | None:
    """The running campaign's row locked (``SKIP LOCKED`` unless ``wait``), with its
    spec's digest (for the spec cache), its current execution number and its
    organisation's stored channel cap."""
    execution = (select(func.coalesce(func.max(Execution.execution_number), 1))
                 .where(Execution.campaign_id == Campaign.id).scalar_subquery())
    org_cap = (select(Organisation.channel_cap).where(Organisation.id == Campaign.org_id)
               .scalar_subquery())
    row = session.execute(
        select(Campaign, func.md5(cast(Campaign.spec, Text)), execution, org_cap)
        .where(Campaign.id == campaign_id, Campaign.status == C.RUNNING)
        .with_for_update(of=Campaign, key_share=True,  # results hold KEY SHARE
                         skip_locked=not wait)).first()
    if row is None:
        return None
    campaign, digest, execution_number, cap = row
    return campaign, digest, execution_number, cap


_LOCK_KEY = text("SELECT 1 FROM campaigns WHERE id = :id FOR KEY SHARE")

# The campaign's current run (``run.began``), and whether a call of that run reached
# the provider (an id of its, or a result): one definition for the refusal's lock and
# for the count of refusals that may fail the campaign.
_CURRENT_RUN = "run AS (SELECT max(started_at) AS began FROM executions WHERE campaign_id = :id)"
_RUN_PLACED = """EXISTS (SELECT 1 FROM calls k, run WHERE k.campaign_id = :id
                  AND k.placed_at >= run.began
                  AND (k.provider_call_id IS NOT NULL OR k.ended_at IS NOT NULL))"""

# Whether a call of the current run reached the provider, read without a lock; then
# the row FOR UPDATE when none did, else FOR KEY SHARE. One round trip.
_LOCK_TO_FAIL_UNLESS_PLACED = text(f"""
    WITH {_CURRENT_RUN},
    placed AS MATERIALIZED (SELECT {_RUN_PLACED} AS yes),
    to_fail AS (SELECT 1 FROM campaigns
                WHERE id = :id AND NOT (SELECT yes FROM placed) FOR UPDATE),
    kept AS (SELECT 1 FROM campaigns
             WHERE id = :id AND (SELECT yes FROM placed) FOR KEY SHARE)
    SELECT (SELECT yes FROM placed) AS placed,
        (SELECT count(*) FROM to_fail) + (SELECT count(*) FROM kept) AS locked
""")


def lock_before_refusal(session: Session, campaign_id: str, *, may_fail: bool) -> bool:
    """The campaign's row, taken before a refused call's and its participant's; whether
    this refusal may still fail the campaign.

    FOR UPDATE when it may (``campaign_state.fail``'s own lock, taken first rather than
    as an upgrade of the KEY SHARE the skip's foreign key takes, which a second refusal
    may hold too); else FOR KEY SHARE (what that foreign key takes), so the refusal does
    not wait for the campaign's dials and results. A refusal for good may fail the
    campaign (``may_fail``) only while no call of the run has reached the provider: that
    is read first, unlocked, in the same statement. Once true it stays true for the run;
    a run begun meanwhile is counted again by the refusals under the lock
    (``refusals_in_run``), so reading it early only ever errs towards failing later."""
    if not may_fail:
        run_core(session, _LOCK_KEY, {"id": campaign_id})
        return False
    return not run_core(session, _LOCK_TO_FAIL_UNLESS_PLACED, {"id": campaign_id}).one().placed


def active_numbers(session: Session, phone_number_ids: Iterable[str], *,
                   org_id: str) -> dict[str, str]:
    """Number by id of the organisation's active caller IDs among ``phone_number_ids``
    (the ids were checked at creation; the organisation is checked again all the same)."""
    return {i: n for i, n in session.execute(select(PhoneNumber.id, PhoneNumber.number).where(
        PhoneNumber.id.in_(list(phone_number_ids)), PhoneNumber.org_id == org_id,
        PhoneNumber.is_active.is_(True))).all()}


def latest_action(session: Session, campaign_id: str) -> str | None:
    """The action of the campaign's latest event."""
    return session.scalar(select(Event.action).where(Event.campaign_id == campaign_id)
                          .order_by(Event.id.desc()).limit(1))


# Refusals counted up to :enough (LIMIT), placements since the run began.
_REFUSED_IN_RUN = text(f"""
    WITH {_CURRENT_RUN}
    SELECT
        (SELECT count(*) FROM (
            SELECT 1 FROM skips s, run WHERE s.campaign_id = :id AND s.reason = :reason
              AND s.at >= run.began LIMIT :enough) counted) AS refused,
        {_RUN_PLACED} AS placed
""")


def refusals_in_run(session: Session, campaign_id: str, *, reason: str,
                    enough: int) -> tuple[int, bool]:
    """(skips for ``reason`` in the campaign's current run, counted up to ``enough``;
    whether a call of the run reached the provider: an id of its, or a result)."""
    row = run_core(session, _REFUSED_IN_RUN, {"id": campaign_id, "reason": reason,
                                              "enough": enough}).one()
    return int(row.refused), bool(row.placed)


def dnc_members(session: Session, phones: list[str], *, org_id: str) -> set[str]:
    return set(session.scalars(select(DncEntry.phone).where(
        DncEntry.org_id == org_id, DncEntry.phone.in_(phones))))


_PER_NUMBER = text("""
    SELECT to_number,
           count(*) FILTER (WHERE placed_at > :day_ago) AS day_count,
           min(placed_at) FILTER (WHERE placed_at > :day_ago) AS day_oldest,
           count(*) AS week_count, min(placed_at) AS week_oldest
    FROM calls JOIN campaigns c ON c.id = calls.campaign_id AND c.org_id = :org_id
    WHERE to_number = ANY(:phones) AND placed_at > :week_ago
    GROUP BY to_number
""")

_ANSWERED_SINCE = text("""
    SELECT DISTINCT to_number
    FROM calls JOIN campaigns c ON c.id = calls.campaign_id AND c.org_id = :org_id
    WHERE to_number = ANY(:phones) AND outcome = :answered AND ended_at >= :since
""")


def placements_per_number(session: Session, phones: list[str], *, org_id: str,
                          day_ago: datetime, week_ago: datetime) -> Sequence[Any]:
    """(to_number, day_count, day_oldest, week_count, week_oldest) of the numbers
    placed to since ``week_ago`` (frequency caps across the organisation's campaigns)."""
    return run_core(session, _PER_NUMBER, {
        "phones": phones, "org_id": org_id, "day_ago": day_ago, "week_ago": week_ago}).all()


def answered_since(session: Session, phones: list[str], *, org_id: str,
                   since: datetime) -> set[str]:
    """Numbers answered in any of the organisation's campaigns since ``since``."""
    return {r[0] for r in run_core(session, _ANSWERED_SINCE, {
        "phones": phones, "org_id": org_id, "since": since, "answered": Outcome.ANSWERED})}


_SPEC = text(f"SELECT c.spec, {SPEC_DIGEST}, c.org_id FROM campaigns c WHERE c.id = :id")


def spec_and_digest(session: Session, campaign_id: str) -> tuple[Any, str, str]:
    """The campaign's stored spec (JSON), its digest and its organisation."""
    raw, digest, org_id = run_core(session, _SPEC, {"id": campaign_id}).one()
    return raw, digest, org_id


_COUNT_FAILURE = text("""
    UPDATE campaigns SET dispatch_failures = dispatch_failures + 1
    WHERE id = :id AND deleted_at IS NULL AND status = ANY(:failable)
    RETURNING dispatch_failures
""")


def count_dispatch_failure(session: Session, campaign_id: str) -> int | None:
    """One more failed dispatch in a row; None when the campaign can no longer fail
    (finished, failed or deleted)."""
    count: int | None = session.execute(_COUNT_FAILURE, {
        "id": campaign_id, "failable": list(lifecycle.allowed_from("fail"))}).scalar()
    return count


def campaigns_with_pacing(session: Session) -> Sequence[Any]:
    """(id, timezone) of the campaigns whose pacing state matters (running or paused)."""
    return session.execute(select(Campaign.id, Campaign.timezone).where(
        Campaign.status.in_((C.RUNNING, C.PAUSED)))).all()

