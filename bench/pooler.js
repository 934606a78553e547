// Sizing through PgBouncer (issue 12, "Past one machine"; docs/operations.md, "Sizing"):
// `node bench/pooler.js`. One fresh database and one seeded tenant; the same measurements on the
// server connected directly (DATABASE_POOLER=none), directly with DATABASE_POOLER=transaction (what
// the setting itself costs), and through PgBouncer 1.18 in transaction
// pooling (DATABASE_POOLER=transaction, started on a free loopback port by
// test/support/pgbouncer.js): sequential userName lookups (p50/p99), lookups and POST /Users at
// BENCH_CONNECTIONS connections (rate), the server's peak RSS and the peak number of PostgreSQL
// backends serving the database. Prints a table, writes JSON to bench/results/, drops the database.
// Loopback only. Bounded: every phase by time and count.
'use strict';
const { spawn } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { Client } = require('pg');
const { seed, userNameOf } = require('./seed');
const { sequentialClient, sequential, load, rssSampler, table } = require('./lib');
const { startPgBouncer } = require('../test/support/pgbouncer');

const ROOT = path.resolve(__dirname, '..');
const env = process.env;
const int = (k, d) => (env[k] ? Number(env[k].replace(/_/g, '')) : d);
const CFG = {
  adminUrl: env.BENCH_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres',
  users: int('BENCH_USERS', 100_000),
  poolSize: int('BENCH_POOL_SIZE', 10),
  bouncerPoolSize: int('BENCH_PGBOUNCER_POOL_SIZE', 5),
  connections: int('BENCH_CONNECTIONS', 50),
  seconds: int('BENCH_DURATION', 10),
  seqRequests: int('BENCH_SEQ_REQUESTS', 500),
  port: int('BENCH_PORT', 18090),
};
const startedAt = new Date();
const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
const dbName = `provisio_bench_pooler_${startedAt.getTime()}_${process.pid}`;
const directUrl = Object.assign(new URL(CFG.adminUrl), { pathname: `/${dbName}` }).toString();
const OPERATOR_TOKEN = crypto.randomBytes(24).toString('base64url');
const log = (...a) => console.log(`[${((Date.now() - startedAt.getTime()) / 1000).toFixed(0).padStart(4)} s]`, ...a);
const resultsDir = path.join(__dirname, 'results');
fs.mkdirSync(resultsDir, { recursive: true });

async function adminQuery(url, sql, params) {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    return await c.query(sql, params);
  } finally {
    await c.end();
  }
}

function stop(child) {
  return new Promise((resolve) => {
    if (!child || child.exitCode !== null || child.signalCode !== null) return resolve();
    const t = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

async function startServer(databaseUrl, pooler, logFile) {
  const out = fs.openSync(logFile, 'a');
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'server/main.ts')], {
    cwd: ROOT,
    env: {
      PATH: env.PATH,
      HOME: env.HOME,
      PORT: String(CFG.port),
      PUBLIC_URL: `http://127.0.0.1:${CFG.port}`,
      DATABASE_URL: databaseUrl,
      DATABASE_POOLER: pooler,
      OPERATOR_TOKEN,
      LOG_LEVEL: 'warn',
      DB_POOL_SIZE: String(CFG.poolSize),
      NODE_ENV: 'production',
      // The activation emails of the POST /Users phase stay queued: the mail worker is not measured.
      MAIL_POLL_MS: '3600000',
      // No DNS traffic leaves the machine (a closed loopback port).
      DNS_SERVERS: '127.0.0.1:1',
    },
    stdio: ['ignore', out, out],
  });
  const http = sequentialClient(CFG.port);
  const until = Date.now() + 90_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the server exited with code ${child.exitCode}; see ${logFile}`);
    if (Date.now() > until) throw new Error(`the server did not become ready within 90 s; see ${logFile}`);
    const r = await http.request('GET', '/readyz', { timeoutMs: 2000 }).catch(() => undefined);
    if (r?.status === 200) break;
    await new Promise((res) => setTimeout(res, 200));
  }
  http.close();
  return child;
}

/** Peak number of PostgreSQL backends connected to the database while `fn` runs. */
async function peakBackends(fn) {
  const c = new Client({ connectionString: CFG.adminUrl });
  await c.connect();
  let peak = 0;
  let running = true;
  const sampler = (async () => {
    while (running) {
      const r = await c.query('SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1', [dbName]);
      peak = Math.max(peak, r.rows[0].n);
      await new Promise((res) => setTimeout(res, 200));
    }
  })();
  try {
    return { result: await fn(), backends: () => peak };
  } finally {
    running = false;
    await sampler;
    await c.end();
  }
}

async function measure(label, databaseUrl, pooler, tenant) {
  const logFile = path.join(resultsDir, `pooler-server-${stamp}.log`);
  const server = await startServer(databaseUrl, pooler, logFile);
  const rss = rssSampler(server.pid, 100);
  const scim = (p) => `/scim/v2/${tenant.id}${p}`;
  const auth = { authorization: `Bearer ${tenant.token}` };
  const hit = (i) => scim(`/Users?filter=${encodeURIComponent(`userName eq "${userNameOf(i)}"`)}`);
  const rnd = () => 1 + Math.floor(Math.random() * CFG.users);
  const out = {};
  try {
    rss.setPhase('sequential lookups');
    const seqClient = sequentialClient(CFG.port);
    // Warm-up (JIT, pools), not measured.
    await sequential(200, 20, async (i) => (await seqClient.request('GET', hit(1 + (i % CFG.users)), { headers: auth, discard: true })).ms);
    const seq = await sequential(CFG.seqRequests, 60, async () => {
      const r = await seqClient.request('GET', hit(rnd()), { headers: auth, discard: true });
      if (r.status !== 200) throw new Error(`GET → ${r.status}`);
      return r.ms;
    });
    seqClient.close();
    out.sequentialLookup = seq;
    log(`${label}: sequential userName lookups p50 ${seq.p50} ms, p99 ${seq.p99} ms (${seq.failures ?? 0} failed)`);
    rss.setPhase('lookup load');
    const lookups = await peakBackends(() =>
      load({ port: CFG.port, connections: CFG.connections, seconds: CFG.seconds, amount: 5_000_000, path: hit(1), headers: auth, setup: (req) => ({ ...req, path: hit(rnd()) }) }),
    );
    out.lookupLoad = { ...lookups.result, postgresBackends: lookups.backends() };
    log(`${label}: lookups at ${CFG.connections} connections ${out.lookupLoad.rate} req/s (non-2xx ${out.lookupLoad.non2xx}), ${out.lookupLoad.postgresBackends} PostgreSQL backends`);
    rss.setPhase('create load');
    let n = 0;
    const creates = await peakBackends(() =>
      load({
        port: CFG.port,
        connections: CFG.connections,
        seconds: CFG.seconds,
        amount: 5_000_000,
        method: 'POST',
        path: scim('/Users'),
        headers: { ...auth, 'content-type': 'application/scim+json' },
        setup: (req) => ({ ...req, body: JSON.stringify({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: `${label}.${++n}@example.com`, active: true }) }),
      }),
    );
    out.createLoad = { ...creates.result, postgresBackends: creates.backends() };
    log(`${label}: POST /Users at ${CFG.connections} connections ${out.createLoad.rate} req/s (non-2xx ${out.createLoad.non2xx}), ${out.createLoad.postgresBackends} PostgreSQL backends`);
  } finally {
    out.server = rss.stop();
    await stop(server);
  }
  return out;
}

async function main() {
  const results = {
    startedAt: startedAt.toISOString(),
    machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, memGB: Math.round(os.totalmem() / 2 ** 30), node: process.version },
    config: { ...CFG, adminUrl: undefined, database: dbName },
    figures: {},
  };
  let bouncer;
  await adminQuery(CFG.adminUrl, `CREATE DATABASE "${dbName}"`);
  try {
    results.postgres = (await adminQuery(CFG.adminUrl, 'SELECT version() AS v')).rows[0].v;
    // Migrate, make the tenant and seed it with a first server, connected directly.
    const first = await startServer(directUrl, 'none', path.join(resultsDir, `pooler-server-${stamp}.log`));
    const op = sequentialClient(CFG.port);
    const r = await op.request('POST', '/operator/v1/tenants', { headers: { authorization: `Bearer ${OPERATOR_TOKEN}` }, body: { name: 'Sizing', adminEmail: 'admin@sizing.example' } });
    if (r.status !== 201) throw new Error(`POST /operator/v1/tenants → ${r.status} ${r.body}`);
    const tenant = JSON.parse(r.body);
    const group = async (name) => {
      const g = await op.request('POST', `/scim/v2/${tenant.id}/Groups`, { headers: { authorization: `Bearer ${tenant.token}` }, body: { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: name } });
      if (g.status !== 201) throw new Error(`POST /Groups → ${g.status} ${g.body}`);
      return JSON.parse(g.body).id;
    };
    const bigGroupId = await group('Everyone');
    const smallGroupId = await group('Five');
    op.close();
    await stop(first);
    log(`seeding ${CFG.users.toLocaleString('en')} users`);
    const seeder = new Client({ connectionString: directUrl });
    await seeder.connect();
    try {
      results.figures.seeding = await seed(seeder, { tenantId: tenant.id, users: CFG.users, bigGroupId, bigMembers: Math.min(1000, CFG.users), smallGroupId, smallMembers: 5, log, deadline: Date.now() + 20 * 60_000 });
    } finally {
      await seeder.end();
    }

    results.figures.direct = await measure('direct', directUrl, 'none', tenant);
    // The setting's own cost, without a pooler: unnamed statements, SET LOCAL ROLE per transaction.
    results.figures.directTransactionSetting = await measure('direct+setting', directUrl, 'transaction', tenant);
    bouncer = await startPgBouncer({ poolSize: CFG.bouncerPoolSize });
    const pooledUrl = Object.assign(new URL(directUrl), { hostname: '127.0.0.1', port: String(bouncer.port) }).toString();
    log(`PgBouncer on 127.0.0.1:${bouncer.port}, transaction pooling, default_pool_size ${CFG.bouncerPoolSize}`);
    results.figures.pgbouncer = await measure('pgbouncer', pooledUrl, 'transaction', tenant);
  } finally {
    await bouncer?.stop().catch(() => {});
    await adminQuery(CFG.adminUrl, `DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`).catch((e) => log(`could not drop ${dbName}: ${e.message}`));
  }
  const F = results.figures;
  const cols = ['server', 'lookup p50 ms', 'lookup p99 ms', `lookups/s @${CFG.connections}`, 'PG backends (lookups)', `POST /Users/s @${CFG.connections}`, 'PG backends (creates)', 'peak RSS MB'];
  const row = (what, f) => Object.fromEntries(cols.map((c, i) => [c, [what, f.sequentialLookup.p50, f.sequentialLookup.p99, f.lookupLoad.rate, f.lookupLoad.postgresBackends, f.createLoad.rate, f.createLoad.postgresBackends, f.server.peakSampledMB][i]]));
  console.log(`${CFG.users.toLocaleString('en')} users; ${results.machine.cpus} CPUs; ${results.postgres}`);
  console.log(
    table(
      [
        row(`direct, DATABASE_POOLER=none (pool ${CFG.poolSize})`, F.direct),
        row(`direct, DATABASE_POOLER=transaction (pool ${CFG.poolSize})`, F.directTransactionSetting),
        row(`PgBouncer, DATABASE_POOLER=transaction (pool ${CFG.poolSize} → ${CFG.bouncerPoolSize})`, F.pgbouncer),
      ],
      cols,
    ),
  );
  const file = path.join(resultsDir, `pooler-${stamp}.json`);
  fs.writeFileSync(file, JSON.stringify(results, null, 2));
  log(`results: ${file}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
