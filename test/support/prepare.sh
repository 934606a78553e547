#!/usr/bin/env bash
# Runs before `npm test` (the `pretest` script), so the README's test command works on a fresh
# machine of ours: it starts the machine's PostgreSQL when it is down (the api:postgres project
# needs it) and installs Debian's Chromium when /usr/bin/chromium is missing (the browser project
# drives it; `npx playwright install` cannot download a browser here). It changes nothing when
# both are already there, and says what it does otherwise.
set -euo pipefail

if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
  if ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
    echo "pretest: starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start || true
  fi
  for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null && break; sleep 1; done
fi

CHROMIUM="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [ ! -x "$CHROMIUM" ]; then
  echo "pretest: $CHROMIUM is missing; installing Debian's chromium package for the browser tests"
  as_root=()
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
      as_root=(sudo -n)
    else
      echo "pretest: installing chromium needs root; run: apt-get update && apt-get install -y chromium" >&2
      exit 1
    fi
  fi
  echo "pretest: + apt-get update"
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
  echo "pretest: + apt-get install -y --no-install-recommends chromium"
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium
  echo "pretest: installed $("$CHROMIUM" --version 2>/dev/null || true)"
fi
