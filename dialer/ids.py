"""Identifier checks shared by the use cases."""

from __future__ import annotations

import uuid
from typing import Any


def is_uuid(value: Any) -> bool:
    """Whether ``value`` reads as a UUID: anything else cannot name a row of ours."""
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True
