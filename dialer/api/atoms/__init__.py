"""The Atoms-compatible surface (docs/atoms.md): ``router``, mounted at ``/atoms/v1``.

Errors raised inside its routes are shaped by ``envelope.AtomsRoute``; those the app
answers before a route runs (an oversized body) by ``envelope.atoms_envelope``, given to
the app's error handlers for the path prefix when the app has that hook.
"""

from __future__ import annotations

import importlib
import importlib.util

from dialer.api.atoms.envelope import atoms_envelope
from dialer.api.atoms.routes import router

PREFIX = "/atoms/v1"

if importlib.util.find_spec("dialer.api.errors") is not None:
    importlib.import_module("dialer.api.errors").register_envelope("/atoms/", atoms_envelope)

__all__ = ["PREFIX", "router"]
