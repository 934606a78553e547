// A baseline for POST /Users (docs/performance.md, "Where issue 12's targets stand"): the
// smallest express + pg endpoint that writes what a Provisio create writes, in one transaction,
// with the statements the server sends (PostgreSQL's statement log), prepared, as the application
// role under row-level security: the tenant setting, the default profile
// FOR KEY SHARE, the user INSERT with its audit row as a CTE (its triggers: email side table, kept
// count), the activation link with its outbox row. No validation, no authority, no schema, no
// email rendering or sealing (a fixed 2.5 kB stands in for the sealed content). Started by
// bench/run.js as a child process on 127.0.0.1 at a random port reported over IPC. Not
// part of the product.
'use strict';
const crypto = require('node:crypto');
const express = require('express');
const { Pool } = require('pg');

const pool = new Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.DB_POOL_SIZE || 10) });
pool.on('connect', (client) => client.query('SET ROLE provisio_app'));
const tenantId = process.env.TENANT_ID;
const SEALED = 'v1.' + crypto.randomBytes(1900).toString('base64url');
const named = (name, text) => (values) => ({ name, text, values });
const setTenant = named('bare_tenant', "SELECT set_config('provisio.tenant_id', $1, true)");
const profile = named('bare_profile', 'SELECT key FROM permission_profiles WHERE tenant_id = $1 AND is_default FOR KEY SHARE');
const insertUser = named(
  'bare_user',
  `WITH along0 AS (INSERT INTO audit_log (tenant_id, id, at, actor_type, actor_id, action, target_type, target_id, changes)
                   SELECT $1::uuid, $2::uuid, $3::timestamptz, 'token', 'bare', 'user.create', 'User', $4::uuid::text, $5::jsonb)
   INSERT INTO users (id, user_name, external_id, active, role, data, folded, created_at, updated_at, tenant_id)
   VALUES ($4, $6, $7, true, 'user', $8, $9, $3, $3, $1)
   RETURNING id, data, version, created_at, updated_at, (SELECT t.config_version::text FROM tenants t WHERE t.id = $1) AS config_version`,
);
const insertMail = named(
  'bare_mail',
  `WITH along AS (INSERT INTO one_time_links (tenant_id, id, user_id, purpose, token_hash, email, expires_at, created_at)
                  VALUES ($1, $2, $3, 'activation', $4, $5, $6, $7))
   INSERT INTO outbox (tenant_id, id, template, recipient, subject, sealed, status, attempts, next_attempt_at, created_at)
   VALUES ($1, $8, 'activation', $5, 'Activate your account', $9, 'pending', 0, $7, $7)`,
);
const fold = (v) => (typeof v === 'string' ? v.toLowerCase() : Array.isArray(v) ? v.map(fold) : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, fold(x)])) : v);

const app = express();
app.use(express.json({ type: ['application/json', 'application/scim+json'] }));
app.post('/Users', async (req, res) => {
  const body = req.body;
  const client = await pool.connect();
  try {
    const now = new Date();
    const id = crypto.randomUUID();
    const { schemas, ...data } = body;
    const email = String(data.emails?.[0]?.value ?? data.userName).toLowerCase();
    await client.query('BEGIN');
    await client.query(setTenant([tenantId]));
    await client.query(profile([tenantId]));
    const r = await client.query(insertUser([tenantId, crypto.randomUUID(), now, id, JSON.stringify({ set: data }), data.userName, data.externalId ?? null, JSON.stringify(data), JSON.stringify(fold(data))]));
    const expires = new Date(now.getTime() + 7 * 24 * 3600 * 1000);
    const tokenHash = crypto.createHash('sha256').update(crypto.randomBytes(32)).digest('hex');
    await client.query(insertMail([tenantId, crypto.randomUUID(), id, tokenHash, email, expires, now, crypto.randomUUID(), SEALED]));
    await client.query('COMMIT');
    const row = r.rows[0];
    res.status(201).json({ schemas, id: row.id, ...row.data, meta: { resourceType: 'User', created: row.created_at, lastModified: row.updated_at, version: `W/"${row.version}"` } });
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    res.status(500).json({ detail: err.message });
  } finally {
    client.release();
  }
});
const server = app.listen(0, '127.0.0.1', () => process.send?.({ port: server.address().port }));
process.on('SIGTERM', () => {
  server.close();
  pool.end().finally(() => process.exit(0));
});
