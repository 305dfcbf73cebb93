"""Parsed campaign specs, kept per process and keyed by the spec's own digest.

Validating a spec with pydantic and building its calendar costs more than
the SQL of a dial. A spec changes after creation (update_campaign, an
allocation of channels), so nothing here assumes it does not: the hot paths read
the spec's digest (``store.sql.SPEC_DIGEST``) in the statement they run anyway,
and an entry is used only while its digest matches, so an edited spec is re-read
at once: the edit writes the spec (the one source of every setting), changes
the digest and is seen by the next tick and dial. What else changes at run
time — status, the breaker — lives in columns that are read on every call,
never cached.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from dialer.calendar import CallingRules
from dialer.spec import CampaignSpec
from dialer.store import dispatch as store

# Enough for every campaign a worker serves at once; a full cache starts over.
MAX_ENTRIES = 512


@dataclass(frozen=True)
class CachedSpec:
    digest: str
    spec: CampaignSpec
    rules: CallingRules
    org_id: str  # a campaign never changes organisation


_entries: dict[str, CachedSpec] = {}


def cached_spec(session: Session, campaign_id: str, digest: str) -> CachedSpec:
    """The spec of ``campaign_id`` whose text has md5 ``digest``; read it when unknown."""
    entry = _entries.get(campaign_id)
    if entry is not None and entry.digest == digest:
        return entry
    raw, fresh_digest, org_id = store.spec_and_digest(session, campaign_id)
    spec = CampaignSpec.model_validate(raw)
    entry = CachedSpec(digest=fresh_digest, spec=spec, rules=CallingRules.of(spec),
                       org_id=org_id)
    if len(_entries) >= MAX_ENTRIES:
        _entries.clear()
    _entries[campaign_id] = entry
    return entry
