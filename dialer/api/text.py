"""PostgreSQL stores no NUL character, in text or in jsonb: a string holding one would
fail at the insert, after other writes, as a 500. The API refuses it up front, as a
field error (found by schemathesis: an audience named "\\x00" answered 500)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator

from dialer.errors import ValidationError
from dialer.text import CONTAINS_NUL, nul_fields

__all__ = ["CONTAINS_NUL", "Text", "nul_fields", "refuse_nul"]


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError(CONTAINS_NUL)
    return value


# A body field's string type: refused with the field's name when it holds a NUL.
Text = Annotated[str, AfterValidator(_no_nul)]


def refuse_nul(value: Any) -> Any:
    """``value`` itself, or a ValidationError naming every string that holds a NUL."""
    fields = nul_fields(value)
    if fields:
        raise ValidationError([(field, CONTAINS_NUL) for field in fields])
    return value
