"""The console's vendored libraries are the versions VENDORED.md records, byte for byte."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import dialer.api.console

VENDOR = Path(dialer.api.console.__file__).parent / "static" / "vendor"


def test_every_vendored_file_matches_its_recorded_sha256():
    table = (VENDOR / "VENDORED.md").read_text()
    recorded = dict(re.findall(r"^\| `([^`]+)` \|.*\| `([0-9a-f]{64})` \|$", table, re.M))
    shipped = {p.name for p in VENDOR.glob("*.js")}
    assert set(recorded) == shipped
    for name, digest in recorded.items():
        assert hashlib.sha256((VENDOR / name).read_bytes()).hexdigest() == digest, name


def test_every_vendored_library_ships_its_licence():
    table = (VENDOR / "VENDORED.md").read_text()
    for licence in re.findall(r"\(`([^`]+\.LICENSE)`\)", table):
        assert (VENDOR / licence).read_text().strip(), licence
