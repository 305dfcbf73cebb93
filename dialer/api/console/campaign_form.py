"""(Built in issue 15: see docs/console.md.)"""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
