"""The Atoms-compatible surface (docs/atoms.md): ``router``, mounted at ``/atoms/v1``.

Errors raised inside its routes are shaped by ``envelope.AtomsRoute``; those the app
answers before a route runs (an oversized body) by ``envelope.atoms_envelope``, given to
the app's error handlers for the path prefix.
"""

from __future__ import annotations

from fastapi import APIRouter

from dialer.api.atoms import exports, routes
from dialer.api.atoms.envelope import atoms_envelope
from dialer.api.errors import register_envelope

PREFIX = "/atoms/v1"

register_envelope("/atoms/", atoms_envelope)

# The exports first: routes.router ends with the catch-all that answers Atoms' 404.
router = APIRouter()
router.include_router(exports.router)
router.include_router(routes.router)

__all__ = ["PREFIX", "router"]
