"""PostgreSQL stores no NUL character, in text or in jsonb: a string holding one fails
at the insert, after other writes. Input is refused up front instead, with the field
named, whichever way it came (the client, the CLI, a task, HTTP)."""

from __future__ import annotations

from typing import Any

CONTAINS_NUL = "contains a NUL character"


def nul_fields(value: Any, path: str = "") -> list[str]:
    """Dotted paths of every string (or object key) in a JSON value holding a NUL."""
    found: list[str] = []
    if isinstance(value, str):
        if "\x00" in value:
            found.append(path or "body")
    elif isinstance(value, dict):
        for key, item in value.items():
            field = f"{path}.{key}" if path else str(key)
            if "\x00" in str(key):
                found.append(field)
            else:
                found += nul_fields(item, field)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            found += nul_fields(item, f"{path}[{index}]")
    return found
