#!/usr/bin/env bash
# Create .venv and install the project (with test extras) into it; idempotent.
# Quiet: pip's log goes to .venv/install.log; the terminal gets one summary
# line, or the log's tail when the install fails.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.installed-$(sha1sum pyproject.toml | cut -c1-12)
if [ ! -f "$stamp" ]; then
  log=.venv/install.log
  started=$(date +%s)
  printf '[install] installing the dialer and its test tools into .venv ...\n' >&2
  if ! { .venv/bin/python -m pip install --disable-pip-version-check -q --upgrade pip \
         && .venv/bin/python -m pip install --disable-pip-version-check -q -e ".[test]"; } \
         >"$log" 2>&1; then
    printf '[install] failed; the last lines of %s:\n' "$log" >&2
    tail -n 30 "$log" >&2
    exit 1
  fi
  count=$(.venv/bin/python -m pip list --disable-pip-version-check --format=freeze 2>/dev/null | wc -l)
  printf '[install] done in %ss: %s packages in .venv (pip log: %s)\n' \
    "$(( $(date +%s) - started ))" "$count" "$log" >&2
  rm -f .venv/.installed-*
  touch "$stamp"
fi

# The console's browser tests drive Debian's Chromium (Playwright cannot download its own
# here). Installed once, quietly, when missing and we may (root, apt).
if [ ! -x "${DIALER_TEST_CHROMIUM:-/usr/bin/chromium}" ] && command -v apt-get >/dev/null \
   && [ "$(id -u)" = 0 ]; then
  printf '[install] installing Debian'"'"'s chromium for the console tests ...\n' >&2
  log=.venv/apt-chromium.log
  if ! { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; } \
       >"$log" 2>&1; then
    printf '[install] chromium failed; the last lines of %s:\n' "$log" >&2
    tail -n 20 "$log" >&2
    exit 1
  fi
  printf '[install] chromium: %s\n' "$(/usr/bin/chromium --version 2>/dev/null)" >&2
fi
