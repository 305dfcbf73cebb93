#!/usr/bin/env bash
# The test command: installs what it needs, makes sure the services answer,
# lints (ruff, import-linter, mypy), and runs every tier (unit, contract,
# integration, api, chaos) against the real stack.
#
# Without arguments (the full suite, as CI runs it) two passes run at once, each with
# its own PostgreSQL database, Redis server and RabbitMQ vhost, so neither sees the
# other's state or faults (a CLIENT PAUSE, a dropped database):
#   - the first: unit, contract and integration, then the console in Chromium;
#   - the second: api and chaos, then the chaos tier again with RabbitMQ as the broker;
# then, alone, the calendar tests: they run hours of simulated time at up to 7200x, where
# a real millisecond of waiting for a core is seconds of simulated lateness.
# With arguments, pytest runs once with them.
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

database_url="${DIALER_TEST_DATABASE_URL:-postgresql+psycopg://127.0.0.1:5432/dialer_test}"
second_redis_port="${DIALER_TEST_SECOND_REDIS_PORT:-6390}"
second_redis="redis://127.0.0.1:${second_redis_port}"
if [ "$(redis-cli -h 127.0.0.1 -p "$second_redis_port" ping 2>/dev/null)" != "PONG" ]; then
  redis-server --daemonize yes --bind 127.0.0.1 --port "$second_redis_port" --save "" \
    --appendonly no --dir /tmp --logfile "/tmp/dialer-redis-${second_redis_port}.log"
  for _ in $(seq 1 20); do
    [ "$(redis-cli -h 127.0.0.1 -p "$second_redis_port" ping 2>/dev/null)" = "PONG" ] && break
    sleep 0.5
  done
fi
second_amqp="${DIALER_TEST_AMQP_URL_SECOND:-amqp://guest:guest@127.0.0.1:5672/dialer_test_chaos}"
second_log="$(mktemp -t dialer-test-second.XXXXXX.log)"

second_pass() {
  export DIALER_TEST_DATABASE_URL="${database_url}_second"
  export DIALER_TEST_REDIS_URL_STACK="${second_redis}/13"
  export DIALER_TEST_REDIS_URL="${second_redis}/14"
  export DIALER_TEST_AMQP_URL="$second_amqp"
  local status=0
  .venv/bin/python -m pytest -p no:cacheprovider tests/api tests/chaos || status=$?
  echo "[test] the chaos tier again, with RabbitMQ as the broker"
  DIALER_TEST_BROKER_URL="$second_amqp" \
    .venv/bin/python -m pytest -p no:cacheprovider tests/chaos || status=$?
  return "$status"
}

echo "[test] two passes at once: unit+contract+integration+console here;" \
  "api+chaos (Redis, then RabbitMQ broker) beside it, shown when it ends" >&2
second_pass >"$second_log" 2>&1 &
second_pid=$!
first_status=0
calendar=tests/integration/test_calendar_pacing.py
DIALER_TEST_DATABASE_URL="$database_url" .venv/bin/python -m pytest \
  tests/unit tests/contract tests/integration tests/console --ignore="$calendar" \
  || first_status=$?
second_status=0
wait "$second_pid" || second_status=$?
echo "[test] the second pass (api, chaos on Redis, chaos on RabbitMQ):" >&2
cat "$second_log"
rm -f "$second_log"
echo "[test] the calendar tests, alone" >&2
calendar_status=0
DIALER_TEST_DATABASE_URL="$database_url" .venv/bin/python -m pytest "$calendar" \
  || calendar_status=$?
echo "[test] exit: first pass $first_status, second pass $second_status," \
  "calendar $calendar_status" >&2
[ "$first_status" = 0 ] && [ "$second_status" = 0 ] && [ "$calendar_status" = 0 ]
