// Baselines measured in the same run as the server. GET /lookup, for GET /Users?filter=userName eq "…": the smallest express + pg endpoint doing the same
// indexed lookup (users (tenant_id, user_name_ci), the lower-cased userName) with the same pool size as the server.
// Started by bench/run.js as a child process (its own event loop, like the SCIM server), on
// 127.0.0.1 at a random port which it reports over IPC. Not part of the product.
'use strict';
const express = require('express');
const { Pool } = require('pg');

const pool = new Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.DB_POOL_SIZE || 10) });
const tenantId = process.env.TENANT_ID;
const app = express();
app.get('/lookup', async (req, res) => {
  try {
    const r = await pool.query(
      'SELECT id, data, version, created_at, updated_at FROM users WHERE tenant_id = $1 AND user_name_ci = $2',
      [tenantId, String(req.query.u ?? '').toLowerCase()],
    );
    res.json({ totalResults: r.rows.length, Resources: r.rows });
  } catch (err) {
    res.status(500).json({ detail: err.message });
  }
});
// Baseline for GET /api/v1/users/{id}/permissions: the user's row by primary key, one statement.
app.get('/by-id', async (req, res) => {
  try {
    const r = await pool.query('SELECT id, data, version, created_at, updated_at FROM users WHERE tenant_id = $1 AND id = $2', [tenantId, String(req.query.id ?? '')]);
    if (!r.rows.length) return res.status(404).json({ detail: 'not found' });
    res.json(r.rows[0]);
  } catch (err) {
    res.status(500).json({ detail: err.message });
  }
});
// Baseline for PATCH /Groups/{id} adding one member (issue 12): the membership row inserted in one
// statement, nothing else (no transaction, lock, check, version or audit).
app.post('/insert-member', async (req, res) => {
  try {
    await pool.query('INSERT INTO group_user_members (tenant_id, group_id, user_id) VALUES ($1, $2, $3)', [tenantId, String(req.query.g ?? ''), String(req.query.u ?? '')]);
    res.status(204).end();
  } catch (err) {
    res.status(500).json({ detail: err.message });
  }
});
// Baseline for cursor pages and the first page of GET /Users: a bare keyset page of 100 in id
// order, after the id given (the first page without one), one statement.
app.get('/page', async (req, res) => {
  try {
    const after = typeof req.query.after === 'string' && req.query.after ? req.query.after : '00000000-0000-0000-0000-000000000000';
    const r = await pool.query('SELECT id, data, version, created_at, updated_at FROM users WHERE tenant_id = $1 AND id > $2 ORDER BY id LIMIT 100', [tenantId, after]);
    res.json({ Resources: r.rows, next: r.rows.length ? r.rows[r.rows.length - 1].id : null });
  } catch (err) {
    res.status(500).json({ detail: err.message });
  }
});
const server = app.listen(0, '127.0.0.1', () => process.send?.({ port: server.address().port }));
process.on('SIGTERM', () => {
  server.close();
  pool.end().finally(() => process.exit(0));
});
