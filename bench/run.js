// Provisio benchmark (issue 3, "Benchmark"): `npm run bench` (docs/performance.md).
// Creates a fresh PostgreSQL database, starts the real server on it as a child process, seeds a
// tenant with BENCH_USERS users and a BENCH_GROUP_MEMBERS-member group in SQL, drives the server
// over loopback with autocannon / a sequential keep-alive client, measures raw pg baselines with the
// same pool size in the same run, prints a table with ratios and targets, writes the same as JSON
// to bench/results/, and drops the database at the end (also on failure or Ctrl-C).
// Every loop is bounded by a count and a time limit; the whole run by BENCH_MAX_MINUTES.
'use strict';
const { spawn, fork } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { Client, Pool } = require('pg');
const { v7: uuidv7 } = require('uuid');
const { seed, userNameOf } = require('./seed');
const { sequentialClient, sequential, interleaved, alternated, stats, load, rssSampler, table } = require('./lib');
const { syncScenario, mailScenario, twoScenario, reportRows } = require('./issue12');

const ROOT = path.resolve(__dirname, '..');
const env = process.env;
const int = (k, d) => {
  const v = env[k];
  if (v === undefined || v === '') return d;
  const n = Number(v.replace(/_/g, ''));
  if (!Number.isInteger(n) || n < 0) throw new Error(`${k} must be a whole number, got "${v}"`);
  return n;
};

const CFG = {
  adminUrl: env.BENCH_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres',
  users: int('BENCH_USERS', 1_000_000),
  groupMembers: undefined, // below: default 500,000 or half the users
  poolSize: int('BENCH_POOL_SIZE', 10),
  connections: int('BENCH_CONNECTIONS', 50),
  loadSeconds: int('BENCH_DURATION', 10),
  seqRequests: int('BENCH_SEQ_REQUESTS', 1000),
  emailRequests: int('BENCH_EMAIL_REQUESTS', 300),
  // 2,000 per group: a p99 of 500 requests is their 5th-slowest, where one checkpoint or GC pause
  // decides the ratio (1.73 in a run of 500 on 2026-12-04, 0.97 in one of 3,000 the same day).
  patchRequests: int('BENCH_PATCH_REQUESTS', 2000),
  patch100Requests: int('BENCH_PATCH100_REQUESTS', 100),
  cursorPages: int('BENCH_CURSOR_PAGES', 300),
  permissionUsers: Math.max(1, int('BENCH_PERMISSION_USERS', 200)),
  maxMinutes: int('BENCH_MAX_MINUTES', 25),
  // dist: node dist/server/main.js (built by npm install); tsx: node --import tsx server/main.ts;
  // auto (default): dist, unless a file under server/ is newer than it (then the sources, via tsx).
  server: env.BENCH_SERVER || 'auto',
  port: int('BENCH_PORT', 18080),
  keepDb: env.BENCH_KEEP_DB === '1',
  // Issue 12 (bench/issue12.js). BENCH_ONLY: a comma-separated subset of core (sections 1-7),
  // sync, mail, two — e.g. BENCH_ONLY=sync,mail,two BENCH_USERS=1000 for the issue-12 scenarios alone.
  only: (env.BENCH_ONLY || 'core,sync,mail,two').split(',').map((x) => x.trim()).filter(Boolean),
  syncUsers: int('BENCH_SYNC_USERS', 20_000),
  syncClients: Math.max(1, int('BENCH_SYNC_CLIENTS', 10)),
  syncGroups: Math.max(1, int('BENCH_SYNC_GROUPS', 10)),
  syncSeconds: Math.max(1, int('BENCH_SYNC_SECONDS', 300)),
  mailUsers: int('BENCH_MAIL_USERS', 1_000),
  // The bare create server's pool (startBareCreate): a connection per load connection.
  bareCreatePool: int('BENCH_BARE_POOL', int('BENCH_CONNECTIONS', 50)),
  twoUsers: int('BENCH_TWO_USERS', 1_000),
  purgeSubAccounts: Math.max(1, int('BENCH_PURGE_SUBACCOUNTS', 20)),
};
for (const k of CFG.only) if (!['core', 'sync', 'mail', 'two'].includes(k)) throw new Error(`BENCH_ONLY: unknown scenario "${k}" (core, sync, mail, two)`);
const runs = (k) => CFG.only.includes(k);
let scenarioFailed;
CFG.groupMembers = int('BENCH_GROUP_MEMBERS', Math.min(500_000, Math.floor(CFG.users / 2)));
if (CFG.groupMembers > CFG.users) throw new Error('BENCH_GROUP_MEMBERS cannot exceed BENCH_USERS');

if (CFG.server === 'auto') {
  const built = path.join(ROOT, 'dist/server/main.js');
  const newest = (dir) =>
    fs.readdirSync(dir, { withFileTypes: true }).reduce((m, e) => {
      const p = path.join(dir, e.name);
      return Math.max(m, e.isDirectory() ? newest(p) : e.name.endsWith('.ts') ? fs.statSync(p).mtimeMs : 0);
    }, 0);
  CFG.server = fs.existsSync(built) && fs.statSync(built).mtimeMs >= newest(path.join(ROOT, 'server')) ? 'dist' : 'tsx';
  if (CFG.server === 'tsx') console.log('dist/ is older than server/: running the sources with tsx (npm run build to use dist)');
}

const SMALL_MEMBERS = 5;
const OPERATOR_TOKEN = crypto.randomBytes(24).toString('base64url');
const PATCH_URN = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const startedAt = new Date();
const deadline = Date.now() + CFG.maxMinutes * 60_000;
const log = (...a) => console.log(`[${((Date.now() - startedAt.getTime()) / 1000).toFixed(0).padStart(4)} s]`, ...a);
const remaining = () => Math.max(0, (deadline - Date.now()) / 1000);
/** A phase's time limit, never past the run's deadline. */
const limit = (s) => Math.max(1, Math.min(s, remaining() - 30));

const dbName = `provisio_bench_${startedAt.getTime()}_${process.pid}`;
const dbUrl = (() => {
  const u = new URL(CFG.adminUrl);
  u.pathname = `/${dbName}`;
  return u.toString();
})();
const resultsDir = path.join(__dirname, 'results');
fs.mkdirSync(resultsDir, { recursive: true });
const stamp = startedAt.toISOString().replace(/[:.]/g, '-');

const children = [];
let dbCreated = false;
let cleaning;

async function adminQuery(sql) {
  const c = new Client({ connectionString: CFG.adminUrl });
  await c.connect();
  try {
    return await c.query(sql);
  } finally {
    await c.end();
  }
}

function stopChild(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const t = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

async function cleanup() {
  cleaning ??= (async () => {
    for (const c of children) await stopChild(c).catch(() => {});
    if (dbCreated && !CFG.keepDb) {
      await adminQuery(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`).then(
        () => log(`dropped database ${dbName}`),
        (e) => log(`could not drop database ${dbName}: ${e.message}`),
      );
    } else if (dbCreated) {
      log(`BENCH_KEEP_DB=1: database kept: ${dbUrl}`);
    }
  })();
  return cleaning;
}
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.once(sig, () => {
    log(`${sig}: cleaning up`);
    cleanup().finally(() => process.exit(130));
  });
}

async function startServer(logFile, port = CFG.port) {
  const args =
    CFG.server === 'tsx' ? ['--import', 'tsx', path.join(ROOT, 'server/main.ts')] : [path.join(ROOT, 'dist/server/main.js')];
  if (CFG.server !== 'tsx' && !fs.existsSync(args[0])) throw new Error('dist/server/main.js is missing: run `npm install` (it builds) or `npm run build`');
  const out = fs.openSync(logFile, 'a');
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: {
      PATH: env.PATH,
      HOME: env.HOME,
      PORT: String(port),
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      DATABASE_URL: dbUrl,
      OPERATOR_TOKEN,
      LOG_LEVEL: 'warn',
      DB_POOL_SIZE: String(CFG.poolSize),
      NODE_ENV: 'production',
      // Every POST /Users queues an activation email; the mail worker (kept mail: no SMTP) works
      // through them during the load. BENCH_MAIL_POLL_MS=3600000 keeps it out of a run.
      ...(env.BENCH_MAIL_POLL_MS ? { MAIL_POLL_MS: env.BENCH_MAIL_POLL_MS } : {}),
    },
    stdio: ['ignore', out, out],
  });
  children.push(child);
  const http = sequentialClient(port);
  const until = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the server exited with code ${child.exitCode}; see ${logFile}`);
    if (Date.now() > until) throw new Error(`the server did not become ready within 60 s; see ${logFile}`);
    const r = await http.request('GET', '/readyz', { timeoutMs: 2000 }).catch(() => undefined);
    if (r?.status === 200) break;
    await new Promise((res) => setTimeout(res, 200));
  }
  http.close();
  return child;
}

const startRawLookup = (tenantId) => startBaseline('raw-lookup-server.js', tenantId);
// pg sends a client's statements one at a time, so the bare create's six round trips (the server
// pipelines its create into three) would bound it by latency at the server's pool of 10: a
// connection per load connection (BENCH_BARE_POOL, default 50) makes it bound by CPU rather than
// by its round trips, as a baseline should be.
const startBareCreate = (tenantId) => startBaseline('bare-create-server.js', tenantId, CFG.bareCreatePool);

function startBaseline(file, tenantId, poolSize = CFG.poolSize) {
  return new Promise((resolve, reject) => {
    const child = fork(path.join(__dirname, file), [], {
      env: { PATH: env.PATH, DATABASE_URL: dbUrl, DB_POOL_SIZE: String(poolSize), TENANT_ID: tenantId, NODE_ENV: 'production' },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    children.push(child);
    const t = setTimeout(() => reject(new Error(`${file} did not start`)), 15_000);
    child.once('message', (m) => {
      clearTimeout(t);
      resolve({ child, port: m.port });
    });
    child.once('exit', (code) => reject(new Error(`${file} exited (${code})`)));
  });
}

/** A user body like an IdP sends; `n` makes it unique. */
const newUser = (prefix, n) => {
  const un = `${prefix}.${n}@Example.com`;
  return {
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
    userName: un,
    externalId: `${prefix}-ext-${n}`,
    name: { givenName: 'Load', familyName: `User${n}` },
    displayName: `Load User${n}`,
    emails: [{ value: un, type: 'work', primary: true }],
    active: true,
  };
};

/** Columns of the same row as the server writes it (resources/service.ts rowValues). */
function rawRow(tenantId, n) {
  const u = newUser('raw', n);
  delete u.schemas;
  const folded = { ...u, userName: u.userName.toLowerCase(), name: { givenName: 'load', familyName: `user${n}` }, displayName: u.displayName.toLowerCase(), emails: [{ value: u.userName.toLowerCase(), type: 'work', primary: true }] };
  const now = new Date();
  return [tenantId, uuidv7(), u.userName, u.externalId, true, JSON.stringify(u), JSON.stringify(folded), now, now];
}

let rawInsertRows = 0;
async function rawInsertBaseline(tenantId, seconds) {
  const pool = new Pool({ connectionString: dbUrl, max: CFG.poolSize });
  const admin = await pool.connect();
  // The same table: columns, defaults, checks and every index (btree, unique lower(), partial, GIN),
  // plus the tenant foreign key.
  // Made once; later rounds (bench/lib.js alternated) insert into the same table, row numbers
  // going on from the last round's (unique userName).
  if (!(await admin.query("SELECT to_regclass('bench_raw_users') AS t")).rows[0].t) {
    await admin.query('CREATE TABLE bench_raw_users (LIKE users INCLUDING ALL)');
    await admin.query('ALTER TABLE bench_raw_users ADD FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE');
  }
  admin.release();
  const sql = `INSERT INTO bench_raw_users (tenant_id, id, user_name, external_id, active, data, folded, created_at, updated_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
               RETURNING id, data, version, created_at, updated_at, active, activation_state, is_primary_admin, privacy_accepted_at`;
  let ok = 0;
  let errors = 0;
  const lat = [];
  const until = Date.now() + seconds * 1000;
  const start = Date.now();
  const worker = async () => {
    while (Date.now() < until) {
      const t = process.hrtime.bigint();
      try {
        await pool.query(sql, rawRow(tenantId, ++rawInsertRows));
        ok++;
        lat.push(Number(process.hrtime.bigint() - t) / 1e6);
      } catch {
        errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: CFG.connections }, worker));
  const secs = (Date.now() - start) / 1000;
  await pool.end();
  const s = stats(lat);
  return { connections: CFG.connections, seconds: secs, ok, errors, rate: Math.round((ok / secs) * 10) / 10, latency: { p50: s.p50, p99: s.p99, max: s.max } };
}

let results;
async function main() {
  results = {
    startedAt: startedAt.toISOString(),
    machine: { cpus: require('node:os').cpus().length, cpuModel: require('node:os').cpus()[0]?.model, memGB: Math.round(require('node:os').totalmem() / 2 ** 30), node: process.version },
    config: { ...CFG, adminUrl: undefined, database: dbName },
    figures: {},
  };
  const F = results.figures;
  const serverLog = path.join(resultsDir, `server-${stamp}.log`);
  log(`Provisio benchmark: ${runs('core') ? `${CFG.users.toLocaleString('en')} users, ${CFG.groupMembers.toLocaleString('en')}-member group, ` : `${CFG.only.join(', ')} only, `}pool ${CFG.poolSize}, ${CFG.connections} connections, server=${CFG.server}`);

  await adminQuery(`CREATE DATABASE "${dbName}"`);
  dbCreated = true;
  results.postgres = (await adminQuery('SELECT version() AS v')).rows[0].v;
  log(`created database ${dbName}`);

  const server = await startServer(serverLog);
  const rss = rssSampler(server.pid, 100);
  log(`server started (pid ${server.pid}), migrations applied; RSS ${Math.round(rss.current() / 1024)} MB`);
  const op = sequentialClient(CFG.port);
  const opAuth = { authorization: `Bearer ${OPERATOR_TOKEN}` };
  const mkTenant = async (name) => {
    const r = await op.request('POST', '/operator/v1/tenants', { headers: opAuth, body: { name, adminEmail: `admin@${name.toLowerCase()}.example` } });
    if (r.status !== 201) throw new Error(`POST /operator/v1/tenants → ${r.status} ${r.body}`);
    return JSON.parse(r.body);
  };
  const empty = await mkTenant('Empty');
  const big = await mkTenant('Big');
  op.close();
  const scimPath = (t, p) => `/scim/v2/${t.id}${p}`;
  const authOf = (t) => ({ authorization: `Bearer ${t.token}` });

  if (runs('core')) {
    // ---- 1. Writes on an empty database: raw INSERT baseline, then POST /Users ----
    rss.setPhase('POST /Users empty');
    let postN = 0;
    const postLoad = (tenant, prefix, seconds = CFG.loadSeconds, port = CFG.port, connections = CFG.connections) =>
      load({
        port,
        connections,
        seconds: limit(seconds),
        amount: 2_000_000,
        method: 'POST',
        path: scimPath(tenant, '/Users'),
        headers: { ...authOf(tenant), 'content-type': 'application/scim+json' },
        setup: (req) => ({ ...req, body: JSON.stringify(newUser(prefix, ++postN)) }),
      });
    await postLoad(empty, 'warm', 5); // warm-up (JIT, pool), not measured
    // The raw INSERT baseline and POST /Users alternate in three rounds (bench/lib.js alternated).
    log(`raw INSERT (${CFG.connections} concurrent, pool ${CFG.poolSize}) and POST /Users at ${CFG.connections} connections, empty tenant: ${CFG.loadSeconds} s each, alternated in 3 rounds`);
    // A second server process on the same database, for one more part of the same rounds: the
    // same 50 connections split over the two (docs/performance.md, "Where issue 12's targets
    // stand": nothing is per-instance, so processes per machine are how a create scales on one
    // machine). Informational; BENCH_POST_TWO=0 leaves it out.
    const second = env.BENCH_POST_TWO === '0' ? undefined : await startServer(path.join(resultsDir, `server-${stamp}-second.log`), CFG.port + 4);
    const postTwo = async (secs) => {
      const half = Math.ceil(CFG.connections / 2);
      const [a, b] = await Promise.all([postLoad(empty, 'twoA', secs, CFG.port, half), postLoad(empty, 'twoB', secs, CFG.port + 4, CFG.connections - half)]);
      const seconds = Math.max(a.seconds, b.seconds);
      const ok = a.ok + b.ok;
      const worst = a.latency.p99 >= b.latency.p99 ? a : b;
      return { connections: CFG.connections, seconds, ok, non2xx: a.non2xx + b.non2xx, errors: a.errors + b.errors, rate: Math.round((ok / seconds) * 10) / 10, latency: worst.latency };
    };
    if (second) await postTwo(3); // warm-up of the second process, not measured
    // A second baseline in the same rounds: the smallest express + pg server writing the rows a
    // create writes, in one transaction, statements prepared (bench/bare-create-server.js). What
    // any server could do with those rows on this machine; BENCH_BARE_CREATE=0 leaves it out.
    const bare = env.BENCH_BARE_CREATE === '0' ? undefined : await startBareCreate(empty.id);
    const bareLoad = (secs) =>
      load({
        port: bare.port,
        connections: CFG.connections,
        seconds: limit(secs),
        amount: 2_000_000,
        method: 'POST',
        path: '/Users',
        headers: { 'content-type': 'application/scim+json' },
        setup: (req) => ({ ...req, body: JSON.stringify(newUser('bare', ++postN)) }),
      });
    if (bare) await bareLoad(3); // warm-up, not measured
    const writes = await alternated(3, CFG.loadSeconds, {
      raw: (secs) => rawInsertBaseline(empty.id, limit(secs)),
      post: (secs) => postLoad(empty, 'empty', secs),
      ...(second ? { postTwo: (secs) => postTwo(limit(secs)) } : {}),
      ...(bare ? { bare: bareLoad } : {}),
    });
    if (second) await stopChild(second);
    if (bare) {
      await stopChild(bare.child);
      // A baseline that failed would make its row meaningless: say so rather than print 0.
      if (writes.bare.non2xx || !writes.bare.ok) throw new Error(`the bare create server answered ${writes.bare.non2xx} non-2xx of ${writes.bare.ok + writes.bare.non2xx} (bench/bare-create-server.js)`);
      F.bareCreate = writes.bare;
    }
    F.rawInsert = writes.raw;
    F.postUsersEmpty = writes.post;
    if (writes.postTwo) F.postUsersTwoProcesses = writes.postTwo;
    log(`  raw ${F.rawInsert.rate} rows/s; POST ${F.postUsersEmpty.rate} req/s, p99 ${F.postUsersEmpty.latency.p99} ms, non-2xx ${F.postUsersEmpty.non2xx}${writes.postTwo ? `; two processes ${writes.postTwo.rate} req/s` : ''}${writes.bare ? `; bare create server ${writes.bare.rate} req/s (non-2xx ${writes.bare.non2xx})` : ''}`);

    // ---- 2. Seed the big tenant ----
    rss.setPhase('seeding');
    const seq = sequentialClient(CFG.port);
    const mkGroup = async (name) => {
      const r = await seq.request('POST', scimPath(big, '/Groups'), { headers: authOf(big), body: { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: name } });
      if (r.status !== 201) throw new Error(`POST /Groups → ${r.status} ${r.body}`);
      return JSON.parse(r.body).id;
    };
    const bigGroup = await mkGroup(`Everyone (${CFG.groupMembers})`);
    const smallGroup = await mkGroup('Five');
    // The bare single-row INSERT baseline of the PATCH rows writes its memberships here (section 5).
    const bareGroup = await mkGroup('Bare insert baseline');
    log(`seeding ${CFG.users.toLocaleString('en')} users and ${CFG.groupMembers.toLocaleString('en')} + ${SMALL_MEMBERS} memberships in SQL`);
    const seeder = new Client({ connectionString: dbUrl });
    await seeder.connect();
    try {
      F.seeding = await seed(seeder, {
        tenantId: big.id,
        users: CFG.users,
        bigGroupId: bigGroup,
        bigMembers: CFG.groupMembers,
        smallGroupId: smallGroup,
        smallMembers: Math.min(SMALL_MEMBERS, CFG.users),
        log,
        deadline: deadline - 5 * 60_000,
      });
      const sizes = await seeder.query(
        `SELECT pg_size_pretty(pg_total_relation_size('users')) AS users, pg_size_pretty(pg_total_relation_size('group_user_members')) AS members,
                (SELECT count(*) FROM users WHERE tenant_id = $1) AS n`,
        [big.id],
      );
      F.seeding.sizes = sizes.rows[0];
    } finally {
      await seeder.end();
    }
    log(`seeded in ${F.seeding.totalSeconds.toFixed(0)} s (users table ${F.seeding.sizes.users}, memberships ${F.seeding.sizes.members})`);

    // Ids of non-member users (for PATCH) and a few ids deep in the id order, straight from the table.
    const q = new Client({ connectionString: dbUrl });
    await q.connect();
    const patchPool = CFG.patchRequests * 2 + CFG.patch100Requests * 100 + 200;
    const free = (
      await q.query(
        `SELECT id FROM users u WHERE tenant_id = $1 AND NOT is_primary_admin AND user_name_ci LIKE 'bench.user%'
            AND NOT EXISTS (SELECT 1 FROM group_user_members m WHERE m.tenant_id = u.tenant_id AND m.user_id = u.id)
          ORDER BY user_name_ci DESC LIMIT $2`,
        [big.id, patchPool],
      )
    ).rows.map((r) => r.id);
    await q.end();

    // ---- 3. Lookups by userName ----
    const auth = authOf(big);
    const hitPath = (i) => scimPath(big, `/Users?filter=${encodeURIComponent(`userName eq "${userNameOf(i)}"`)}`);
    const missPath = (i) => scimPath(big, `/Users?filter=${encodeURIComponent(`userName eq "nobody.${i}@example.com"`)}`);
    const rnd = () => 1 + Math.floor(Math.random() * CFG.users);
    const expect = (status, check) => async (r) => {
      if (r.status !== status) throw new Error(`HTTP ${r.status}: ${String(r.body).slice(0, 200)}`);
      if (check && !check(r)) throw new Error(`unexpected body: ${String(r.body).slice(0, 200)}`);
      return r.ms;
    };
    const hit = (r) => JSON.parse(r.body).totalResults === 1;
    const miss = (r) => JSON.parse(r.body).totalResults === 0;
    rss.setPhase('GET filter sequential');
    // The bare lookup (its own process, same pool size) is the baseline of the sequential rows
    // (issue 12: p99 ≤ 1.5 × its p99), timed interleaved with the server's requests.
    const raw = await startRawLookup(big.id);
    const rawSeq = sequentialClient(raw.port);
    const rawPath = (u) => `/lookup?u=${encodeURIComponent(u)}`;
    const rawHit = (r) => JSON.parse(r.body).totalResults === 1;
    await sequential(200, limit(20), async (i) => expect(200)(await seq.request('GET', i % 2 ? hitPath(rnd()) : missPath(i), { headers: auth }))); // warm-up
    await sequential(200, limit(20), async (i) => expect(200)(await rawSeq.request('GET', rawPath(i % 2 ? userNameOf(rnd()) : `nobody.${i}@example.com`))));
    log(`GET /Users?filter=userName eq …: ${CFG.seqRequests} sequential hits and misses, each interleaved with the bare lookup's`);
    const seqLookups = await interleaved(CFG.seqRequests, limit(90), {
      hit: async () => expect(200, hit)(await seq.request('GET', hitPath(rnd()), { headers: auth })),
      rawHit: async () => expect(200, rawHit)(await rawSeq.request('GET', rawPath(userNameOf(rnd())))),
      miss: async (i) => expect(200, miss)(await seq.request('GET', missPath(i), { headers: auth })),
      rawMiss: async (i) => expect(200, miss)(await rawSeq.request('GET', rawPath(`nobody.${i}@example.com`))),
    });
    F.filterHitSeq = seqLookups.hit;
    F.filterMissSeq = seqLookups.miss;
    F.rawLookupSeq = seqLookups.rawHit;
    F.rawLookupMissSeq = seqLookups.rawMiss;
    log(`  hits p50 ${F.filterHitSeq.p50} p99 ${F.filterHitSeq.p99} ms; misses p50 ${F.filterMissSeq.p50} p99 ${F.filterMissSeq.p99} ms`);
    log(`  bare hits p50 ${F.rawLookupSeq.p50} p99 ${F.rawLookupSeq.p99} ms; bare misses p50 ${F.rawLookupMissSeq.p50} p99 ${F.rawLookupMissSeq.p99} ms`);
    // Okta's and Entra's email matching: a probe of the user_emails side table (store/user-emails.ts).
    const emailPath = (i) => scimPath(big, `/Users?filter=${encodeURIComponent(`emails eq "${userNameOf(i)}"`)}`);
    const entraPath = (i) => scimPath(big, `/Users?filter=${encodeURIComponent(`emails[type eq "work"].value eq "${userNameOf(i)}"`)}`);
    log(`GET /Users?filter=emails eq … and emails[type eq "work"].value eq …: ${CFG.emailRequests} sequential hits each`);
    F.filterEmailSeq = await sequential(CFG.emailRequests, limit(60), async () => expect(200, hit)(await seq.request('GET', emailPath(rnd()), { headers: auth })));
    F.filterEmailEntraSeq = await sequential(CFG.emailRequests, limit(60), async () => expect(200, hit)(await seq.request('GET', entraPath(rnd()), { headers: auth })));
    log(`  emails eq p50 ${F.filterEmailSeq.p50} p99 ${F.filterEmailSeq.p99} ms; Entra form p50 ${F.filterEmailEntraSeq.p50} p99 ${F.filterEmailEntraSeq.p99} ms`);
    rss.setPhase('GET filter concurrent');
    const rawLoad = (seconds) =>
      load({ port: raw.port, connections: CFG.connections, seconds, amount: 5_000_000, path: '/lookup', setup: (req) => ({ ...req, path: `/lookup?u=${encodeURIComponent(userNameOf(rnd()))}` }) });
    const scimLoad = (seconds) =>
      load({ port: CFG.port, connections: CFG.connections, seconds, amount: 5_000_000, path: hitPath(1), headers: auth, setup: (req) => ({ ...req, path: hitPath(rnd()) }) });
    await rawLoad(2);
    await scimLoad(2);
    log(`raw express+pg lookup and GET /Users?filter at ${CFG.connections} connections, ${CFG.loadSeconds} s each, alternated in 3 rounds`);
    const lookups = await alternated(3, CFG.loadSeconds, { raw: (secs) => rawLoad(limit(secs)), scim: (secs) => scimLoad(limit(secs)) });
    F.rawLookup = lookups.raw;
    F.filterConcurrent = lookups.scim;
    await stopChild(raw.child);
    log(`  raw ${F.rawLookup.rate} req/s, server ${F.filterConcurrent.rate} req/s`);

    // ---- 3b. The permissions answer (issue 10): GET /api/v1/users/{id}/permissions ----
    // The product's hot path: role, profile and its permissions, services, price list, licence rights
    // per company and sub-account limits in one call. People set up like real ones (a custom profile,
    // two services, an assigned price list, a company and two nested sub-accounts), against the
    // baseline of the same row read by primary key in one statement, same pool, same run.
    rss.setPhase('permissions');
    const api = async (method, p, body, want) => {
      const r = await seq.request(method, p, { headers: auth, body });
      if (r.status !== want) throw new Error(`${method} ${p} → ${r.status} ${String(r.body).slice(0, 200)}`);
      return r.body ? JSON.parse(r.body) : undefined;
    };
    await api('POST', '/api/v1/permission-profiles', { key: 'bench-viewer', name: 'Viewer', permissions: [] }, 201);
    for (const key of ['bench-m365', 'bench-crm']) await api('POST', '/api/v1/services', { key, name: key }, 201);
    const gold = await api('POST', '/api/v1/price-lists', { name: 'Bench Gold' }, 201);
    const PROVISIO_USER = 'urn:provisio:params:scim:schemas:extension:2.0:User';
    const PROVISIO_GROUP = 'urn:provisio:params:scim:schemas:extension:2.0:Group';
    const people = [];
    for (let i = 0; i < CFG.permissionUsers; i++) {
      const body = {
        ...newUser('perm', i),
        entitlements: [{ type: 'service', value: 'bench-m365' }, { type: 'service', value: 'bench-crm' }],
        [PROVISIO_USER]: { permissionProfile: 'bench-viewer', priceList: gold.id, canManageLicences: true },
      };
      people.push((await api('POST', scimPath(big, '/Users'), body, 201)).id);
    }
    const members = people.map((value) => ({ value }));
    const group = (displayName, ext) => api('POST', scimPath(big, '/Groups'), { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName, members, [PROVISIO_GROUP]: ext }, 201);
    await group('Bench company', { kind: 'company' });
    const parentSub = await group('Bench region', { kind: 'subAccount', dailyLimit: 100, monthlyLimit: 2000 });
    await group('Bench office', { kind: 'subAccount', parent: parentSub.id, dailyLimit: 10 });
    const person = () => people[Math.floor(Math.random() * people.length)];
    const permPath = (id) => `/api/v1/users/${id}/permissions`;
    const sample = JSON.parse((await seq.request('GET', permPath(people[0]), { headers: auth })).body);
    if (sample.companies?.length !== 1 || sample.subAccounts?.length !== 2 || sample.services?.length !== 2) throw new Error(`unexpected permissions answer: ${JSON.stringify(sample)}`);
    await sequential(100, limit(20), async () => expect(200)(await seq.request('GET', permPath(person()), { headers: auth }))); // warm-up
    // The bare row by id, sequentially, alternated with the answer so both see the same minutes:
    // the baseline of the sequential p99 (issue 12).
    const rawById = await startRawLookup(big.id);
    const rawByIdSeq = sequentialClient(rawById.port);
    const bareById = async () => expect(200)(await rawByIdSeq.request('GET', `/by-id?id=${person()}`));
    await sequential(100, limit(20), bareById); // warm-up
    log(`GET /api/v1/users/{id}/permissions: ${CFG.seqRequests} sequential, ${CFG.permissionUsers} people, alternating with the bare row by id`);
    const permLat = [];
    const byIdLat = [];
    const permBoth = await sequential(CFG.seqRequests * 2, limit(90), async (i) => {
      const ms = i % 2 ? await bareById() : await expect(200)(await seq.request('GET', permPath(person()), { headers: auth }));
      (i % 2 ? byIdLat : permLat).push(ms);
      return ms;
    });
    F.permissionsSeq = { ...stats(permLat), failures: permBoth.failures, firstError: permBoth.firstError };
    F.rawByIdSeq = stats(byIdLat);
    rawByIdSeq.close();
    log(`  p50 ${F.permissionsSeq.p50} p99 ${F.permissionsSeq.p99} ms; bare row by id p50 ${F.rawByIdSeq.p50} p99 ${F.rawByIdSeq.p99} ms`);
    const byIdLoad = (seconds) => load({ port: rawById.port, connections: CFG.connections, seconds, amount: 5_000_000, path: '/by-id', setup: (req) => ({ ...req, path: `/by-id?id=${person()}` }) });
    await byIdLoad(2);
    log(`raw express+pg row by id at ${CFG.connections} connections, ${CFG.loadSeconds} s`);
    F.rawById = await byIdLoad(limit(CFG.loadSeconds));
    await stopChild(rawById.child);
    const permLoad = (seconds) =>
      load({ port: CFG.port, connections: CFG.connections, seconds, amount: 5_000_000, path: permPath(people[0]), headers: auth, setup: (req) => ({ ...req, path: permPath(person()) }) });
    await permLoad(2);
    log(`GET /api/v1/users/{id}/permissions at ${CFG.connections} connections, ${CFG.loadSeconds} s`);
    F.permissionsConcurrent = await permLoad(limit(CFG.loadSeconds));
    log(`  sequential p50 ${F.permissionsSeq.p50} p99 ${F.permissionsSeq.p99} ms; raw by id ${F.rawById.rate} req/s, server ${F.permissionsConcurrent.rate} req/s (non-2xx ${F.permissionsConcurrent.non2xx})`);

    // ---- 4. POST /Users with 1M users in the table ----
    rss.setPhase('POST /Users big');
    log(`POST /Users at ${CFG.connections} connections, tenant with ${CFG.users.toLocaleString('en')} users, ${CFG.loadSeconds} s`);
    F.postUsersBig = await postLoad(big, 'big');
    log(`  ${F.postUsersBig.rate} req/s, p99 ${F.postUsersBig.latency.p99} ms, non-2xx ${F.postUsersBig.non2xx}`);

    // ---- 5. PATCH membership ----
    rss.setPhase('PATCH');
    const patchBody = (ids) => ({ schemas: [PATCH_URN], Operations: [{ op: 'add', path: 'members', value: ids.map((value) => ({ value })) }] });
    const probe = await seq.request('PATCH', scimPath(big, `/Groups/${smallGroup}`), { headers: auth, body: patchBody([free.pop()]) });
    if (probe.status === 501) {
      log('PATCH answers 501: PATCH figures are not available');
      F.patch1Big = F.patch1Small = F.patch100Big = { notAvailable: '501' };
    } else {
      if (probe.status !== 204) log(`warning: PATCH probe answered ${probe.status}: ${probe.body.slice(0, 200)}`);
      // Never more 100-member PATCHes than there are non-members left (small BENCH_USERS).
      const n100 = Math.max(0, Math.min(CFG.patch100Requests, Math.floor((free.length - 2 * CFG.patchRequests - 30) / 100)));
      const patch = (groupId, ids) => async () => expect(204)(await seq.request('PATCH', scimPath(big, `/Groups/${groupId}`), { headers: auth, body: patchBody(ids) }));
      for (let i = 0; i < 20; i++) await patch(smallGroup, [free.pop()])().catch(() => {}); // warm-up
      // The bare baseline: the membership row INSERTed in one statement by a bare node+pg server over
      // the same kind of client; it reuses the PATCHes' user ids in a group of its own (issue 12).
      const rawInsert = await startRawLookup(big.id);
      const rawInsertSeq = sequentialClient(rawInsert.port);
      let bareN = 0;
      const bareInsert = async () => expect(204)(await rawInsertSeq.request('POST', `/insert-member?g=${bareGroup}&u=${free[bareN++ % free.length]}`));
      for (let i = 0; i < 20; i++) await bareInsert(); // warm-up
      log(`PATCH add 1 member: ${CFG.patchRequests} sequential on the ${CFG.groupMembers.toLocaleString('en')}-member group and on the ${SMALL_MEMBERS}-member group, alternating with the bare single-row INSERT`);
      // Alternating big, small and bare, so all see the same conditions (checkpoints, autovacuum, other load).
      const bigLat = [];
      const smallLat = [];
      const bareLat = [];
      const both = await sequential(CFG.patchRequests * 3, limit(180), async (i) => {
        const which = i % 3;
        const ms = which === 2 ? await bareInsert() : await patch(which ? smallGroup : bigGroup, [free.pop()])();
        [bigLat, smallLat, bareLat][which].push(ms);
        return ms;
      });
      rawInsertSeq.close();
      await stopChild(rawInsert.child);
      F.rawMemberInsertSeq = stats(bareLat);
      F.patch1Big = { ...stats(bigLat), failures: both.failures, firstError: both.firstError };
      F.patch1Small = stats(smallLat);
      log(`  big p50 ${F.patch1Big.p50} p99 ${F.patch1Big.p99} ms; small p50 ${F.patch1Small.p50} p99 ${F.patch1Small.p99} ms; bare INSERT p50 ${F.rawMemberInsertSeq.p50} p99 ${F.rawMemberInsertSeq.p99} ms`);
      log(`PATCH add 100 members in one request: ${CFG.patch100Requests} sequential on the big group`);
      F.patch100Big = await sequential(n100, limit(60), () => patch(bigGroup, free.splice(-100, 100))());
      log(`  p50 ${F.patch100Big.p50} p99 ${F.patch100Big.p99} ms`);
    }

    // ---- 6. Cursor paging ----
    rss.setPhase('cursor paging');
    // The baseline of the paging rows: a bare keyset page of 100 by a node+pg server, from the
    // start onwards. One bare page is timed after each measured server page (interleaved), so both
    // see the same load on a shared machine.
    const rawPages = await startRawLookup(big.id);
    const rawPageClient = sequentialClient(rawPages.port);
    const barePageLat = [];
    let after = '';
    const barePage = async () => {
      const r = await rawPageClient.request('GET', `/page?after=${after}`);
      if (r.status !== 200) throw new Error(`bare page → ${r.status}: ${String(r.body).slice(0, 200)}`);
      after = JSON.parse(r.body).next ?? '';
      barePageLat.push(r.ms);
    };
    for (let i = 0; i < 20; i++) await barePage(); // warm-up
    barePageLat.length = 0;
    const page = async (cursor, count, attrs) => {
      const r = await seq.request('GET', scimPath(big, `/Users?count=${count}&cursor=${encodeURIComponent(cursor)}${attrs ? `&attributes=${attrs}` : ''}`), { headers: auth });
      if (r.status !== 200) throw new Error(`cursor page → ${r.status}: ${r.body.slice(0, 200)}`);
      const b = JSON.parse(r.body);
      return { ms: r.ms, next: b.nextCursor, n: b.Resources.length, total: b.totalResults };
    };
    const first = await page('', 100);
    F.cursorFirstPage = { ms: Math.round(first.ms * 100) / 100, totalResults: first.total, note: 'the first request of the walk; the first page is measured on its own below' };
    log(`cursor paging: first page ${F.cursorFirstPage.ms} ms (with totalResults ${first.total}); following nextCursor for ${CFG.cursorPages} pages of 100`);
    let cur = first.next;
    F.cursorFollow = await sequential(CFG.cursorPages, limit(90), async () => {
      const p = await page(cur, 100);
      cur = p.next;
      if (!cur) throw new Error('walk ended');
      await barePage();
      return p.ms;
    });
    log(`  p50 ${F.cursorFollow.p50} p99 ${F.cursorFollow.p99} ms`);
    // Walk the whole list quickly (1,000 ids per page) and keep cursors at deep positions.
    const total = first.total;
    const marks = [0.25, 0.5, 0.75, 0.95].map((f) => Math.floor(total * f));
    const deep = [];
    let pos = 0;
    cur = '';
    const walkStart = Date.now();
    const walkLimit = limit(240) * 1000;
    while (deep.length < marks.length && Date.now() - walkStart < walkLimit) {
      const p = await page(cur, 1000, 'id');
      pos += p.n;
      cur = p.next;
      if (!cur) break;
      if (pos >= marks[deep.length]) deep.push({ position: pos, cursor: cur });
    }
    F.cursorWalk = { rowsWalked: pos, seconds: (Date.now() - walkStart) / 1000, pageSize: 1000, attributes: 'id' };
    log(`  walked ${pos.toLocaleString('en')} rows with count=1000&attributes=id in ${F.cursorWalk.seconds.toFixed(1)} s; deep cursors at ${deep.map((d) => d.position).join(', ')}`);
    const deepLat = [];
    F.cursorDeep = { byPosition: {} };
    const perDepth = Math.max(1, Math.floor(CFG.cursorPages / Math.max(1, deep.length)));
    for (const d of deep) {
      let c = d.cursor;
      const s = await sequential(perDepth, limit(30), async () => {
        const p = await page(c, 100);
        c = p.next;
        if (!c) throw new Error('walk ended');
        deepLat.push(p.ms);
        await barePage();
        return p.ms;
      });
      F.cursorDeep.byPosition[d.position] = { p50: s.p50, p99: s.p99, n: s.n };
    }
    Object.assign(F.cursorDeep, stats(deepLat));
    log(`  deep pages: p50 ${F.cursorDeep.p50} p99 ${F.cursorDeep.p99} ms`);
    // The first page with totalResults, as Okta and Entra ask it first: the unfiltered total is read
    // from the counts triggers keep (migration 0023); `filter=userName pr` matches every user too
    // but is counted with count(*), as every first page was before — the same run's before/after.
    const firstPages = Math.max(20, Math.floor(CFG.cursorPages / 5));
    F.firstPageSeq = await sequential(firstPages, limit(60), async () => {
      const { ms } = await page('', 100);
      await barePage();
      return ms;
    });
    const prPage = async () => {
      const r = await seq.request('GET', scimPath(big, `/Users?count=100&cursor=&filter=${encodeURIComponent('userName pr')}`), { headers: auth, timeoutMs: 60_000 });
      if (r.status !== 200) throw new Error(`first page with userName pr → ${r.status}`);
      return r.ms;
    };
    F.firstPageCountedSeq = await sequential(Math.max(5, Math.floor(firstPages / 4)), limit(90), prPage);
    log(`first page with totalResults: p50 ${F.firstPageSeq.p50} p99 ${F.firstPageSeq.p99} ms (kept count); with filter=userName pr (count(*)): p50 ${F.firstPageCountedSeq.p50} p99 ${F.firstPageCountedSeq.p99} ms`);
    F.rawPageSeq = { ...stats(barePageLat), note: 'one bare page after each measured page (following, deep and first pages), interleaved' };
    rawPageClient.close();
    await stopChild(rawPages.child);
    log(`  bare keyset page of 100: p50 ${F.rawPageSeq.p50} p99 ${F.rawPageSeq.p99} ms`);

    // ---- 7. Reading the big group ----
    rss.setPhase('GET group excludedAttributes=members');
    F.groupNoMembers = await sequential(200, limit(30), async () =>
      expect(200)(await seq.request('GET', scimPath(big, `/Groups/${bigGroup}?excludedAttributes=members`), { headers: auth })),
    );
    log(`GET /Groups/{big}?excludedAttributes=members: p50 ${F.groupNoMembers.p50} p99 ${F.groupNoMembers.p99} ms`);
    rss.setPhase('GET big group full');
    const before = rss.current();
    log(`full GET /Groups/{id} of the ${CFG.groupMembers.toLocaleString('en')}-member group`);
    try {
      const r = await seq.request('GET', scimPath(big, `/Groups/${bigGroup}`), { headers: auth, timeoutMs: limit(180) * 1000 });
      let members;
      if (r.status === 200) members = (JSON.parse(r.body).members ?? []).length;
      F.groupFull = { status: r.status, seconds: Math.round(r.ms / 10) / 100, megabytes: Math.round((r.bytes / 2 ** 20) * 10) / 10, members, rssBeforeMB: Math.round(before / 102.4) / 10 };
    } catch (err) {
      F.groupFull = { error: err.message };
    }
    await new Promise((r) => setTimeout(r, 500));
    F.groupFull.peakRssDuringMB = rss.stop().byPhaseMB['GET big group full'];
    log(`  ${JSON.stringify(F.groupFull)}`);
    seq.close();
    F.serverMemory = rss.stop();
  } else {
    F.serverMemory = rss.stop();
  }

  // ---- 8. Issue 12: the Entra-style sync (on this server), then the activation mail's cost and
  // two instances (their own server processes, bench/instance.js; this one is stopped first: its
  // mail worker, without SMTP, would otherwise take their outbox rows). bench/issue12.js ----
  const ctx = { CFG, ROOT, dbUrl, OPERATOR_TOKEN, log, limit, children, stopChild, logFile: (name) => path.join(resultsDir, `server-${stamp}-${name}.log`) };
  const scenario = async (key, name, fn) => {
    if (!runs(key)) return;
    try {
      F[name] = await fn(ctx);
    } catch (err) {
      // One scenario failing keeps the others' figures; the run still exits 1.
      log(`${name} failed: ${err.stack || err.message}`);
      F[name] = { error: String(err.message) };
      scenarioFailed = err;
    }
  };
  await scenario('sync', 'sync', syncScenario);
  await stopChild(server);
  if (runs('mail') || runs('two')) {
    // The earlier phases' activation emails (tens of thousands from the POST loads) that this
    // server's worker did not get to: set aside, or the next workers would send them first.
    const c = new Client({ connectionString: dbUrl });
    await c.connect();
    const aside = await c.query("UPDATE outbox SET status = 'failed', last_error = 'set aside by the bench' WHERE status = 'pending'");
    await c.end();
    if (aside.rowCount) log(`${aside.rowCount.toLocaleString('en')} unsent emails of the earlier phases set aside`);
  }
  await scenario('mail', 'mailCost', mailScenario);
  await scenario('two', 'twoInstances', twoScenario);
  return results;
}

// ---- Report ----
function report(results) {
  const F = results.figures;
  const fmt = (x, unit = '') => (x === undefined || x === null || Number.isNaN(x) ? 'n/a' : `${Math.round(x * 100) / 100}${unit}`);
  const ratio = (a, b) => (a && b ? Math.round((a / b) * 100) / 100 : undefined);
  const na = (f) => f?.notAvailable && `not available (${f.notAvailable})`;
  const verdict = (ok) => (ok === undefined ? '' : typeof ok === 'string' ? ok : ok ? 'met' : 'MISSED');
  const rows = [];
  const add = (figure, measured, baseline, r, target, ok) => rows.push({ figure, measured, baseline: baseline ?? '', ratio: r === undefined ? '' : String(r), target, result: verdict(ok) });

  const ri = F.rawInsert?.rate;
  const pe = F.postUsersEmpty?.rate;
  const pb = F.postUsersBig?.rate;
  add(`raw INSERT (pg, pool ${results.config.poolSize}, ${results.config.connections} concurrent)`, fmt(ri, ' rows/s'), '', undefined, 'baseline');
  add('POST /Users, empty tenant', `${fmt(pe, ' req/s')} (p99 ${fmt(F.postUsersEmpty?.latency.p99, ' ms')})`, 'raw INSERT', ratio(pe, ri), '≥ 0.40 × raw', pe && ri ? pe / ri >= 0.4 : undefined);
  const p2 = F.postUsersTwoProcesses?.rate;
  if (p2 !== undefined) add('POST /Users, empty tenant, two server processes (25 connections each)', `${fmt(p2, ' req/s')} (p99 ${fmt(F.postUsersTwoProcesses.latency.p99, ' ms')})`, 'raw INSERT', ratio(p2, ri), '(informational)');
  const bc = F.bareCreate?.rate;
  if (bc !== undefined) {
    add(`bare express + pg create server, the same rows, pool ${results.config.bareCreatePool} (bench/bare-create-server.js)`, `${fmt(bc, ' req/s')} (p99 ${fmt(F.bareCreate.latency.p99, ' ms')})`, 'raw INSERT', ratio(bc, ri), '(informational: what these rows allow)');
    add('POST /Users, empty tenant, to the bare create server', `${fmt(pe, ' req/s')}`, 'bare create server', ratio(pe, bc), '(informational)');
  }
  add(`POST /Users, ${results.config.users.toLocaleString('en')} users`, `${fmt(pb, ' req/s')} (p99 ${fmt(F.postUsersBig?.latency.p99, ' ms')})`, 'POST empty', ratio(pb, pe), '≥ 0.80 × empty', pb && pe ? pb / pe >= 0.8 : undefined);
  const bareP99 = F.rawLookupSeq?.p99;
  const bareMissP99 = F.rawLookupMissSeq?.p99;
  add('bare node+pg lookup, hit, sequential (interleaved)', `p50 ${fmt(F.rawLookupSeq?.p50)} / p99 ${fmt(bareP99, ' ms')}`, '', undefined, 'baseline');
  add('bare node+pg lookup, miss, sequential (interleaved)', `p50 ${fmt(F.rawLookupMissSeq?.p50)} / p99 ${fmt(bareMissP99, ' ms')}`, '', undefined, 'baseline');
  for (const [label, f, base, baseName] of [['GET filter userName eq, hit, sequential', F.filterHitSeq, bareP99, 'bare hit p99'], ['GET filter userName eq, miss, sequential', F.filterMissSeq, bareMissP99, 'bare miss p99']]) {
    add(label, `p50 ${fmt(f?.p50)} / p99 ${fmt(f?.p99, ' ms')}`, baseName, ratio(f?.p99, base), 'p99 ≤ 1.5 × bare', f?.p99 !== undefined && base ? f.p99 / base <= 1.5 : undefined);
  }
  for (const [label, f] of [['GET filter emails eq (Okta), hit, sequential', F.filterEmailSeq], ['GET filter emails[type eq "work"].value eq (Entra), hit, sequential', F.filterEmailEntraSeq]]) {
    add(label, `p50 ${fmt(f?.p50)} / p99 ${fmt(f?.p99, ' ms')} (${f?.n ?? 0} requests)`, 'bare lookup p99', ratio(f?.p99, bareP99), 'p99 ≤ 2 × bare', f?.p99 !== undefined && bareP99 ? f.p99 / bareP99 <= 2 : undefined);
  }
  add(`raw express+pg lookup, ${results.config.connections} connections`, fmt(F.rawLookup?.rate, ' req/s'), '', undefined, 'baseline');
  add(`GET filter userName eq, ${results.config.connections} connections`, `${fmt(F.filterConcurrent?.rate, ' req/s')} (p99 ${fmt(F.filterConcurrent?.latency.p99, ' ms')})`, 'raw lookup', ratio(F.filterConcurrent?.rate, F.rawLookup?.rate), '≥ 0.50 × raw', F.filterConcurrent && F.rawLookup ? F.filterConcurrent.rate / F.rawLookup.rate >= 0.5 : undefined);
  add(`raw express+pg row by id, ${results.config.connections} connections`, fmt(F.rawById?.rate, ' req/s'), '', undefined, 'baseline');
  const byIdP99 = F.rawByIdSeq?.p99;
  add('bare node+pg row by id, sequential', `p50 ${fmt(F.rawByIdSeq?.p50)} / p99 ${fmt(byIdP99, ' ms')}`, '', undefined, 'baseline');
  add('GET /users/{id}/permissions, sequential', `p50 ${fmt(F.permissionsSeq?.p50)} / p99 ${fmt(F.permissionsSeq?.p99, ' ms')}`, 'bare by id p99', ratio(F.permissionsSeq?.p99, byIdP99), 'p99 ≤ 10 ms and ≤ 1.5 × bare', F.permissionsSeq?.p99 !== undefined && byIdP99 ? F.permissionsSeq.p99 <= 10 && F.permissionsSeq.p99 / byIdP99 <= 1.5 : undefined);
  add(`GET /users/{id}/permissions, ${results.config.connections} connections`, `${fmt(F.permissionsConcurrent?.rate, ' req/s')} (p99 ${fmt(F.permissionsConcurrent?.latency.p99, ' ms')})`, 'raw row by id', ratio(F.permissionsConcurrent?.rate, F.rawById?.rate), '(informational)');
  const m = results.config.groupMembers.toLocaleString('en');
  if (na(F.patch1Big)) {
    add(`PATCH add 1 member, ${m}-member group`, na(F.patch1Big), '', undefined, 'p99 ≤ 1.5 × 5-member');
    add('PATCH add 100 members, one request', na(F.patch100Big), '', undefined, 'p99 ≤ 25 ms');
  } else {
    add(`PATCH add 1 member, 5-member group`, `p50 ${fmt(F.patch1Small?.p50)} / p99 ${fmt(F.patch1Small?.p99, ' ms')}`, '', undefined, 'baseline');
    add(`PATCH add 1 member, ${m}-member group`, `p50 ${fmt(F.patch1Big?.p50)} / p99 ${fmt(F.patch1Big?.p99, ' ms')}`, '5-member p99', ratio(F.patch1Big?.p99, F.patch1Small?.p99), 'p99 ≤ 1.5 × 5-member', F.patch1Big?.p99 !== undefined && F.patch1Small?.p99 ? F.patch1Big.p99 / F.patch1Small.p99 <= 1.5 : undefined);
    const bareIns = F.rawMemberInsertSeq?.p99;
    add('bare node+pg single-row membership INSERT, sequential', `p50 ${fmt(F.rawMemberInsertSeq?.p50)} / p99 ${fmt(bareIns, ' ms')}`, '', undefined, 'baseline');
    add(`PATCH add 1 member, ${m}-member group, to the bare INSERT`, `p99 ${fmt(F.patch1Big?.p99, ' ms')}`, 'bare INSERT p99', ratio(F.patch1Big?.p99, bareIns), 'p99 ≤ 3 × bare', F.patch1Big?.p99 !== undefined && bareIns ? F.patch1Big.p99 / bareIns <= 3 : undefined);
    add(`PATCH add 100 members, ${m}-member group`, `p50 ${fmt(F.patch100Big?.p50)} / p99 ${fmt(F.patch100Big?.p99, ' ms')}`, '', undefined, 'p99 ≤ 25 ms', F.patch100Big?.p99 !== undefined ? F.patch100Big.p99 <= 25 : undefined);
  }
  const bareP = F.rawPageSeq?.p99;
  add('bare node+pg keyset page of 100, sequential (interleaved)', `p50 ${fmt(F.rawPageSeq?.p50)} / p99 ${fmt(bareP, ' ms')}`, '', undefined, 'baseline');
  add('GET /Users first page of 100 with totalResults (kept count)', `p50 ${fmt(F.firstPageSeq?.p50)} / p99 ${fmt(F.firstPageSeq?.p99, ' ms')} (${F.firstPageSeq?.n ?? 0} requests)`, 'bare page p99', ratio(F.firstPageSeq?.p99, bareP), 'p99 ≤ 3 × bare', F.firstPageSeq?.p99 !== undefined && bareP ? F.firstPageSeq.p99 / bareP <= 3 : undefined);
  add('same, filter=userName pr (count(*), as before the kept count)', `p50 ${fmt(F.firstPageCountedSeq?.p50)} / p99 ${fmt(F.firstPageCountedSeq?.p99, ' ms')} (${F.firstPageCountedSeq?.n ?? 0} requests)`, 'bare page p99', ratio(F.firstPageCountedSeq?.p99, bareP), '(informational)');
  add('cursor paging, following nextCursor, page of 100', `p50 ${fmt(F.cursorFollow?.p50)} / p99 ${fmt(F.cursorFollow?.p99, ' ms')} (${F.cursorFollow?.n} pages)`, 'bare page p99', ratio(F.cursorFollow?.p99, bareP), 'p99 ≤ 2 × bare', F.cursorFollow?.p99 !== undefined && bareP ? F.cursorFollow.p99 / bareP <= 2 : undefined);
  add('cursor paging, from deep cursors, page of 100', `p50 ${fmt(F.cursorDeep?.p50)} / p99 ${fmt(F.cursorDeep?.p99, ' ms')} (${F.cursorDeep?.n} pages)`, 'bare page p99', ratio(F.cursorDeep?.p99, bareP), 'p99 ≤ 2 × bare', F.cursorDeep?.p99 !== undefined && bareP ? F.cursorDeep.p99 / bareP <= 2 : undefined);
  add('GET big group, excludedAttributes=members', `p50 ${fmt(F.groupNoMembers?.p50)} / p99 ${fmt(F.groupNoMembers?.p99, ' ms')}`, '', undefined, '(informational)');
  const gf = F.groupFull ?? {};
  add(`GET big group with all ${m} members`, gf.error ? gf.error : `${gf.status}: ${fmt(gf.seconds, ' s')}, ${fmt(gf.megabytes, ' MB')}, ${gf.members ?? '?'} members, peak RSS ${fmt(gf.peakRssDuringMB, ' MB')}`, '', undefined, 'RSS ≤ 300 MB', gf.peakRssDuringMB !== undefined ? gf.peakRssDuringMB <= 300 : undefined);
  const sm = F.serverMemory ?? {};
  add('server peak RSS, whole run', `${fmt(sm.peakSampledMB, ' MB')} sampled / ${fmt(sm.vmHwmMB, ' MB')} VmHWM`, '', undefined, '≤ 300 MB', sm.vmHwmMB !== undefined ? Math.max(sm.vmHwmMB, sm.peakSampledMB) <= 300 : undefined);
  if (!results.config.only.includes('core')) rows.length = 0;
  reportRows(F, add, fmt, ratio, results.config);
  return rows;
}

(async () => {
  let failure;
  const watchdog = setTimeout(() => {
    console.error(`\nThe run exceeded BENCH_MAX_MINUTES=${CFG.maxMinutes}: stopping.`);
    cleanup().finally(() => process.exit(2));
  }, CFG.maxMinutes * 60_000 + 60_000);
  watchdog.unref();
  try {
    await main();
  } catch (err) {
    failure = err;
    console.error(`\nbenchmark failed: ${err.stack || err.message}`);
  } finally {
    await cleanup();
  }
  if (results) {
    const rows = report(results);
    results.table = rows;
    results.finishedAt = new Date().toISOString();
    if (failure) results.error = String(failure.stack || failure.message);
    const file = path.join(resultsDir, `bench-${stamp}.json`);
    fs.writeFileSync(file, JSON.stringify(results, null, 2));
    console.log(`\nProvisio benchmark — ${results.machine.cpus} CPUs (${results.machine.cpuModel}), ${(results.postgres ?? '').split(' on ')[0]}, Node ${results.machine.node}`);
    console.log(`${results.config.only.includes('core') ? `${results.config.users.toLocaleString('en')} users, ${results.config.groupMembers.toLocaleString('en')}-member group, ` : ''}DB_POOL_SIZE=${results.config.poolSize}, load generator in the same machine\n`);
    const c = results.config;
    console.log(`scenarios: ${c.only.join(', ')}; sync ${c.syncUsers.toLocaleString('en')} users at ${c.syncClients} clients over ${c.syncGroups} groups; mail ${c.mailUsers.toLocaleString('en')} users per tenant; two instances ${c.twoUsers.toLocaleString('en')} users per phase, ${c.purgeSubAccounts} sub-accounts purged\n`);
    console.log(table(rows, ['figure', 'measured', 'baseline', 'ratio', 'target', 'result']));
    console.log(`\nserver RSS peak by phase (MB): ${JSON.stringify(results.figures.serverMemory?.byPhaseMB)}`);
    console.log(`server CPU by phase (% of one core): ${JSON.stringify(results.figures.serverMemory?.cpuPercentOfOneCoreByPhase)}`);
    console.log(`results: ${path.relative(ROOT, file)}${failure ? ' (partial: the run failed, see above)' : ''}`);
  }
  process.exit(failure || scenarioFailed ? 1 : 0);
})();
