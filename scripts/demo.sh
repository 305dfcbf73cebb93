#!/usr/bin/env bash
# The demo: installs what it needs, makes sure the services answer, and runs
# a simulated campaign with live progress (its own database and Redis db).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
bash scripts/ensure_services.sh
exec .venv/bin/dialer demo "$@"
