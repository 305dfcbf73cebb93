"""Who may report a call's result over HTTP: the call's organisation.

Either its API key (``Authorization: Bearer``), or a signature made with its webhook
secret over the time, the call's id and the exact bytes of the body::

    X-Dialer-Signature: t=<unix seconds>,sha256=<hex of HMAC-SHA256(webhook_secret,
                        "<t>.<call_id>." + raw_body)>

The call id is signed so that a signature seen once cannot be replayed onto another
call of the organisation; the time, so that it cannot be replayed later than
``TOLERANCE_S`` (a replay within it changes nothing: results are idempotent). Without a
key, an unknown call and a bad signature answer alike (401), so the endpoint tells a
stranger nothing about which call ids exist.
"""

from __future__ import annotations

import hashlib
import hmac
import time

from dialer.api.auth import unauthorized
from dialer.service import orgs
from dialer.service.runtime import Runtime

SIGNATURE_HEADER = "X-Dialer-Signature"
SCHEME = "sha256"
# Real seconds a signature stays good, either way (clocks of two hosts disagree a little).
TOLERANCE_S = 300


def sign(secret: str, call_id: str, body: bytes, *, at: int) -> str:
    """The header's value for ``body`` sent for ``call_id`` at unix time ``at`` (what a
    provider computes)."""
    message = f"{at}.{call_id}.".encode() + body
    return f"t={at},{SCHEME}={hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()}"


def signature_matches(secret: str, call_id: str, body: bytes, header: str, *,
                      now: float) -> bool:
    parts = dict(part.split("=", 1) for part in header.strip().split(",") if "=" in part)
    try:
        at = int(parts.get("t", ""))
    except ValueError:
        at = 0
    expected = sign(secret, call_id, body, at=at)
    matches = hmac.compare_digest(expected.encode(), header.strip().encode())
    return matches and abs(now - at) <= TOLERANCE_S


def signed_org(rt: Runtime, call_id: str, body: bytes, header: str) -> orgs.OrgRef | None:
    """The call's organisation when ``header`` signs ``body`` for this call with its
    secret, recently; else None."""
    now = time.time()  # real time: the provider's clock, not the dialer's simulated one
    org = orgs.org_of_call(rt, call_id)
    if org is None:
        # Compared all the same, so an unknown call costs what a known one does.
        signature_matches("unknown-call", call_id, body, header, now=now)
        return None
    secret = orgs.webhook_secret(rt, org.id)
    return org if signature_matches(secret, call_id, body, header, now=now) else None


def caller_org(rt: Runtime, call_id: str, body: bytes, *, api_key: str | None,
               signature: str | None) -> orgs.OrgRef:
    """Who reports this result: the API key's organisation when a key is sent (the
    call must then be its own, else NotFound later), or the organisation whose secret
    signs the body. 401 otherwise, saying only what was missing or wrong."""
    if api_key is not None:
        org = orgs.authenticate(rt, api_key)
        if org is None:
            raise unauthorized("unknown or revoked API key")
        return org
    if signature:
        org = signed_org(rt, call_id, body, signature)
        if org is None:
            raise unauthorized("bad or expired signature")
        return org
    raise unauthorized(f"missing: send Authorization: Bearer <api key> or {SIGNATURE_HEADER}")
