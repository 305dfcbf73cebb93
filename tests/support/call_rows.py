"""Call rows written straight into PostgreSQL: a campaign with thousands of ended calls
in a second, for the reads and exports that only read them (no dialing needed)."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

OUTCOMES = ("no_answer", "busy", "voicemail", "failed", "answered")


def seed_calls(database_url: str, campaign_id: str, *, per_contact: int, t0: datetime,
               to_secondary: dict[int, str] | None = None) -> None:
    """``per_contact`` ended calls for each participant: call ``n`` (attempt n) queued at
    ``t0`` + (participant id * per_contact + n) seconds, outcome OUTCOMES[n % 5], 30.5 s,
    goal achieved on even attempts, cost 0.012345, a recording URL. The participant's
    attempts, last outcome and last attempt follow its last call. ``to_secondary``:
    contact id → the number its last call dialed instead of the participant's."""
    engine = sa.create_engine(database_url)
    with engine.begin() as conn:
        conn.execute(sa.text("""
            INSERT INTO calls (id, participant_id, campaign_id, contact_id, execution_number,
                               cycle, attempt, status, to_number, from_number, provider_call_id,
                               queued_at, dispatch_at, placed_at, ended_at, deadline_at,
                               outcome, duration_s, goal_achieved, detail, recording_url,
                               transcript_url, cost)
            SELECT gen_random_uuid()::text, p.id, p.campaign_id, p.contact_id, 1, 0, n,
                   'ended', p.phone, '+14155550100', 'prov-' || p.id || '-' || n,
                   at, at, at, at + interval '31 seconds', at + interval '1 hour',
                   (ARRAY['no_answer','busy','voicemail','failed','answered'])[1 + n % 5],
                   30.5, n % 2 = 0, 'hangup', 'https://rec.example/' || p.id || '/' || n,
                   NULL, 0.012345
            FROM participants p CROSS JOIN generate_series(1, :per) AS n
            CROSS JOIN LATERAL (SELECT CAST(:t0 AS timestamptz)
                                       + (p.id * :per + n) * interval '1 second' AS at) t
            WHERE p.campaign_id = :campaign_id
        """), {"per": per_contact, "t0": t0, "campaign_id": campaign_id})
        conn.execute(sa.text("""
            UPDATE participants p SET attempts = :per, status = 'failed',
                   last_outcome = (ARRAY['no_answer','busy','voicemail','failed','answered'])
                                  [1 + :per % 5],
                   last_attempt_at = CAST(:t0 AS timestamptz)
                                     + (p.id * :per + :per) * interval '1 second'
            WHERE p.campaign_id = :campaign_id
        """), {"per": per_contact, "t0": t0, "campaign_id": campaign_id})
        for contact_id, number in (to_secondary or {}).items():
            conn.execute(sa.text("""
                UPDATE calls SET to_number = :number WHERE campaign_id = :campaign_id
                AND contact_id = :contact_id AND attempt = :per
            """), {"number": number, "campaign_id": campaign_id, "contact_id": contact_id,
                   "per": per_contact})
    engine.dispose()


def queued_at(t0: datetime, participant_id: int, attempt: int, per_contact: int) -> datetime:
    return t0 + timedelta(seconds=participant_id * per_contact + attempt)
