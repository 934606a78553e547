#!/usr/bin/env bash
# What a user create costs PostgreSQL, statement by statement, against the bench's raw INSERT
# (docs/performance.md, "A create's cost to the whole machine"). Runs the statements the server
# sends for one POST /Users (as PostgreSQL's log shows them) as pgbench scripts at 10 clients, each
# variant with every statement prepared (-M prepared: parsed and planned once per connection) and
# unnamed (-M extended: parsed and planned on every run), and prints PostgreSQL's CPU per
# transaction: every postgres process's utime+stime, children reaped by the postmaster included,
# from /proc. Needs a built dist/ and pgbench; PostgreSQL on 127.0.0.1:5432 (postgres, trust).
# CPB_SECONDS (12) per variant, CPB_ROUNDS (2) rounds: a checkpoint or a GIN pending-list flush
# landing in one run shows as one run out of line. Everything on 127.0.0.1. Not part of the product.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH=${CPB_SECONDS:-12}
DB=create_pg_cost_$$
PSQL=(psql -h 127.0.0.1 -U postgres -qAt)
DIR=$(mktemp -d)
trap '"${PSQL[@]}" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null; rm -rf "$DIR"' EXIT
"${PSQL[@]}" -c "CREATE DATABASE $DB"
export DATABASE_URL=postgres://postgres@127.0.0.1:5432/$DB LOG_LEVEL=silent
node dist/server/cli.js migrate >/dev/null
node dist/server/cli.js tenants create --name Cost --admin-email admin@cost.example >/dev/null
TID=$("${PSQL[@]}" -d "$DB" -c "SELECT id FROM tenants WHERE name = 'Cost'")
# An activation email's sealed content is about 2.5 kB; random bytes like it, base64url.
SEALED=v1.$(head -c 1900 /dev/urandom | base64 -w0 | tr '+/' '-_' | tr -d '=')
"${PSQL[@]}" -d "$DB" -c "CREATE TABLE raw_users (LIKE users INCLUDING ALL); ALTER TABLE raw_users ADD FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE"

doc="jsonb_build_object('userName', v.un, 'name', jsonb_build_object('givenName', 'A', 'familyName', 'B'), 'active', true, 'roles', jsonb_build_array(jsonb_build_object('value', 'user')), 'emails', jsonb_build_array(jsonb_build_object('type', 'work', 'value', v.un, 'primary', true)))"
newuser="WITH v AS (SELECT gen_random_uuid() AS id, 'pb' || md5(random()::text) || '@example.com' AS un)"
cols="(id, user_name, external_id, active, role, data, folded, created_at, updated_at, tenant_id)"
vals="SELECT v.id, v.un, NULL, true, 'user', $doc, $doc, now(), now(), '$TID' FROM v"
cat >"$DIR/head" <<EOF
BEGIN;
SELECT set_config('provisio.tenant_id', '$TID', true);
EOF
echo 'COMMIT;' >"$DIR/tail"
echo "SELECT key FROM permission_profiles WHERE tenant_id = '$TID' AND is_default FOR KEY SHARE;" >"$DIR/profile"
echo "$newuser, along0 AS (INSERT INTO audit_log (tenant_id, id, at, actor_type, actor_id, action, target_type, target_id, changes) SELECT '$TID'::uuid, gen_random_uuid(), now(), 'token', 'x', 'user.create', 'User', v.id::text, jsonb_build_object('set', $doc) FROM v) INSERT INTO users $cols $vals RETURNING id, data, version, (SELECT t.config_version::text FROM tenants t WHERE t.id = '$TID') AS cv \\gset" >"$DIR/user_audit"
echo "$newuser INSERT INTO users $cols $vals RETURNING id \\gset" >"$DIR/user"
echo "$newuser INSERT INTO raw_users $cols $vals RETURNING id" >"$DIR/raw"
echo "WITH along AS (INSERT INTO one_time_links (tenant_id, id, user_id, purpose, token_hash, email, expires_at, created_at) VALUES ('$TID', gen_random_uuid(), :id, 'activation', md5(random()::text), 'x@example.com', now() + interval '7 days', now())) INSERT INTO outbox (tenant_id, id, template, recipient, subject, sealed, status, attempts, next_attempt_at, created_at) VALUES ('$TID', gen_random_uuid(), 'activation', 'x@example.com', 'Activate', '$SEALED', 'pending', 0, now(), now());" >"$DIR/outbox"
script() { local out="$DIR/$1.sql"; shift; for p in "$@"; do cat "$DIR/$p"; done >"$out"; echo "$out"; }

pg_cpu_ticks() {
  local t=0 line rest
  for s in /proc/[0-9]*/stat; do
    { read -r line <"$s"; } 2>/dev/null || continue
    rest=${line#*(}
    [ "${rest%%)*}" = postgres ] || continue
    set -- ${line##*) }
    t=$((t + ${12} + ${13} + ${14} + ${15}))
  done
  echo "$t"
}
run() { # name mode role script
  local a b out tx
  a=$(pg_cpu_ticks)
  out=$(PGOPTIONS=${3:+-c role=$3} pgbench -h 127.0.0.1 -U postgres -n -M "$2" -c 10 -j 2 -T "$SECONDS_EACH" -f "$4" "$DB" 2>&1) || { echo "$out" >&2; exit 1; }
  b=$(pg_cpu_ticks)
  tx=$(echo "$out" | sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p')
  printf '%-34s %-9s %8s tx/s  %6s ms of PostgreSQL CPU per transaction\n' "$1" "$2" "$(echo "$out" | sed -n 's/^tps = \([0-9]*\).*/\1/p')" "$(echo "scale=3; ($b - $a) * 10 / $tx" | bc)"
}
echo "PostgreSQL CPU per transaction, 10 clients, ${SECONDS_EACH} s each (USER_HZ ticks of 10 ms)"
for round in $(seq 1 "${CPB_ROUNDS:-2}"); do
echo "round $round"
for mode in prepared extended; do
  run 'raw INSERT (the baseline)' $mode '' "$(script raw raw)"
  run 'BEGIN, tenant, COMMIT' $mode provisio_app "$(script empty head tail)"
  run 'default profile FOR KEY SHARE' $mode provisio_app "$(script profile head profile tail)"
  run 'user INSERT alone' $mode provisio_app "$(script user head user tail)"
  run 'user INSERT with its audit row' $mode provisio_app "$(script user_audit head user_audit tail)"
  run 'user + link and outbox row' $mode provisio_app "$(script user_outbox head user outbox tail)"
  run 'the whole create' $mode provisio_app "$(script full head profile user_audit outbox tail)"
done
done
