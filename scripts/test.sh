#!/usr/bin/env bash
# The test command: installs what it needs, makes sure the services answer,
# lints (ruff, import-linter, mypy), and runs every tier (unit, integration,
# chaos) against the real stack.
# Without arguments (the full suite, as CI runs it) the chaos tier then runs a
# second time with RabbitMQ as the broker.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
bash scripts/ensure_services.sh --rabbitmq
.venv/bin/ruff check dialer models workers tests beat_schedule.py bench
# Who may import whom (the contracts in pyproject.toml, ARCHITECTURE.md's layers).
.venv/bin/lint-imports
.venv/bin/python -m mypy
if [ "$#" -gt 0 ]; then
  exec .venv/bin/python -m pytest "$@"
fi
.venv/bin/python -m pytest
# The vhost ensure_services.sh created; DIALER_TEST_AMQP_URL points elsewhere.
echo "[test] the chaos tier again, with RabbitMQ as the broker" >&2
DIALER_TEST_BROKER_URL="${DIALER_TEST_AMQP_URL:-amqp://guest:guest@127.0.0.1:5672/dialer_test}" \
  exec .venv/bin/python -m pytest tests/chaos
