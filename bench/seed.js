// Seeds a tenant with users and group memberships in SQL (INSERT … SELECT generate_series), far
// faster than the API. Rows are shaped exactly like the server writes them:
//   - data:   the canonical resource (resources/service.ts rowValues: no id, meta, schemas,
//             groups or members), as normalizeResource leaves it;
//   - folded: the same with caseExact=false strings lower-cased (scim/normalize.ts foldResource):
//             userName, name.*, displayName, emails[].value/type are folded; externalId is caseExact;
//   - columns derived as kinds.ts columns(): user_name, external_id, active; server-owned columns
//     at their defaults (activation_state 'pending', is_primary_admin false); version 1.
// Ids are UUIDv7-shaped (48-bit millisecond timestamp, version 7, variant 10) and time-ordered,
// with created_at matching the id's timestamp, like uuid's v7() in the server.
// Secondary indexes are dropped for the bulk load and recreated from their own definitions
// (pg_get_indexdef), so the end state is the migrated schema with the seeded rows.
'use strict';

/** The userName of seeded user i (1-based). Mixed case on purpose: lookups are case-insensitive. */
const userNameOf = (i) => `Bench.User${String(i).padStart(7, '0')}@Example.com`;

const UUID_SQL = (iExpr, msExpr, salt) => `(
  substr(lpad(to_hex(${msExpr}), 12, '0'), 1, 8) || '-' || substr(lpad(to_hex(${msExpr}), 12, '0'), 9, 4) || '-7' ||
  substr(md5(${iExpr}::text || '${salt}'), 1, 3) || '-' || substr('89ab', 1 + (${iExpr} % 4)::int, 1) ||
  substr(md5(${iExpr}::text || '${salt}'), 4, 3) || '-' || substr(md5(${iExpr}::text || '${salt}'), 7, 12))::uuid`;

async function dropSecondaryIndexes(client, table, keep) {
  const r = await client.query(
    `SELECT i.indexname, i.indexdef FROM pg_indexes i
      WHERE i.schemaname = current_schema() AND i.tablename = $1
        AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)`,
    [table],
  );
  const defs = r.rows.filter((x) => !keep.includes(x.indexname));
  for (const d of defs) await client.query(`DROP INDEX ${d.indexname}`);
  return defs;
}

/**
 * Inserts users 1..count for the tenant, then memberships. `log` prints progress; `deadline` (ms
 * since epoch) bounds the whole seeding. Returns timings.
 */
async function seed(client, { tenantId, users, bigGroupId, bigMembers, smallGroupId, smallMembers, log, deadline }) {
  const t0 = Date.now();
  const check = () => {
    if (Date.now() > deadline) throw new Error('seeding exceeded its time limit');
  };
  await client.query("SET maintenance_work_mem = '1GB'");
  await client.query('SET synchronous_commit = off');
  const userIdx = await dropSecondaryIndexes(client, 'users', []);
  const memberIdx = await dropSecondaryIndexes(client, 'group_user_members', []);

  // Timestamps: one millisecond per user, ending a minute before now (so API-created users sort after).
  const baseMs = Date.now() - users - 60_000;
  const batch = 100_000;
  for (let from = 1; from <= users; from += batch) {
    check();
    const to = Math.min(users, from + batch - 1);
    await client.query(
      `INSERT INTO users (tenant_id, id, user_name, external_id, active, activation_state, is_primary_admin,
                          data, folded, version, created_at, updated_at)
       SELECT $1::uuid, ${UUID_SQL('i', 'ms', 'u')}, un, 'ext-' || i, true, 'pending', false,
              jsonb_build_object(
                'name', jsonb_build_object('givenName', 'Bench', 'familyName', 'User' || n),
                'active', true,
                'emails', jsonb_build_array(jsonb_build_object('type', 'work', 'value', un, 'primary', true)),
                'userName', un, 'externalId', 'ext-' || i, 'displayName', 'Bench User' || n),
              jsonb_build_object(
                'name', jsonb_build_object('givenName', 'bench', 'familyName', lower('User' || n)),
                'active', true,
                'emails', jsonb_build_array(jsonb_build_object('type', 'work', 'value', lower(un), 'primary', true)),
                'userName', lower(un), 'externalId', 'ext-' || i, 'displayName', lower('Bench User' || n)),
              1, to_timestamp(ms / 1000.0), to_timestamp(ms / 1000.0)
         FROM (SELECT i, $2::bigint + i AS ms, lpad(i::text, 7, '0') AS n,
                      'Bench.User' || lpad(i::text, 7, '0') || '@Example.com' AS un
                 FROM generate_series($3::int, $4::int) AS i) s`,
      [tenantId, baseMs, from, to],
    );
    log(`  users ${to.toLocaleString('en')} / ${users.toLocaleString('en')} (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
  }
  const tUsers = Date.now();

  // Memberships: the first bigMembers users in the big group, the first smallMembers in the small one.
  // Seeded users are found by user_name (the ids are derived in SQL).
  for (const [groupId, n] of [
    [bigGroupId, bigMembers],
    [smallGroupId, smallMembers],
  ]) {
    for (let from = 1; from <= n; from += 250_000) {
      check();
      const to = Math.min(n, from + 250_000 - 1);
      await client.query(
        `INSERT INTO group_user_members (tenant_id, group_id, user_id)
         SELECT $1::uuid, $2::uuid, ${UUID_SQL('i', '$5::bigint + i', 'u')}
           FROM generate_series($3::int, $4::int) AS i`,
        [tenantId, groupId, from, to, baseMs],
      );
    }
    log(`  ${n.toLocaleString('en')} members added to group ${groupId}`);
  }
  const tMembers = Date.now();

  for (const d of [...userIdx, ...memberIdx]) {
    check();
    const s = Date.now();
    await client.query(d.indexdef);
    log(`  index ${d.indexname} rebuilt (${((Date.now() - s) / 1000).toFixed(1)} s)`);
  }
  const tIndexes = Date.now();
  check();
  await client.query('VACUUM (ANALYZE) users');
  await client.query('VACUUM (ANALYZE) group_user_members');
  await client.query('ANALYZE groups');
  // Flush the seeding's dirty pages now, so a checkpoint does not land in the measurements
  // (needs a superuser or pg_checkpoint; skipped otherwise).
  await client.query('CHECKPOINT').catch(() => log('  CHECKPOINT not permitted; skipped'));
  const tEnd = Date.now();
  return {
    usersSeconds: (tUsers - t0) / 1000,
    membersSeconds: (tMembers - tUsers) / 1000,
    indexesSeconds: (tIndexes - tMembers) / 1000,
    vacuumAnalyzeSeconds: (tEnd - tIndexes) / 1000,
    totalSeconds: (tEnd - t0) / 1000,
  };
}

module.exports = { seed, userNameOf };
