// The cost of one POST /Users, old and new code alternated (docs/performance.md, "Fewer round trips
// per create"): `node bench/create-cost.js <root> [<root> …]`, each root a checkout with a built
// dist/ (e.g. main's, unpacked with `git archive` beside, node_modules linked). Per root and round,
// a fresh database, the server's own start() in a child process (bench/create-cost-child.js), a
// tenant, 300 warm-up creates, then M_N creates sequentially and M_N more at M_C concurrent, with
// the server's CPU (process.cpuUsage) and its pg round trips (Client#query calls) counted over
// exactly those requests. M_TEXTS=1 also prints each statement made at least once per create.
// M_PORT (18101) and the next port; M_ROUNDS (2). Everything on 127.0.0.1. Not part of the product.
// Beside the server's CPU it prints PostgreSQL's (every `postgres` process's utime+stime from
// /proc, 10 ms ticks) and this client's, per create, and the same three for the bench's raw
// single-row INSERT at M_C concurrent into a copy of the users table (`raw` in each line; M_RAW=0
// leaves it out): what a create costs the whole machine against what the baseline costs it.
'use strict';
const { fork } = require('node:child_process');
const http = require('node:http');
const crypto = require('node:crypto');
const { Client } = require('pg');
const fs = require('node:fs');
const [, , ...roots] = process.argv;
const TICK_MS = 10; // USER_HZ is 100 on Linux
/** CPU ms used so far by every process whose command is postgres (backends and background workers). */
function pgCpuMs() {
  let ticks = 0;
  for (const pid of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    let stat;
    try { stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8'); } catch { continue; }
    const close = stat.lastIndexOf(')');
    if (stat.slice(stat.indexOf('(') + 1, close) !== 'postgres') continue;
    const f = stat.slice(close + 2).split(' ');
    ticks += Number(f[11]) + Number(f[12]); // utime, stime (fields 14 and 15)
  }
  return ticks * TICK_MS;
}
const selfCpuMs = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
const PORT = Number(process.env.M_PORT || 18101);
const N = Number(process.env.M_N || 1000);
const C = Number(process.env.M_C || 10);
const ROUNDS = Number(process.env.M_ROUNDS || 2);
const TOKEN = crypto.randomBytes(18).toString('base64url');
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
function req(method, p, token, body) {
  return new Promise((resolve, reject) => {
    const data = body ? JSON.stringify(body) : undefined;
    const r = http.request({ host: '127.0.0.1', port: PORT, method, path: p, agent, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/scim+json', ...(data ? { 'content-length': Buffer.byteLength(data) } : {}) } }, (res) => {
      let b = '';
      res.on('data', (c) => (b += c));
      res.on('end', () => resolve({ status: res.statusCode, body: b }));
    });
    r.on('error', reject);
    if (data) r.write(data);
    r.end();
  });
}
const user = (p, i) => ({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: `${p}.${i}@Example.com`, externalId: `${p}-${i}`, name: { givenName: 'Load', familyName: `User${i}` }, displayName: `Load User${i}`, emails: [{ value: `${p}.${i}@Example.com`, type: 'work', primary: true }], active: true });
async function run(root, dbUrl, tag) {
  const child = fork(require('node:path').join(__dirname, 'create-cost-child.js'), [], { execArgv: process.env.M_PROF ? ['--cpu-prof', '--cpu-prof-dir=' + require('node:os').tmpdir() + '/create-cost-prof'] : [], env: { PATH: process.env.PATH, M_ROOT: root, M_TEXTS: process.env.M_TEXTS || '0', M_STAT_PORT: String(PORT + 1), PORT: String(PORT), PUBLIC_URL: `http://127.0.0.1:${PORT}`, DATABASE_URL: dbUrl, OPERATOR_TOKEN: TOKEN, LOG_LEVEL: 'warn', DB_POOL_SIZE: '10', NODE_ENV: 'production', MAIL_POLL_MS: '3600000', EVENTS_PUSH_POLL_MS: '3600000' }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  let seq = 0; const pend = new Map();
  await new Promise((res, rej) => { child.on('message', (m) => { if (m.ready) return res(); pend.get(m.id)?.(m); }); child.once('exit', (c) => rej(new Error('child exited ' + c))); });
  const call = (cmd) => new Promise((res, rej) => http.get({ host: '127.0.0.1', port: PORT + 1, path: '/' + cmd }, (r) => { let b = ''; r.on('data', (c) => (b += c)); r.on('end', () => res(JSON.parse(b))); }).on('error', rej));
  const t = await req('POST', '/operator/v1/tenants', TOKEN, { name: `M ${tag}`, adminEmail: `admin@${tag}.example` });
  if (t.status !== 201) { child.kill(); throw new Error(t.body); }
  const { id, token } = JSON.parse(t.body);
  const path = `/scim/v2/${id}/Users`;
  const create = async (p, i) => { const r = await req('POST', path, token, user(p, i)); if (r.status !== 201) throw new Error(`${r.status} ${r.body}`); };
  for (let i = 0; i < 300; i++) await create('warm', i);
  await call('reset');
  const a = await call('stat');
  const pgB = pgCpuMs();
  for (let i = 0; i < N; i++) { const s = Date.now(); await create('seq', i);  }
  const b = await call('stat');
  let next = 0;
  const pg0 = pgCpuMs();
  const me0 = selfCpuMs();
  const t0 = Date.now();
  await Promise.all(Array.from({ length: C }, async () => { while (next < N) await create('conc', next++); }));
  const wall = Date.now() - t0;
  const me1 = selfCpuMs();
  const pg1 = pgCpuMs();
  const c = await call('stat');
  const cpu = (x, y) => (y.cpu.user - x.cpu.user + y.cpu.system - x.cpu.system) / 1000;
  const out = { tag, seqCpuMs: +(cpu(a, b) / N).toFixed(3), seqRoundTrips: +((b.queries - a.queries) / N).toFixed(2), concCpuMs: +(cpu(b, c) / N).toFixed(3), concRoundTrips: +((c.queries - b.queries) / N).toFixed(2), concRate: Math.round((N / wall) * 1000), concSysMs: +((c.cpu.system - b.cpu.system) / 1000 / N).toFixed(3), concPgCpuMs: +((pg1 - pg0) / N).toFixed(3), concClientCpuMs: +((me1 - me0) / N).toFixed(3) };
  if (process.env.M_TEXTS === '1') out.texts = b.texts.filter(([, n]) => n >= N / 2).map(([k, n]) => `${(n / N).toFixed(2)} ${k}`);
  await call('stop').catch(() => {});
  await new Promise((r) => child.once('exit', r));
  if (process.env.M_RAW !== '0') out.raw = await raw(dbUrl, id);
  return out;
}

/** The bench's raw INSERT baseline (bench/run.js rawInsertBaseline), N rows at C concurrent. */
async function raw(dbUrl, tenantId) {
  const { Pool } = require('pg');
  const pool = new Pool({ connectionString: dbUrl, max: C });
  pool.on('error', () => {}); // a connection the DROP DATABASE … WITH (FORCE) ends after the pool's end()
  await pool.query('CREATE TABLE IF NOT EXISTS cost_raw_users (LIKE users INCLUDING ALL)');
  const sql = `INSERT INTO cost_raw_users (tenant_id, id, user_name, external_id, active, data, folded, created_at, updated_at)
               VALUES ($1, gen_random_uuid(), $2, $3, true, $4, $5, now(), now())
               RETURNING id, data, version, created_at, updated_at, active, activation_state, is_primary_admin, privacy_accepted_at`;
  const row = (i) => { const u = user('raw', i); return [tenantId, u.userName, u.externalId, JSON.stringify(u), JSON.stringify({ ...u, userName: u.userName.toLowerCase() })]; };
  for (let i = 0; i < 300; i++) await pool.query(sql, row(-1 - i));
  let next = 0;
  const pg0 = pgCpuMs();
  const me0 = selfCpuMs();
  const t0 = Date.now();
  await Promise.all(Array.from({ length: C }, async () => { while (next < N) await pool.query(sql, row(next++)); }));
  const wall = Date.now() - t0;
  const out = { rate: Math.round((N / wall) * 1000), pgCpuMs: +((pgCpuMs() - pg0) / N).toFixed(3), clientCpuMs: +((selfCpuMs() - me0) / N).toFixed(3) };
  await pool.end();
  return out;
}
(async () => {
  const admin = new Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' });
  await admin.connect();
  const results = [];
  for (let round = 0; round < ROUNDS; round++) {
    for (const [i, root] of roots.entries()) {
      const db = `create_cost_${Date.now()}_${i}`; const tagv = `t${i}r${round}`;
      await admin.query(`CREATE DATABASE ${db}`);
      try {
        const r = await run(root, `postgres://postgres@127.0.0.1:5432/${db}`, tagv);
        r.root = root; results.push(r);
        console.log(JSON.stringify(r));
      } finally {
        await admin.query(`DROP DATABASE ${db} WITH (FORCE)`);
      }
    }
  }
  await admin.end();
  agent.destroy();
})().catch((e) => { console.error(e); process.exit(1); });
