"""Gathers the facts of the "will it dial?" checklist (``dialer.readiness``) for one campaign."""

from __future__ import annotations

from datetime import datetime

from dialer.calendar import CallingRules
from dialer.readiness import ReadinessFacts, readiness_checks, will_dial
from dialer.service.runtime import Runtime
from dialer.service.steps.campaign_state import campaign_spec, load_campaign
from dialer.service.targets import zones_for
from dialer.store import numbers, reads
from dialer.views import CheckView, OrgRef, ReadinessView

# The window is read for the zones of this many waiting contacts (the next ones
# due): enough to answer "open for someone?" without reading a 200k audience.
ZONE_SAMPLE = 500


def campaign_readiness(rt: Runtime, org: OrgRef, campaign_id: str) -> ReadinessView:
    now = rt.clock.now()
    with rt.unit_of_work() as session:
        campaign = load_campaign(session, campaign_id, org_id=org.id)
        spec = campaign_spec(campaign)
        numbers_active = numbers.count_active(session, spec.phone_number_ids,
                                              org_id=campaign.org_id)
        waiting, due = reads.waiting_and_due(session, campaign.id, now=now)
        sample = reads.next_open_contacts(session, campaign.id, limit=ZONE_SAMPLE)
    rules = CallingRules.of(spec)
    zone_sets = {zones_for(spec, phone, tz) for phone, tz in sample}
    zones_open, next_opening, closed_reason = _window_state(rules, zone_sets, now)
    facts = ReadinessFacts(
        status=campaign.status, pause_reason=campaign.pause_reason,
        scheduled_at=campaign.scheduled_at, agent_id=campaign.agent_id,
        numbers_listed=len(spec.phone_number_ids), numbers_active=numbers_active,
        contacts_waiting=waiting, contacts_due=due, channels=campaign.channels,
        org_channel_cap=org.channel_cap, zones_sampled=len(zone_sets),
        zones_open=zones_open, next_opening=next_opening, closed_reason=closed_reason,
        breaker_open=campaign.breaker_open, leases_ready=rt.leases.is_ready())
    checks = readiness_checks(facts)
    return ReadinessView(
        campaign_id=campaign.id, at=now, will_dial=will_dial(checks),
        checks=[CheckView(name=c.name, ok=c.ok, detail=c.detail) for c in checks])


def _window_state(rules: CallingRules,
                  zone_sets: set[tuple[tuple[str, ...], tuple[str, ...]]],
                  now: datetime) -> tuple[int, datetime | None, str | None]:
    """How many zone sets are open now; if none, the earliest opening and the commonest
    reason the window is shut."""
    reasons = [rules.closed_reason(now, zones, guard) for zones, guard in zone_sets]
    open_now = reasons.count(None)
    if open_now or not zone_sets:
        return open_now, None, None
    openings = [rules.next_opening(now, zones, guard) for zones, guard in zone_sets]
    found = [o for o in openings if o is not None]
    commonest = max(set(reasons), key=reasons.count)
    return 0, (min(found) if found else None), commonest
