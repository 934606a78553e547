// Server CPU and garbage collection per SCIM read, old and new code alternated (issue 12,
// docs/performance.md "Cheaper reads"). Load-independent where bench/run.js is not: it reads the
// server's own CPU time (utime + stime of /proc/<pid>/stat, every thread of the process) over N
// sequential requests, and counts the young-generation scavenges V8 reports with --trace-gc (a
// proxy for the bytes allocated per request). Not part of the product; loopback only.
//
//   BENCH_DB_URL=postgres://postgres@127.0.0.1:5432/provisio_bench_… \
//   BENCH_ROOTS=/path/to/old,/path/to/new BENCH_PORT=18201 node bench/read-cpu.js
//
// The database is one kept by `BENCH_KEEP_DB=1 npm run bench` (tenant "Big"). Each root is a
// checkout whose server/ is run from the sources (node --import tsx); each round starts every
// root's server in turn, warms it up, then measures lookups and cursor pages. An API token for
// the tenant is inserted (and deleted at the end) so no run's token is needed.
'use strict';
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { Client } = require('pg');
const { sequentialClient, stats } = require('./lib');

const env = process.env;
const DB = env.BENCH_DB_URL;
const ROOTS = (env.BENCH_ROOTS || path.resolve(__dirname, '..')).split(',');
const PORT = Number(env.BENCH_PORT || 18201);
const ROUNDS = Number(env.BENCH_ROUNDS || 3);
const LOOKUPS = Number(env.BENCH_LOOKUPS || 3000);
const PAGES = Number(env.BENCH_PAGES || 300);
const EXTRA = (env.BENCH_NODE_ARGS || '').split(' ').filter(Boolean);
if (!DB) throw new Error('BENCH_DB_URL: a database kept by BENCH_KEEP_DB=1 npm run bench');
const TICK_MS = 1000 / 100; // USER_HZ

function cpuMs(pid) {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return (Number(rest[11]) + Number(rest[12])) * TICK_MS; // utime, stime (fields 14, 15)
}

async function start(root, logFile) {
  const out = fs.openSync(logFile, 'w');
  const child = spawn(process.execPath, [...EXTRA, '--trace-gc', '--import', 'tsx', path.join(root, 'server/main.ts')], {
    cwd: root,
    env: { PATH: env.PATH, HOME: env.HOME, PORT: String(PORT), PUBLIC_URL: `http://127.0.0.1:${PORT}`, DATABASE_URL: DB, LOG_LEVEL: 'warn', DB_POOL_SIZE: '10', NODE_ENV: 'production', MAIL_POLL_MS: '3600000', ...(env.BENCH_POOLER ? { DATABASE_POOLER: env.BENCH_POOLER } : {}) },
    stdio: ['ignore', out, out],
  });
  const http = sequentialClient(PORT);
  const until = Date.now() + 90_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited; see ${logFile}`);
    if (Date.now() > until) throw new Error(`server not ready; see ${logFile}`);
    const r = await http.request('GET', '/readyz', { timeoutMs: 2000 }).catch(() => undefined);
    if (r?.status === 200) break;
    await new Promise((r2) => setTimeout(r2, 200));
  }
  http.close();
  return child;
}

const scavenges = (logFile) => (fs.readFileSync(logFile, 'utf8').match(/Scavenge/g) || []).length;

async function measure(child, logFile, n, fn) {
  const c0 = cpuMs(child.pid);
  const g0 = scavenges(logFile);
  const lat = [];
  for (let i = 0; i < n; i++) lat.push(await fn(i));
  const c1 = cpuMs(child.pid);
  await new Promise((r) => setTimeout(r, 200));
  const g1 = scavenges(logFile);
  return { cpuMsPerRequest: Math.round(((c1 - c0) / n) * 1000) / 1000, scavengesPer1000: Math.round(((g1 - g0) / n) * 1000 * 10) / 10, ...stats(lat) };
}

/**
 * System calls per request (strace -c over n requests, every thread): write/writev count the
 * messages sent (to PostgreSQL and the HTTP client), a load-independent count of round trips.
 */
async function syscalls(pid, n, fn) {
  const out = path.join(__dirname, 'results', `strace-${pid}-${Date.now()}.txt`);
  const st = spawn('strace', ['-f', '-c', '-o', out, '-e', 'trace=write,writev,read,sendto,recvfrom', '-p', String(pid)], { stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, 500));
  for (let i = 0; i < n; i++) await fn(i);
  st.kill('SIGINT');
  await new Promise((r) => st.once('exit', r));
  const counts = {};
  for (const line of fs.readFileSync(out, 'utf8').split('\n')) {
    const m = line.trim().split(/\s+/);
    if (m.length >= 5 && /^[a-z]+$/.test(m[m.length - 1]) && m[m.length - 1] !== 'total') counts[m[m.length - 1]] = Math.round((Number(m[3]) / n) * 100) / 100;
  }
  fs.unlinkSync(out);
  return counts;
}

(async () => {
  const db = new Client({ connectionString: DB });
  await db.connect();
  const tenant = (await db.query(`SELECT id FROM tenants WHERE name = 'Big'`)).rows[0].id;
  const token = crypto.randomBytes(24).toString('base64url');
  const tokenId = crypto.randomUUID();
  await db.query(`INSERT INTO api_tokens (tenant_id, id, name, token_hash, scopes) VALUES ($1, $2, 'read-cpu bench', $3, $4)`, [tenant, tokenId, crypto.createHash('sha256').update(token).digest('hex'), ['scim']]);
  const names = (await db.query(`SELECT user_name FROM users WHERE tenant_id = $1 ORDER BY random() LIMIT 2000`, [tenant])).rows.map((r) => r.user_name);
  const headers = { authorization: `Bearer ${token}` };
  const base = `/scim/v2/${tenant}`;
  const results = [];
  try {
    for (let round = 0; round < ROUNDS; round++) {
      for (const root of ROOTS) {
        const logFile = path.join(__dirname, 'results', `read-cpu-${path.basename(root)}-${round}.log`);
        fs.mkdirSync(path.dirname(logFile), { recursive: true });
        const child = await start(root, logFile);
        const http = sequentialClient(PORT);
        const get = async (p) => {
          const r = await http.request('GET', p, { headers });
          if (r.status !== 200) throw new Error(`${p} → ${r.status} ${r.body.slice(0, 200)}`);
          return r;
        };
        const lookup = async (i) => (await get(`${base}/Users?filter=${encodeURIComponent(`userName eq "${names[i % names.length]}"`)}`)).ms;
        let cursor = '';
        const page = async () => {
          const r = await get(`${base}/Users?count=100&cursor=${encodeURIComponent(cursor)}`);
          cursor = JSON.parse(r.body).nextCursor ?? '';
          return r.ms;
        };
        try {
          for (let i = 0; i < 1000; i++) await lookup(i);
          for (let i = 0; i < 50; i++) await page();
          const lk = await measure(child, logFile, LOOKUPS, lookup);
          const pg = await measure(child, logFile, PAGES, page);
          const row = { round, root, lookup: lk, page: pg };
          if (env.BENCH_STRACE === '1') {
            row.lookupSyscalls = await syscalls(child.pid, 300, lookup);
            row.pageSyscalls = await syscalls(child.pid, 30, page);
          }
          results.push(row);
          console.log(JSON.stringify(row));
        } finally {
          http.close();
          child.kill('SIGTERM');
          await new Promise((r) => child.once('exit', r));
        }
      }
    }
  } finally {
    await db.query('DELETE FROM api_tokens WHERE id = $1', [tokenId]);
    await db.end();
  }
  const med = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  for (const root of ROOTS) {
    const rs = results.filter((r) => r.root === root);
    const pick = (k, f) => med(rs.map((r) => r[k][f]));
    console.log(
      `${root}: lookup CPU ${pick('lookup', 'cpuMsPerRequest')} ms, scavenges/1000 ${pick('lookup', 'scavengesPer1000')}, p50 ${pick('lookup', 'p50')} p99 ${pick('lookup', 'p99')} ms; ` +
        `page of 100 CPU ${pick('page', 'cpuMsPerRequest')} ms, scavenges/1000 ${pick('page', 'scavengesPer1000')}, p50 ${pick('page', 'p50')} p99 ${pick('page', 'p99')} ms (medians of ${rs.length})`,
    );
  }
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
