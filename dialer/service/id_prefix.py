"""Ids as people type them: a unique prefix of the id a table showed them.

The CLI's tables show the first characters of an id (as git shows commits),
so every id a person types may be such a prefix. It names a row only when
exactly one row starts with it; anything else is an error, never a guess.
"""

from __future__ import annotations

import re

from sqlalchemy.orm import Session

from dialer.errors import NotFound, ValidationError
from dialer.ids import is_uuid
from dialer.store.ids import ids_starting

SHORT_ID_CHARS = 8  # what the tables show: one clash in ~4 billion pairs
MIN_PREFIX_CHARS = 4  # shorter would name several rows too often to be useful
_PREFIX = re.compile(r"^[0-9a-f-]+$")


def resolve_id(session: Session, kind: str, text: str, *, org_id: str) -> str:
    """The one id of ``kind`` (campaign, audience, phone number) of the organisation
    starting with ``text``.

    A whole id is returned as given: whether it exists is the command's own check.
    """
    if is_uuid(text):
        return text
    prefix = text.strip().lower()
    if len(prefix) < MIN_PREFIX_CHARS or not _PREFIX.match(prefix):
        raise NotFound(f"{kind} {text} not found (give the id, or at least its first "
                       f"{MIN_PREFIX_CHARS} characters)")
    found = ids_starting(session, kind, prefix, org_id=org_id, limit=3)
    if not found:
        raise NotFound(f"{kind} {text} not found")
    if len(found) > 1:
        raise ValidationError([("id", f"{text} is ambiguous: it starts {kind} ids "
                                      f"{', '.join(found[:2])}...; give more characters")])
    return found[0]
