#!/usr/bin/env bash
# Runs before `npm test` (the `pretest` script), so the README's test command works on a fresh
# machine of ours: it starts the machine's PostgreSQL when it is down (the api:postgres project
# needs it), installs Debian's Chromium when /usr/bin/chromium is missing (the browser project
# drives it; `npx playwright install` cannot download a browser here) and Debian's pgbouncer when
# it is missing (the api:pgbouncer project starts its own PgBouncer, test/support/pgbouncer.ts).
# It changes nothing when all are already there, and says what it does otherwise.
set -euo pipefail

if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
  if ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
    echo "pretest: starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start || true
  fi
  for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null && break; sleep 1; done
fi

# Installs Debian packages as root (directly, or through password-less sudo).
apt_install() {
  local as_root=()
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
      as_root=(sudo -n)
    else
      echo "pretest: installing $* needs root; run: apt-get update && apt-get install -y $*" >&2
      exit 1
    fi
  fi
  echo "pretest: + apt-get update"
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
  echo "pretest: + apt-get install -y --no-install-recommends $*"
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@"
}

CHROMIUM="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [ ! -x "$CHROMIUM" ]; then
  echo "pretest: $CHROMIUM is missing; installing Debian's chromium package for the browser tests"
  apt_install chromium
  echo "pretest: installed $("$CHROMIUM" --version 2>/dev/null || true)"
fi

PGBOUNCER="${PGBOUNCER_PATH:-/usr/sbin/pgbouncer}"
if [ ! -x "$PGBOUNCER" ]; then
  echo "pretest: $PGBOUNCER is missing; installing Debian's pgbouncer package for the api:pgbouncer tests"
  apt_install pgbouncer
  echo "pretest: installed $("$PGBOUNCER" --version 2>/dev/null | head -n 1 || true)"
fi
