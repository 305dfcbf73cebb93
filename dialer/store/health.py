"""The cheapest statement that proves PostgreSQL answers."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session


def ping(session: Session) -> None:
    session.execute(text("SELECT 1"))
