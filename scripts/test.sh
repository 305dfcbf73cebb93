#!/usr/bin/env bash
# The test command: installs what it needs, makes sure the services answer,
# lints, and runs every tier (unit, integration, chaos) against the real stack.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
bash scripts/ensure_services.sh
.venv/bin/ruff check dialer models workers tests beat_schedule.py
exec .venv/bin/python -m pytest "$@"
