"""Organisations and API keys: creating them, and finding who a request acts for.

A key is ``dk_<8 hex>_<43 url-safe chars>`` (256 random bits after the prefix). Only
its SHA-256 is stored; ``dk_<8 hex>`` is kept in clear as its visible prefix, so a
leaked key can be identified (and revoked) from the prefix alone, and a presented key
finds its one row by prefix before its hash is compared in constant time. A fast hash
is right here: a 256-bit random key cannot be guessed, so there is nothing for a slow
password hash to protect, and every request pays for the hash.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import uuid
from datetime import timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dialer.errors import NotFound, ValidationError
from dialer.service.runtime import Runtime
from dialer.service.steps.tenancy import org_named, org_ref
from dialer.store import orgs as store
from dialer.views import ApiKeyView, OrganisationView, OrgRef
from models.tables import DEFAULT_ORG_NAME, ApiKey, Organisation

KEY_PREFIX = "dk_"
_PREFIX_LEN = len(KEY_PREFIX) + 8
_KEY_SHAPE = re.compile(r"^dk_[0-9a-f]{8}_[A-Za-z0-9_-]{20,100}$")
# A console session's token: 256 random bits, only its SHA-256 stored (like a key's).
CONSOLE_TOKEN_PREFIX = "dcs_"
_SESSION_SHAPE = re.compile(r"^dcs_[A-Za-z0-9_-]{40,60}$")
_NAME_SHAPE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
PREFIX_ATTEMPTS = 5
# last_used_at is written at most this often per key: not one UPDATE per request.
LAST_USED_RESOLUTION = timedelta(minutes=1)

__all__ = ["DEFAULT_ORG_NAME", "OrgRef", "authenticate", "console_session_org",
           "create_api_key", "create_org", "end_console_session", "list_api_keys",
           "list_orgs", "org_of_call", "resolve_org", "revoke_api_key", "set_channel_cap",
           "start_console_session", "webhook_secret"]


def org_view(rt: Runtime, row: Organisation) -> OrganisationView:
    return OrganisationView(id=row.id, name=row.name, channel_cap=row.channel_cap,
                            effective_channel_cap=rt.org_cap(row.channel_cap),
                            created_at=row.created_at)


def resolve_org(rt: Runtime, name: str) -> OrgRef:
    """The organisation named ``name``; NotFound when there is none."""
    with rt.unit_of_work() as session:
        org = org_named(rt, session, name)
    if org is None:
        raise NotFound(f"organisation {name!r} not found (dialer org list)")
    return org


def create_org(rt: Runtime, name: str, channel_cap: int | None = None) -> OrganisationView:
    errors = _cap_errors(channel_cap)
    if not isinstance(name, str) or not _NAME_SHAPE.match(name):
        errors.insert(0, ("name", "1-64 characters: letters, digits, '.', '_' or '-', "
                                  "starting with a letter or digit"))
    if errors:
        raise ValidationError(errors)
    try:
        with rt.transaction() as session:
            row = store.insert(session, id=str(uuid.uuid4()), name=name,
                               channel_cap=channel_cap, webhook_secret=secrets.token_hex(32),
                               created_at=rt.clock.now())
            return org_view(rt, row)
    except IntegrityError:
        raise ValidationError([("name", f"an organisation named {name!r} exists")]) from None


def set_channel_cap(rt: Runtime, name: str, channel_cap: int | None) -> OrganisationView:
    """A new cap (None: follow DIALER_ORG_CHANNEL_CAP); campaigns see it at their next
    dial. Channels already allocated above it are capped at dispatch, not rewritten."""
    if errors := _cap_errors(channel_cap):
        raise ValidationError(errors)
    with rt.transaction() as session:
        row = _named(session, name)
        row.channel_cap = channel_cap
        return org_view(rt, row)


def list_orgs(rt: Runtime) -> list[OrganisationView]:
    with rt.unit_of_work() as session:
        return [org_view(rt, row) for row in store.all_orgs(session)]


def create_api_key(rt: Runtime, org_name: str, label: str | None = None
                   ) -> tuple[ApiKeyView, str]:
    """A new key for the organisation: its view and the key itself, which is never
    stored and cannot be shown again."""
    if label is not None and (not isinstance(label, str) or len(label) > 200):
        raise ValidationError([("label", "at most 200 characters")])
    for attempt in range(1, PREFIX_ATTEMPTS + 1):
        key = f"{KEY_PREFIX}{secrets.token_hex(4)}_{secrets.token_urlsafe(32)}"
        try:
            with rt.transaction() as session:
                org = _named(session, org_name)
                row = store.insert_key(session, id=str(uuid.uuid4()), org_id=org.id,
                                       prefix=key[:_PREFIX_LEN], key_hash=_digest(key),
                                       label=label, created_at=rt.clock.now())
                return _key_view(row, org.name), key
        except IntegrityError:
            # The visible prefix is 32 bits and unique: two keys may draw the same one
            # (about 1% at 10,000 keys). Another draw is as good.
            if attempt == PREFIX_ATTEMPTS:
                raise
    raise AssertionError("unreachable")


def list_api_keys(rt: Runtime, org_name: str | None = None) -> list[ApiKeyView]:
    with rt.unit_of_work() as session:
        org_id = _named(session, org_name).id if org_name is not None else None
        return [_key_view(k, name) for k, name in store.keys(session, org_id=org_id)]


def revoke_api_key(rt: Runtime, key_id: str) -> ApiKeyView:
    """Revoke by id or by visible prefix; idempotent (the first revocation's time stays)."""
    with rt.transaction() as session:
        if key_id.startswith(KEY_PREFIX):
            found = store.key_by_prefix(session, key_id[:_PREFIX_LEN])
            row = found[0] if found else None
        else:
            row = _key_by_id(session, key_id)
        if row is None:
            raise NotFound(f"API key {key_id} not found (dialer apikey list)")
        if row.revoked_at is None:
            row.revoked_at = rt.clock.now()
        # Its console sessions end with it (each request checks the key anyway).
        store.drop_console_sessions_of_key(session, row.id)
        org = store.by_id(session, row.org_id)
        return _key_view(row, org.name if org else "")


def authenticate(rt: Runtime, api_key: str) -> OrgRef | None:
    """The organisation of a valid, unrevoked key; None for anything else (unknown,
    revoked, malformed: the caller cannot tell which)."""
    if not _well_formed(api_key):
        return None
    with rt.unit_of_work() as session:
        found = _valid_key(rt, session, api_key)
        return None if found is None else org_ref(rt, found[1])


def _well_formed(api_key: object) -> bool:
    """A key's shape, checked before any database work (a flood of garbage tokens never
    reaches the pool); still hashed, so a malformed key costs what a wrong one does."""
    if isinstance(api_key, str) and _KEY_SHAPE.match(api_key):
        return True
    hmac.compare_digest(_digest(str(api_key)), _digest(""))
    return False


def _valid_key(rt: Runtime, session: Session, api_key: str
               ) -> tuple[ApiKey, Organisation] | None:
    """The key's row and organisation when it is valid and unrevoked (its last use
    recorded, at most once a LAST_USED_RESOLUTION, and committed)."""
    presented = _digest(api_key)
    found = store.key_by_prefix(session, api_key[:_PREFIX_LEN])
    stored = found[0].key_hash if found else _digest("")
    if not hmac.compare_digest(presented, stored) or found is None:
        return None
    key, org = found
    if key.revoked_at is not None:
        return None
    now = rt.clock.now()
    if key.last_used_at is None or now - key.last_used_at >= LAST_USED_RESOLUTION:
        store.touch_key(session, key.id, now=now)
        session.commit()
    return key, org


def start_console_session(rt: Runtime, api_key: str) -> tuple[OrgRef, str] | None:
    """Sign in to the web console with an API key: the organisation and a new session
    token for the browser's cookie (only its hash is kept), or None for a key that
    ``authenticate`` refuses. The session lasts ``console_session_hours`` real hours."""
    if not _well_formed(api_key):
        return None
    now = rt.clock.now()
    lifetime = timedelta(hours=rt.settings.console_session_hours * rt.settings.time_scale)
    with rt.unit_of_work() as session:
        found = _valid_key(rt, session, api_key)
        if found is None:
            return None
        key, org = found
        token = CONSOLE_TOKEN_PREFIX + secrets.token_urlsafe(32)
        store.drop_expired_console_sessions(session, key.id, now=now)
        store.insert_console_session(session, id=str(uuid.uuid4()), token_hash=_digest(token),
                                     api_key_id=key.id, created_at=now,
                                     expires_at=now + lifetime)
        session.commit()
        return org_ref(rt, org), token


def console_session_org(rt: Runtime, token: str) -> OrgRef | None:
    """Who a console session acts for: None once it ended, expired or its key was
    revoked (or for anything that is not a session token)."""
    if not isinstance(token, str) or not _SESSION_SHAPE.match(token):
        return None
    with rt.unit_of_work() as session:
        found = store.console_session(session, _digest(token))
        if found is None:
            return None
        row, key, org = found
        if key.revoked_at is not None or row.expires_at <= rt.clock.now():
            return None
        return org_ref(rt, org)


def end_console_session(rt: Runtime, token: str) -> None:
    """Sign out: the session's row is deleted, so its token signs nothing in again."""
    if not isinstance(token, str) or not _SESSION_SHAPE.match(token):
        return
    with rt.unit_of_work() as session:
        store.end_console_session(session, _digest(token))
        session.commit()


def webhook_secret(rt: Runtime, org_id: str) -> str:
    with rt.unit_of_work() as session:
        row = store.by_id(session, org_id)
        if row is None:
            raise NotFound(f"organisation {org_id} not found")
        return row.webhook_secret


def org_of_call(rt: Runtime, call_id: str) -> OrgRef | None:
    """The organisation whose campaign placed ``call_id`` (None: no such call)."""
    try:
        uuid.UUID(str(call_id))
    except ValueError:
        return None
    with rt.unit_of_work() as session:
        row = store.of_call(session, str(call_id))
        return None if row is None else org_ref(rt, row)


def _cap_errors(channel_cap: object) -> list[tuple[str, str]]:
    if channel_cap is None or (isinstance(channel_cap, int)
                               and not isinstance(channel_cap, bool) and channel_cap >= 0):
        return []
    return [("channel_cap", "must be an integer >= 0")]


def _named(session: Session, name: str | None) -> Organisation:
    row = store.by_name(session, str(name))
    if row is None:
        raise NotFound(f"organisation {name!r} not found (dialer org list)")
    return row


def _key_by_id(session: Session, key_id: str) -> ApiKey | None:
    try:
        uuid.UUID(key_id)
    except ValueError:
        return None
    return store.key_by_id(session, key_id)


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _key_view(row: ApiKey, org_name: str) -> ApiKeyView:
    return ApiKeyView(id=row.id, org=org_name, prefix=row.prefix, label=row.label,
                      created_at=row.created_at, last_used_at=row.last_used_at,
                      revoked_at=row.revoked_at)
