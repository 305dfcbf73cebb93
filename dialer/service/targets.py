"""Per-contact facts the eligibility rules need, read in batches."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from dialer.calendar import contact_zones, guard_zones
from dialer.eligibility import ContactFacts, recently_completed_since
from dialer.spec import CampaignSpec
from dialer.store import dispatch as store


def dnc_members(session: Session, phones: Iterable[str], *, org_id: str) -> set[str]:
    """Those of ``phones`` on the organisation's do-not-call list."""
    phones = list(set(phones))
    return store.dnc_members(session, phones, org_id=org_id) if phones else set()


def recently_completed(session: Session, phones: Iterable[str], *, org_id: str,
                       since: datetime) -> set[str]:
    """Numbers answered in any of the organisation's campaigns since ``since``."""
    phones = list(set(phones))
    return (store.answered_since(session, phones, org_id=org_id, since=since)
            if phones else set())


@dataclass(frozen=True)
class FrequencyCaps:
    """Caps on calls to one number across an organisation's campaigns (0 = off)."""

    per_24h: int = 0
    per_7d: int = 0

    @property
    def active(self) -> bool:
        return self.per_24h > 0 or self.per_7d > 0


def cap_reached_until(session: Session, phones: Iterable[str], *, org_id: str, now: datetime,
                      caps: FrequencyCaps) -> dict[str, datetime]:
    """Numbers at a frequency cap, with the instant their oldest counted call ages out."""
    phones = list(set(phones))
    if not phones or not caps.active:
        return {}
    day_ago, week_ago = now - timedelta(hours=24), now - timedelta(days=7)
    rows = store.placements_per_number(session, phones, org_id=org_id, day_ago=day_ago,
                                       week_ago=week_ago)
    out: dict[str, datetime] = {}
    for phone, day_count, day_oldest, week_count, week_oldest in rows:
        waits = []
        if caps.per_24h and day_count >= caps.per_24h:
            waits.append(day_oldest + timedelta(hours=24))
        if caps.per_7d and week_count >= caps.per_7d:
            waits.append(week_oldest + timedelta(days=7))
        if waits:
            out[phone] = max(waits)
    return out


def facts_for(
    session: Session, spec: CampaignSpec, contacts: list[tuple[str, str | None]], *,
    org_id: str, now: datetime, caps: FrequencyCaps | None = None,
) -> dict[str, ContactFacts]:
    """ContactFacts per phone for (phone, contact timezone) pairs of one of the
    organisation's campaigns."""
    phones = [phone for phone, _ in contacts]
    on_dnc = dnc_members(session, phones, org_id=org_id) if spec.safety.respect_dnc else set()
    recent: set[str] = set()
    since = recently_completed_since(now, spec.safety.skip_recently_completed_hours)
    if since is not None:
        recent = recently_completed(session, phones, org_id=org_id, since=since)
    capped = (cap_reached_until(session, phones, org_id=org_id, now=now, caps=caps)
              if caps else {})
    out: dict[str, ContactFacts] = {}
    for phone, tz in contacts:
        zones, guard = zones_for(spec, phone, tz)
        out[phone] = ContactFacts(zones=zones, guard_zones=guard, on_dnc=phone in on_dnc,
                                  recently_completed=phone in recent,
                                  cap_reached_until=capped.get(phone))
    return out


def one_contact_facts(
    session: Session, spec: CampaignSpec, phone: str, timezone: str | None, *,
    org_id: str, now: datetime, on_dnc: bool, caps: FrequencyCaps,
) -> ContactFacts:
    """``facts_for`` one contact whose DNC membership the caller read in its own statement;
    the optional checks cost a query only when the campaign or organisation turns them on."""
    since = recently_completed_since(now, spec.safety.skip_recently_completed_hours)
    recent = since is not None and phone in recently_completed(session, [phone], org_id=org_id,
                                                               since=since)
    capped = cap_reached_until(session, [phone], org_id=org_id, now=now, caps=caps).get(phone)
    zones, guard = zones_for(spec, phone, timezone)
    return ContactFacts(zones=zones, guard_zones=guard, on_dnc=on_dnc and spec.safety.respect_dnc,
                        recently_completed=recent, cap_reached_until=capped)


def zones_for(spec: CampaignSpec, phone: str,
              timezone: str | None) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(calling-window zones, business-hours-guard zones) of one contact."""
    zones = contact_zones(phone_e164=phone, contact_timezone=timezone,
                          campaign_timezone=spec.timezone,
                          contact_local_time=spec.schedule.contact_local_time)
    guard = guard_zones(phone_e164=phone, contact_timezone=timezone,
                        campaign_timezone=spec.timezone)
    return zones, guard

