#!/usr/bin/env bash
# Make sure PostgreSQL and Redis (and with --rabbitmq, for the tests, RabbitMQ)
# answer on 127.0.0.1: use running ones, start installed ones, install them from
# the OS packages when missing and possible; otherwise say what to run and fail.
set -euo pipefail

PG_HOST=127.0.0.1
PG_PORT=5432
REDIS_PORT=6379
AMQP_PORT=5672
# The tests' RabbitMQ vhost (tests/support/broker.py); a DIALER_TEST_AMQP_URL
# of your own is used as it is.
AMQP_VHOST=dialer_test
# The second test pass's vhost (scripts/test.sh runs the chaos tier on RabbitMQ beside
# the main pass, and the main pass's broker tests empty dialer_test's queues).
AMQP_VHOST_SECOND=dialer_test_chaos

say() { printf '[services] %s\n' "$*" >&2; }

pg_up() { command -v pg_isready >/dev/null 2>&1 && pg_isready -q -h "$PG_HOST" -p "$PG_PORT"; }
redis_up() { command -v redis-cli >/dev/null 2>&1 && [ "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null)" = "PONG" ]; }

can_install() { [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; }
apt_updated=
apt_install() {
  if [ -z "$apt_updated" ]; then DEBIAN_FRONTEND=noninteractive apt-get update -qq; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

start_postgres() {
  if command -v pg_ctlcluster >/dev/null 2>&1 && ls /etc/postgresql >/dev/null 2>&1; then
    for version in $(ls /etc/postgresql); do
      pg_ctlcluster --skip-systemctl-redirect "$version" main start 2>/dev/null || true
    done
  fi
}

trust_local_postgres() {
  # A fresh Debian cluster asks for passwords over TCP; the dialer's default
  # URL has none, so trust loopback connections (development machines only).
  local hba
  for hba in /etc/postgresql/*/main/pg_hba.conf; do
    [ -f "$hba" ] || continue
    sed -i -E 's/^(host\s+all\s+all\s+(127\.0\.0\.1\/32|::1\/128)\s+)\S+/\1trust/' "$hba"
  done
}

if ! pg_up; then
  say "PostgreSQL is not answering on $PG_HOST:$PG_PORT; trying to start it"
  start_postgres
  if ! pg_up && ! ls /etc/postgresql >/dev/null 2>&1; then
    if can_install; then
      say "installing PostgreSQL from the OS packages"
      apt_install postgresql postgresql-client
      trust_local_postgres
      start_postgres
      for _ in $(seq 1 30); do pg_up && break; sleep 1; done
      su postgres -c "psql -qc \"DO \\\$\\\$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '$(id -un)') THEN CREATE ROLE \\\"$(id -un)\\\" SUPERUSER LOGIN; END IF; END \\\$\\\$\"" || true
    fi
  fi
  for _ in $(seq 1 30); do pg_up && break; sleep 1; done
fi
if ! pg_up; then
  say "PostgreSQL is still not reachable on $PG_HOST:$PG_PORT."
  say "Install and start it (Debian: 'sudo apt-get install postgresql && sudo pg_ctlcluster 15 main start'),"
  say "or point DIALER_DATABASE_URL at a server you have."
  exit 1
fi

if ! redis_up; then
  say "Redis is not answering on 127.0.0.1:$REDIS_PORT; trying to start it"
  if ! command -v redis-server >/dev/null 2>&1 && can_install; then
    say "installing Redis from the OS packages"
    apt_install redis-server redis-tools
  fi
  if command -v redis-server >/dev/null 2>&1; then
    mkdir -p /var/lib/redis /var/log/redis 2>/dev/null || true
    redis-server --daemonize yes --bind 127.0.0.1 --port "$REDIS_PORT" --save "" \
      --appendonly no --dir /tmp --logfile /tmp/dialer-redis.log || true
    for _ in $(seq 1 20); do redis_up && break; sleep 0.5; done
  fi
fi
if ! redis_up; then
  say "Redis is still not reachable on 127.0.0.1:$REDIS_PORT."
  say "Install and start it (Debian: 'sudo apt-get install redis-server'), or set DIALER_REDIS_URL."
  exit 1
fi
amqp_up() { (exec 3<>"/dev/tcp/127.0.0.1/$AMQP_PORT") 2>/dev/null; }

# RabbitMQ only for the tests (--rabbitmq): the demo and a deployment need no more than Redis.
if [ "${1:-}" = "--rabbitmq" ] && [ -z "${DIALER_TEST_AMQP_URL:-}" ]; then
  if ! amqp_up; then
    say "RabbitMQ is not answering on 127.0.0.1:$AMQP_PORT; trying to start it"
    if ! command -v rabbitmq-server >/dev/null 2>&1 && can_install; then
      say "installing RabbitMQ from the OS packages"
      apt_install rabbitmq-server
    fi
    if command -v rabbitmq-server >/dev/null 2>&1; then
      rabbitmq-server -detached >/dev/null 2>&1 || true
      # The Erlang VM takes a while; await_startup returns once the app runs.
      timeout 120 rabbitmqctl -q await_startup >/dev/null 2>&1 || true
      for _ in $(seq 1 60); do amqp_up && break; sleep 1; done
    fi
  fi
  if ! amqp_up; then
    say "RabbitMQ is still not reachable on 127.0.0.1:$AMQP_PORT."
    say "Install and start it (Debian: 'sudo apt-get install rabbitmq-server'),"
    say "or set DIALER_TEST_AMQP_URL to a vhost of a server you have."
    exit 1
  fi
  if command -v rabbitmqctl >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    for vhost in "$AMQP_VHOST" "$AMQP_VHOST_SECOND"; do
      rabbitmqctl -q list_vhosts 2>/dev/null | grep -qx "$vhost" \
        || rabbitmqctl -q add_vhost "$vhost" >/dev/null
      rabbitmqctl -q set_permissions -p "$vhost" guest ".*" ".*" ".*" >/dev/null
    done
  else
    say "cannot create the RabbitMQ vhost $AMQP_VHOST here (needs root and rabbitmqctl):"
    say "  rabbitmqctl add_vhost $AMQP_VHOST && rabbitmqctl set_permissions -p $AMQP_VHOST guest '.*' '.*' '.*'"
  fi
fi
if [ "${1:-}" = "--rabbitmq" ]; then
  # The README's curl walk-through (run by tests/api/test_readme_http.py) uses curl and jq.
  for tool in curl jq; do
    if ! command -v "$tool" >/dev/null 2>&1; then
      if can_install; then
        say "installing $tool from the OS packages"
        apt_install "$tool"
      else
        say "$tool is missing: the README's HTTP walk-through needs it (apt-get install $tool)"
        exit 1
      fi
    fi
  done
  say "PostgreSQL, Redis and RabbitMQ are up"
else
  say "PostgreSQL and Redis are up"
fi
