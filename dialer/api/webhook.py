"""Who may report a call's result over HTTP: the call's organisation.

Either its API key (``Authorization: Bearer``), or a signature made with its webhook
secret over the exact bytes of the body::

    X-Dialer-Signature: sha256=<hex of HMAC-SHA256(webhook_secret, raw_body)>

Without a key, an unknown call and a bad signature answer alike (401), so the
endpoint tells a stranger nothing about which call ids exist.
"""

from __future__ import annotations

import hashlib
import hmac

from dialer.api.auth import unauthorized
from dialer.service import orgs
from dialer.service.runtime import Runtime

SIGNATURE_HEADER = "X-Dialer-Signature"
SCHEME = "sha256="


def sign(secret: str, body: bytes) -> str:
    """The header's value for ``body`` (what a provider computes)."""
    return SCHEME + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signature_matches(secret: str, body: bytes, header: str) -> bool:
    return hmac.compare_digest(sign(secret, body).encode(), header.strip().encode())


def signed_org(rt: Runtime, call_id: str, body: bytes, header: str) -> orgs.OrgRef | None:
    """The call's organisation when ``header`` signs ``body`` with its secret, else None."""
    org = orgs.org_of_call(rt, call_id)
    if org is None:
        # Compared all the same, so an unknown call costs what a known one does.
        signature_matches("unknown-call", body, header)
        return None
    return org if signature_matches(orgs.webhook_secret(rt, org.id), body, header) else None


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
            raise unauthorized("bad signature")
        return org
    raise unauthorized(f"missing: send Authorization: Bearer <api key> or {SIGNATURE_HEADER}")
