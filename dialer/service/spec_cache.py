"""Parsed campaign specs, kept per process and keyed by the spec's own digest.

Validating a spec with pydantic and building its calendar costs more than
the SQL of a dial. A spec is written once at creation, but nothing here
relies on that: the hot paths read ``md5(spec::text)`` in the statement they
run anyway, and an entry is used only while its digest matches, so an edited
spec is re-read at once. What does change at run time — status, channels,
the breaker — lives in columns that are read on every call, never cached.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

from dialer.calendar import CallingRules
from dialer.spec import CampaignSpec

# Enough for every campaign a worker serves at once; a full cache starts over.
MAX_ENTRIES = 512

# The SQL expression whose value keys the cache (read alongside each claim).
SPEC_DIGEST_SQL = "md5(c.spec::text)"


@dataclass(frozen=True)
class CachedSpec:
    digest: str
    spec: CampaignSpec
    rules: CallingRules


_entries: dict[str, CachedSpec] = {}


def cached_spec(session: Session | Connection, campaign_id: str, digest: str) -> CachedSpec:
    """The spec of ``campaign_id`` whose text has md5 ``digest``; read it when unknown."""
    entry = _entries.get(campaign_id)
    if entry is not None and entry.digest == digest:
        return entry
    raw, fresh_digest = session.execute(
        text("SELECT c.spec, " + SPEC_DIGEST_SQL + " FROM campaigns c WHERE c.id = :id"),
        {"id": campaign_id}).one()
    spec = CampaignSpec.model_validate(raw)
    entry = CachedSpec(digest=fresh_digest, spec=spec, rules=CallingRules.of(spec))
    if len(_entries) >= MAX_ENTRIES:
        _entries.clear()
    _entries[campaign_id] = entry
    return entry
