// The scenarios of issue 12 ("Speed at a million users, and past one machine") for bench/run.js,
// each with its baseline measured in the same run (docs/performance.md, "Initial sync, activation
// mail, two instances"):
//   sync — an Entra-style initial sync: per new user a filter lookup that misses, a create, and a
//          PATCH adding it to a group, at BENCH_SYNC_CLIENTS concurrent clients; against the same
//          three statements by a bare node+pg client at the same concurrency;
//   mail — the CPU the mail worker spends sending N activation emails to a local SMTP sink, per
//          1,000 users, against the CPU of the N creates themselves; for a tenant without SSO and
//          one whose connection requires SSO for the users' domain (no activation email);
//   two  — two server processes on one database behind the bench's round-robin client: a session
//          made on one used on the other, the sign-in limiter counted across both, every outbox
//          message sent once with both workers running, the purge run on both at once purging
//          once; and the sync workload's throughput on two instances vs one.
// Everything on 127.0.0.1. Not part of the product.
'use strict';
const { fork } = require('node:child_process');
const path = require('node:path');
const { Pool } = require('pg');
const { v7: uuidv7 } = require('uuid');
const { sequentialClient, stats, load, smtpSink, discoveryServer, browserClient } = require('./lib');

const USER_URN = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP_URN = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const PATCH_URN = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const PROVISIO_GROUP = 'urn:provisio:params:scim:schemas:extension:2.0:Group';
const PASSWORD = 'bench-correct-horse-battery-42';

/** A user as Entra sends it (userName = work email). */
const syncUser = (prefix, i, domain) => {
  const un = `${prefix}.${i}@${domain}`;
  return {
    schemas: [USER_URN],
    userName: un,
    externalId: `${prefix}-${i}`,
    name: { givenName: 'Sync', familyName: `User${i}` },
    displayName: `Sync User${i}`,
    emails: [{ value: un, type: 'work', primary: true }],
    active: true,
  };
};

const cpuMs = (a, b) => Math.round(((b.user - a.user + b.system - a.system) / 1000) * 10) / 10;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * A server instance (bench/instance.js) on `port`; resolves once /readyz answers 200.
 * `call(cmd, args)` talks to it over IPC.
 */
async function startInstance(ctx, { port, logFile, env: extra = {} }) {
  const fs = require('node:fs');
  const out = fs.openSync(logFile, 'a');
  const tsx = ctx.CFG.server === 'tsx';
  const child = fork(path.join(__dirname, 'instance.js'), [], {
    cwd: ctx.ROOT,
    // BENCH_INSTANCE_ARGS: extra node flags for the instance (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`).
    execArgv: [...(tsx ? ['--import', 'tsx'] : []), ...(process.env.BENCH_INSTANCE_ARGS || '').split(/\s+/).filter(Boolean)],
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      PORT: String(port),
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      DATABASE_URL: ctx.dbUrl,
      OPERATOR_TOKEN: ctx.OPERATOR_TOKEN,
      LOG_LEVEL: 'warn',
      DB_POOL_SIZE: String(ctx.CFG.poolSize),
      NODE_ENV: 'production',
      ...(tsx ? { BENCH_INSTANCE_SOURCES: '1' } : {}),
      ...extra,
    },
    stdio: ['ignore', out, out, 'ipc'],
  });
  ctx.children.push(child);
  const pending = new Map();
  let seq = 0;
  let ready;
  const readyP = new Promise((resolve, reject) => {
    ready = resolve;
    child.once('exit', (code) => reject(new Error(`instance on port ${port} exited (${code}); see ${logFile}`)));
  });
  child.on('message', (m) => {
    if (m.ready) return ready();
    const p = pending.get(m.id);
    if (!p) return;
    pending.delete(m.id);
    if (m.error) p.reject(new Error(m.error));
    else p.resolve(m.value);
  });
  await Promise.race([readyP, sleep(90_000).then(() => Promise.reject(new Error(`instance on port ${port} did not start within 90 s; see ${logFile}`)))]);
  const http = sequentialClient(port);
  for (let i = 0; ; i++) {
    const r = await http.request('GET', '/readyz', { timeoutMs: 2000 }).catch(() => undefined);
    if (r?.status === 200) break;
    if (i > 100) throw new Error(`instance on port ${port} is not ready; see ${logFile}`);
    await sleep(100);
  }
  http.close();
  return {
    child,
    port,
    startedAt: Date.now(),
    call(cmd, args = {}) {
      const id = ++seq;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        child.send({ id, cmd, ...args });
      });
    },
  };
}

/** The operator and SCIM calls the scenarios need, on one port. */
function api(ctx, port) {
  const c = sequentialClient(port);
  const call = async (method, p, { token, body, want }) => {
    const r = await c.request(method, p, { headers: { authorization: `Bearer ${token}` }, body });
    if (want && r.status !== want) throw new Error(`${method} ${p} → ${r.status} ${String(r.body).slice(0, 300)}`);
    return r.body ? JSON.parse(r.body) : undefined;
  };
  return {
    tenant: (name, adminEmail) => call('POST', '/operator/v1/tenants', { token: ctx.OPERATOR_TOKEN, body: { name, adminEmail }, want: 201 }),
    scim: (t, method, p, body, want) => call(method, `/scim/v2/${t.id}${p}`, { token: t.token, body, want }),
    admin: (t, method, p, body, want) => call(method, `/api/v1${p}`, { token: t.token, body, want }),
    groups: async (t, n, label) => {
      const ids = [];
      for (let g = 0; g < n; g++) ids.push((await call('POST', `/scim/v2/${t.id}/Groups`, { token: t.token, body: { schemas: [GROUP_URN], displayName: `${label} ${g}` }, want: 201 })).id);
      return ids;
    },
    close: () => c.close(),
  };
}

/**
 * The sync workload: `clients` concurrent clients, each taking the next user number and doing
 * GET ?filter=userName eq (must miss), POST /Users (201), PATCH its group (add the new member),
 * until `n` users or `seconds`. With several ports, every request goes to the next port in turn
 * (a round-robin balancer). Returns users/s and the per-user latency of the three requests.
 */
async function syncRun({ ports, tenant, groups, prefix, domain, n, clients, seconds }) {
  const conns = Array.from({ length: clients }, () => ports.map((p) => sequentialClient(p)));
  const auth = { authorization: `Bearer ${tenant.token}` };
  const base = `/scim/v2/${tenant.id}`;
  let next = 0;
  let rr = 0;
  let done = 0;
  let failures = 0;
  let firstError;
  const lat = [];
  const perStep = { lookup: [], create: [], patch: [] };
  const until = Date.now() + seconds * 1000;
  const start = Date.now();
  const worker = async (c) => {
    const pick = () => c[rr++ % c.length];
    while (next < n && Date.now() < until) {
      const i = next++;
      const body = syncUser(prefix, i, domain);
      const t0 = process.hrtime.bigint();
      try {
        const f = await pick().request('GET', `${base}/Users?filter=${encodeURIComponent(`userName eq "${body.userName}"`)}`, { headers: auth });
        if (f.status !== 200 || JSON.parse(f.body).totalResults !== 0) throw new Error(`lookup → ${f.status} ${f.body.slice(0, 200)}`);
        const p = await pick().request('POST', `${base}/Users`, { headers: auth, body });
        if (p.status !== 201) throw new Error(`POST /Users → ${p.status} ${p.body.slice(0, 200)}`);
        const id = JSON.parse(p.body).id;
        const g = await pick().request('PATCH', `${base}/Groups/${groups[i % groups.length]}`, {
          headers: auth,
          body: { schemas: [PATCH_URN], Operations: [{ op: 'add', path: 'members', value: [{ value: id }] }] },
        });
        if (g.status !== 204 && g.status !== 200) throw new Error(`PATCH /Groups → ${g.status} ${g.body.slice(0, 200)}`);
        perStep.lookup.push(f.ms);
        perStep.create.push(p.ms);
        perStep.patch.push(g.ms);
        lat.push(Number(process.hrtime.bigint() - t0) / 1e6);
        done++;
      } catch (err) {
        failures++;
        firstError ??= err.message;
      }
    }
  };
  await Promise.all(conns.map(worker));
  const secs = (Date.now() - start) / 1000;
  conns.flat().forEach((c) => c.close());
  const s = stats(lat);
  const p = (a) => {
    const x = stats(a);
    return { p50: x.p50, p99: x.p99 };
  };
  return {
    ports: ports.length,
    clients,
    users: done,
    requested: n,
    failures,
    firstError,
    seconds: Math.round(secs * 10) / 10,
    rate: Math.round((done / secs) * 10) / 10,
    timeLimited: done + failures < n,
    perUserMs: { p50: s.p50, p99: s.p99, max: s.max },
    stepMs: { lookup: p(perStep.lookup), create: p(perStep.create), patch: p(perStep.patch) },
  };
}

/**
 * The baseline of the sync: the same three statements, with the same pool size and concurrency,
 * by a bare node+pg client as the superuser (no row-level security, no transaction, no HTTP):
 * the lookup by (tenant_id, user_name_ci) that misses, the INSERT of the user's row into the real
 * `users` table (its triggers and every index), the INSERT of the membership row. Rows shaped as
 * the server writes them (resources/service.ts rowValues; folded as scim/normalize.ts folds).
 */
async function rawSync({ dbUrl, poolSize, tenantId, groups, domain, n, clients, seconds }) {
  const pool = new Pool({ connectionString: dbUrl, max: poolSize });
  const lookup = 'SELECT id, data, version, created_at, updated_at FROM users WHERE tenant_id = $1 AND user_name_ci = $2';
  const insert = `INSERT INTO users (tenant_id, id, user_name, external_id, active, data, folded, created_at, updated_at)
                  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                  RETURNING id, data, version, created_at, updated_at, active, activation_state, is_primary_admin, privacy_accepted_at`;
  const member = 'INSERT INTO group_user_members (tenant_id, group_id, user_id) VALUES ($1, $2, $3)';
  let next = 0;
  let done = 0;
  let failures = 0;
  let firstError;
  const lat = [];
  const until = Date.now() + seconds * 1000;
  const start = Date.now();
  const worker = async () => {
    while (next < n && Date.now() < until) {
      const i = next++;
      const u = syncUser('raw', i, domain);
      delete u.schemas;
      const lower = (x) => x.toLowerCase();
      const folded = { ...u, userName: lower(u.userName), name: { givenName: lower(u.name.givenName), familyName: lower(u.name.familyName) }, displayName: lower(u.displayName), emails: [{ value: lower(u.userName), type: 'work', primary: true }] };
      const t0 = process.hrtime.bigint();
      try {
        const miss = await pool.query(lookup, [tenantId, lower(u.userName)]);
        if (miss.rows.length) throw new Error('lookup hit');
        const now = new Date();
        const id = uuidv7();
        await pool.query(insert, [tenantId, id, u.userName, u.externalId, true, JSON.stringify(u), JSON.stringify(folded), now, now]);
        await pool.query(member, [tenantId, groups[i % groups.length], id]);
        lat.push(Number(process.hrtime.bigint() - t0) / 1e6);
        done++;
      } catch (err) {
        failures++;
        firstError ??= err.message;
      }
    }
  };
  await Promise.all(Array.from({ length: clients }, worker));
  const secs = (Date.now() - start) / 1000;
  await pool.end();
  const s = stats(lat);
  return { clients, users: done, requested: n, failures, firstError, seconds: Math.round(secs * 10) / 10, rate: Math.round((done / secs) * 10) / 10, perUserMs: { p50: s.p50, p99: s.p99, max: s.max } };
}

// ---- sync ----
async function syncScenario(ctx) {
  const { CFG, log, limit } = ctx;
  const a = api(ctx, CFG.port);
  const server = await a.tenant('Sync', 'admin@sync-admin.test');
  const rawTenant = await a.tenant('RawSync', 'admin@rawsync-admin.test');
  const groups = await a.groups(server, CFG.syncGroups, 'Sync group');
  const rawGroups = await a.groups(rawTenant, CFG.syncGroups, 'Raw sync group');
  a.close();
  const n = CFG.syncUsers;
  const F = {};
  // Warm-up of both (JIT, pools, plans), not measured.
  const warm = Math.min(200, n);
  await rawSync({ dbUrl: ctx.dbUrl, poolSize: CFG.poolSize, tenantId: rawTenant.id, groups: rawGroups, domain: 'rawwarm.test', n: warm, clients: CFG.syncClients, seconds: limit(30) });
  await syncRun({ ports: [CFG.port], tenant: server, groups, prefix: 'warm', domain: 'sync.test', n: warm, clients: CFG.syncClients, seconds: limit(60) });
  log(`Entra-style sync: bare node+pg, the same three statements for ${n.toLocaleString('en')} users at ${CFG.syncClients} clients`);
  F.raw = await rawSync({ dbUrl: ctx.dbUrl, poolSize: CFG.poolSize, tenantId: rawTenant.id, groups: rawGroups, domain: 'raw.test', n, clients: CFG.syncClients, seconds: limit(CFG.syncSeconds) });
  log(`  ${F.raw.rate} users/s (${F.raw.users} users, ${F.raw.failures} failures)`);
  log(`Entra-style sync through the server: lookup (miss), POST /Users, PATCH /Groups add, ${n.toLocaleString('en')} users at ${CFG.syncClients} clients, ${CFG.syncGroups} groups`);
  ctx.rss?.setPhase('sync');
  F.server = await syncRun({ ports: [CFG.port], tenant: server, groups, prefix: 'sync', domain: 'sync.test', n, clients: CFG.syncClients, seconds: limit(CFG.syncSeconds) });
  log(`  ${F.server.rate} users/s (${F.server.users} users, ${F.server.failures} failures${F.server.firstError ? `: ${F.server.firstError}` : ''}), per user p50 ${F.server.perUserMs.p50} p99 ${F.server.perUserMs.p99} ms`);
  F.ratio = F.raw.rate ? Math.round((F.server.rate / F.raw.rate) * 100) / 100 : undefined;
  F.twentyThousandAtThisRate = F.server.rate ? `${Math.round(20000 / F.server.rate)} s` : undefined;
  return F;
}

/** Waits until `done()` resolves true, polling every `ms`, at most `seconds`. Resolves whether it did. */
async function until(done, seconds, ms = 100) {
  const end = Date.now() + seconds * 1000;
  while (Date.now() < end) {
    if (await done()) return true;
    await sleep(ms);
  }
  return false;
}

async function outboxPending(pool, tenantId) {
  const r = await pool.query(`SELECT count(*)::int AS n FROM outbox WHERE status = 'pending'${tenantId ? ' AND tenant_id = $1' : ''}`, tenantId ? [tenantId] : []);
  return r.rows[0].n;
}

// ---- mail ----
async function mailScenario(ctx) {
  const { CFG, log, limit } = ctx;
  const sink = await smtpSink();
  const disco = await discoveryServer();
  const pool = new Pool({ connectionString: ctx.dbUrl, max: 2 });
  const port = CFG.port + 1;
  const inst = await startInstance(ctx, {
    port,
    logFile: ctx.logFile('mail'),
    // BENCH_SMTP_POOL=false: the server's one-connection-per-message transport (SMTP_POOL=false),
    // to compare with the default pooled one in the same minutes.
    env: { SMTP_URL: sink.url, BENCH_MAIL_PAUSED: '1', MAIL_POLL_MS: '2000', SSO_ALLOW_INSECURE_ISSUERS: 'true', SSO_ALLOW_PRIVATE_ISSUERS: 'true', ...(process.env.BENCH_SMTP_POOL ? { SMTP_POOL: process.env.BENCH_SMTP_POOL } : {}) },
  });
  const pooled = process.env.BENCH_SMTP_POOL !== 'false';
  const F = { n: CFG.mailUsers, transport: `SMTP to smtp-server on 127.0.0.1 (nodemailer, ${pooled ? 'pooled connections (SMTP_POOL default)' : 'one connection per message (SMTP_POOL=false)'})`, tenants: {} };
  try {
    const a = api(ctx, port);
    const plain = await a.tenant('MailCost', 'admin@mailcost-admin.test');
    const sso = await a.tenant('SsoMail', 'admin@ssomail-admin.test');
    const conn = await a.admin(sso, 'POST', '/sso-connections', { issuer: disco.issuer, clientId: 'bench', clientSecret: 'bench-client-secret-0123456789', emailDomains: ['sso-bench.test'], requireSso: true }, 201);
    if (conn.requireSso !== true) throw new Error('the SSO connection does not require SSO');
    a.close();
    // Warm-up (JIT, pools, plans; not measured): creates in the plain tenant; their emails and the
    // primary admins' are sent before the measurements, which warms the worker up too.
    let w = 0;
    await load({
      port,
      connections: CFG.syncClients,
      seconds: limit(60),
      amount: Math.min(200, CFG.mailUsers),
      method: 'POST',
      path: `/scim/v2/${plain.id}/Users`,
      headers: { authorization: `Bearer ${plain.token}`, 'content-type': 'application/scim+json' },
      setup: (req) => ({ ...req, body: JSON.stringify(syncUser('warm', ++w, 'mail-warm.test')) }),
    });
    await inst.call('mail', { on: true, pollMs: 100 });
    await until(async () => (await outboxPending(pool)) === 0, limit(60));
    await inst.call('mail', { on: false });
    for (const [label, tenant, domain] of [
      ['activationEmail', plain, 'mail-bench.test'],
      ['requireSso', sso, 'sso-bench.test'],
    ]) {
      const n = CFG.mailUsers;
      let k = 0;
      const cpu0 = await inst.call('cpu');
      const creates = await load({
        port,
        connections: CFG.syncClients,
        seconds: limit(CFG.syncSeconds),
        amount: n,
        method: 'POST',
        path: `/scim/v2/${tenant.id}/Users`,
        headers: { authorization: `Bearer ${tenant.token}`, 'content-type': 'application/scim+json' },
        setup: (req) => ({ ...req, body: JSON.stringify(syncUser(label, ++k, domain)) }),
      });
      const cpu1 = await inst.call('cpu');
      const queued = (await pool.query(`SELECT count(*)::int AS n FROM outbox WHERE tenant_id = $1 AND template = 'activation' AND recipient LIKE $2`, [tenant.id, `%@${domain}`])).rows[0].n;
      const want = sink.tally((x) => x.endsWith(`@${domain}`)).messages + queued;
      log(`mail cost, ${label}: ${creates.ok} creates in ${creates.seconds} s (${cpuMs(cpu0, cpu1)} ms CPU); ${queued} activation emails queued; sending`);
      // The worker on its own: nothing else runs in the process while it drains the outbox.
      const cpu2 = await inst.call('cpu');
      const t0 = Date.now();
      await inst.call('mail', { on: true, pollMs: 100 });
      const drained = await until(async () => sink.tally((x) => x.endsWith(`@${domain}`)).messages >= want && (await outboxPending(pool, tenant.id)) === 0, limit(600));
      await inst.call('mail', { on: false });
      const cpu3 = await inst.call('cpu');
      const secs = (Date.now() - t0) / 1000;
      const sent = sink.tally((x) => x.endsWith(`@${domain}`));
      const per1000 = (ms, users) => (users ? Math.round((ms / users) * 1000) / 1000 : undefined); // seconds per 1,000 users
      F.tenants[label] = {
        creates: { ok: creates.ok, non2xx: creates.non2xx, seconds: creates.seconds, rate: creates.rate, cpuMs: cpuMs(cpu0, cpu1), cpuSecondsPer1000: per1000(cpuMs(cpu0, cpu1), creates.ok) },
        mail: { queued, sent: sent.messages, duplicated: sent.duplicated, drained, seconds: Math.round(secs * 10) / 10, cpuMs: cpuMs(cpu2, cpu3), cpuSecondsPer1000: per1000(cpuMs(cpu2, cpu3), creates.ok) },
      };
      const t = F.tenants[label];
      t.ratio = t.creates.cpuMs ? Math.round((t.mail.cpuMs / t.creates.cpuMs) * 100) / 100 : undefined;
      t.mail.cpuSecondsFor20000 = t.mail.cpuSecondsPer1000 !== undefined ? Math.round(t.mail.cpuSecondsPer1000 * 20 * 10) / 10 : undefined;
      log(`  sent ${sent.messages} in ${t.mail.seconds} s: ${t.mail.cpuMs} ms CPU (${t.mail.cpuSecondsPer1000} s per 1,000 users; creates ${t.creates.cpuSecondsPer1000} s per 1,000), ratio ${t.ratio}`);
    }
  } finally {
    await ctx.stopChild(inst.child);
    await pool.end();
    await sink.close();
    await disco.close();
  }
  return F;
}

// ---- two instances ----
async function twoScenario(ctx) {
  const { CFG, log, limit } = ctx;
  const sink = await smtpSink();
  const pool = new Pool({ connectionString: ctx.dbUrl, max: 2 });
  const [pa, pb] = [CFG.port + 2, CFG.port + 3];
  // One deployment: the same PUBLIC_URL (the balancer's), one database, one SMTP relay.
  const env = { SMTP_URL: sink.url, MAIL_POLL_MS: '500', PUBLIC_URL: `http://127.0.0.1:${pa}` };
  const [A, B] = await Promise.all([startInstance(ctx, { port: pa, logFile: ctx.logFile('A'), env }), startInstance(ctx, { port: pb, logFile: ctx.logFile('B'), env })]);
  const F = { checks: {} };
  const check = (name, pass, detail) => {
    F.checks[name] = { pass, ...detail };
    log(`  ${pass ? 'PASS' : 'FAIL'} ${name}: ${JSON.stringify(detail)}`);
  };
  try {
    const a = api(ctx, pa);
    const b = api(ctx, pb);
    const t = await a.tenant('Twin', 'admin@twin-admin.test');

    // 1. The purge job on both at once (first: main.ts also runs it 30 s after start).
    const K = CFG.purgeSubAccounts;
    const doomed = [];
    const doomedUsers = [];
    for (let k = 0; k < K; k++) {
      const via = k % 2 ? b : a;
      const members = [];
      for (let m = 0; m < 2; m++) members.push((await via.scim(t, 'POST', '/Users', syncUser(`purge${k}`, m, 'purge-bench.test'), 201)).id);
      doomedUsers.push(...members);
      doomed.push((await via.scim(t, 'POST', '/Groups', { schemas: [GROUP_URN], displayName: `Doomed ${k}`, members: members.map((value) => ({ value })), [PROVISIO_GROUP]: { kind: 'subAccount', active: false } }, 201)).id);
    }
    await pool.query(`UPDATE groups SET deactivated_at = now() - interval '13 months' WHERE tenant_id = $1 AND id = ANY($2::uuid[])`, [t.id, doomed]);
    const sinceStart = Math.round((Date.now() - Math.min(A.startedAt, B.startedAt)) / 100) / 10;
    log(`two instances: purge of ${K} sub-accounts run on both at once (${sinceStart} s after start)`);
    // Each call timed: the two runs overlap (the one behind waits on the other's row locks and
    // finds the rows gone, jobs/purge.ts), which is what "at once" means here.
    const timed = async (inst) => {
      const t0 = Date.now();
      const r = await inst.call('purge');
      return { r, t0, t1: Date.now() };
    };
    const [ta, tb] = await Promise.all([timed(A), timed(B)]);
    const [ra, rb] = [ta.r, tb.r];
    const overlapMs = Math.min(ta.t1, tb.t1) - Math.max(ta.t0, tb.t0);
    const mine = (r) => r.filter((x) => x.tenantId === t.id).map((x) => x.subAccountId);
    const both = [...mine(ra), ...mine(rb)];
    const audit = (await pool.query(`SELECT count(*)::int AS n, count(DISTINCT target_id)::int AS d FROM audit_log WHERE tenant_id = $1 AND action = 'subAccount.purge'`, [t.id])).rows[0];
    const leftGroups = (await pool.query('SELECT count(*)::int AS n FROM groups WHERE tenant_id = $1 AND id = ANY($2::uuid[])', [t.id, doomed])).rows[0].n;
    const leftUsers = (await pool.query('SELECT count(*)::int AS n FROM users WHERE tenant_id = $1 AND id = ANY($2::uuid[])', [t.id, doomedUsers])).rows[0].n;
    check('purge on both at once purges once', overlapMs > 0 && both.length === K && new Set(both).size === K && audit.n === K && audit.d === K && leftGroups === 0 && leftUsers === 0, {
      subAccounts: K,
      purgedByA: mine(ra).length,
      purgedByB: mine(rb).length,
      auditEntries: audit.n,
      groupsLeft: leftGroups,
      usersLeft: leftUsers,
      runsOverlapMs: overlapMs,
      secondsAfterStart: sinceStart,
    });

    // 2. A session made on one instance is used on the other: activated (which signs in) on B,
    // read on A; a password sign-in on A, read and ended on B, gone on A.
    const addr = 'session.0@twin-bench.test';
    sink.keep(addr);
    const person = await a.scim(t, 'POST', '/Users', syncUser('session', 0, 'twin-bench.test'), 201);
    const got = await until(async () => !!sink.lastText(addr), limit(30));
    const token = got ? /\/activate\?token=([A-Za-z0-9_-]{43})/.exec(sink.lastText(addr))?.[1] : undefined;
    const br = browserClient();
    let activated;
    if (token) {
      await br.get(pb, `/activate?token=${token}`);
      activated = await br.post(pb, '/activate', { token, password: PASSWORD, acceptPrivacy: 'yes' });
    }
    const meA = await br.get(pa, '/api/v1/me');
    check('session made on B is used on A', activated?.status === 303 && meA.status === 200 && JSON.parse(meA.body).id === person?.id, { activateOnB: activated?.status, meOnA: meA.status });
    const br2 = browserClient();
    await br2.get(pa, '/login');
    const signed = await br2.post(pa, '/login/password', { email: addr, password: PASSWORD });
    const meB = await br2.get(pb, '/api/v1/me');
    await br2.get(pb, '/account');
    const out = await br2.post(pb, '/logout', {});
    const afterOut = await br2.get(pa, '/api/v1/me');
    check('session made on A is used on B, and ended on B ends it on A', signed.status === 303 && meB.status === 200 && out.status === 303 && afterOut.status === 401, {
      signInOnA: signed.status,
      meOnB: meB.status,
      logoutOnB: out.status,
      meOnAAfter: afterOut.status,
    });
    br.close();
    br2.close();

    // 3. The sign-in limiter counts across instances: wrong passwords for one email from one
    // address (X-Forwarded-For, loopback being a trusted proxy), alternating between the two,
    // are refused at the same attempt as on one instance.
    const refusedAt = async (ports, ip, who) => {
      const c = browserClient({ 'x-forwarded-for': ip });
      try {
        for (let i = 1; i <= 30; i++) {
          const port = ports[i % ports.length];
          await c.get(port, '/login');
          const r = await c.post(port, '/login/password', { email: who, password: `wrong-password-${i}-bench` });
          if (r.status === 429) return i;
          if (r.status !== 401) throw new Error(`sign-in attempt → ${r.status}`);
        }
        return undefined;
      } finally {
        c.close();
      }
    };
    const single = await refusedAt([pa], '127.0.9.1', 'nobody-one@twin-bench.test');
    const spread = await refusedAt([pa, pb], '127.0.9.2', 'nobody-two@twin-bench.test');
    check('sign-in limit counted on both', single !== undefined && single === spread, { refusedAtAttemptOneInstance: single, refusedAtAttemptAlternating: spread });

    // 4. Throughput: the sync workload on one instance, then round-robin over both; the mail
    // workers paused meanwhile (both measured without them), then both send the backlog.
    const groups = await a.groups(t, CFG.syncGroups, 'Twin group');
    a.close();
    b.close();
    await Promise.all([A.call('mail', { on: false }), B.call('mail', { on: false })]);
    const n = CFG.twoUsers;
    const warm = await syncRun({ ports: [pa, pb], tenant: t, groups, prefix: 'warm', domain: 'twin-warm.test', n: Math.min(200, n), clients: CFG.syncClients, seconds: limit(60) });
    const cpu = async () => Promise.all([A.call('cpu'), B.call('cpu')]);
    log(`two instances: sync workload, ${n.toLocaleString('en')} users at ${CFG.syncClients} clients on one instance, then round-robin over two`);
    const c0 = await cpu();
    F.one = await syncRun({ ports: [pa], tenant: t, groups, prefix: 'one', domain: 'twin-sync.test', n, clients: CFG.syncClients, seconds: limit(CFG.syncSeconds) });
    const c1 = await cpu();
    F.two = await syncRun({ ports: [pa, pb], tenant: t, groups, prefix: 'two', domain: 'twin-sync.test', n, clients: CFG.syncClients, seconds: limit(CFG.syncSeconds) });
    const c2 = await cpu();
    F.one.cpuMs = { A: cpuMs(c0[0], c1[0]), B: cpuMs(c0[1], c1[1]) };
    F.two.cpuMs = { A: cpuMs(c1[0], c2[0]), B: cpuMs(c1[1], c2[1]) };
    F.ratio = F.one.rate ? Math.round((F.two.rate / F.one.rate) * 100) / 100 : undefined;
    log(`  one ${F.one.rate} users/s, two ${F.two.rate} users/s (×${F.ratio}); failures ${F.one.failures} / ${F.two.failures}`);

    // 5. Every outbox message sent once: both workers on, every create's activation email.
    const created = F.one.users + F.two.users + warm.users;
    const isSync = (x) => x.endsWith('@twin-sync.test') || x.endsWith('@twin-warm.test');
    await Promise.all([A.call('mail', { on: true }), B.call('mail', { on: true })]);
    const t0 = Date.now();
    await until(async () => (await outboxPending(pool, t.id)) === 0 && sink.tally(isSync).messages >= created, limit(600), 200);
    const drainSeconds = Math.round((Date.now() - t0) / 100) / 10;
    await sleep(1500); // a late duplicate would arrive within a poll or two
    const tally = sink.tally(isSync);
    const rows = (await pool.query(`SELECT status, count(*)::int AS n FROM outbox WHERE tenant_id = $1 AND template = 'activation' GROUP BY status`, [t.id])).rows;
    const byStatus = Object.fromEntries(rows.map((r) => [r.status, r.n]));
    check('each outbox message sent once by two workers', tally.messages === created && tally.addresses === created && tally.duplicated === 0, {
      creates: created,
      mailsReceived: tally.messages,
      distinctRecipients: tally.addresses,
      duplicated: tally.duplicated,
      outbox: byStatus,
      drainSeconds,
    });
  } finally {
    await Promise.all([ctx.stopChild(A.child), ctx.stopChild(B.child)]);
    await pool.end();
    await sink.close();
  }
  return F;
}

/** Rows for the printed table (run.js report). */
function reportRows(F, add, fmt, ratio, cfg) {
  const s = F.sync;
  if (s) {
    add(`bare node+pg sync: lookup + INSERT user + INSERT member, ${cfg.syncClients} clients`, `${fmt(s.raw?.rate, ' users/s')} (${s.raw?.users} users)`, '', undefined, 'baseline');
    add(`Entra-style sync: GET filter (miss) + POST /Users + PATCH /Groups, ${cfg.syncClients} clients`, `${fmt(s.server?.rate, ' users/s')} (${s.server?.users} users, ${s.server?.failures} failed; per user p50 ${fmt(s.server?.perUserMs.p50)} / p99 ${fmt(s.server?.perUserMs.p99, ' ms')})`, 'bare sync', ratio(s.server?.rate, s.raw?.rate), '(informational)');
  }
  const m = F.mailCost;
  if (m) {
    for (const [label, t] of Object.entries(m.tenants ?? {})) {
      add(`creates, ${label} tenant (${t.creates.ok} at ${cfg.syncClients} connections): server CPU`, `${fmt(t.creates.cpuSecondsPer1000, ' s')} per 1,000 users (${fmt(t.creates.rate, ' req/s')})`, '', undefined, 'baseline');
      add(`activation mail, ${label} tenant: worker CPU to send`, `${fmt(t.mail.cpuSecondsPer1000, ' s')} per 1,000 users (${t.mail.sent} sent, ${t.mail.queued} queued; ${fmt(t.mail.cpuSecondsFor20000, ' s')} for 20,000)`, 'creates CPU', t.ratio === undefined ? undefined : String(t.ratio), label === 'requireSso' ? 'no mail sent' : '(informational)', label === 'requireSso' ? t.mail.sent === 0 && t.mail.queued === 0 : undefined);
    }
  }
  const two = F.twoInstances;
  if (two) {
    for (const [name, c] of Object.entries(two.checks ?? {})) {
      const { pass, ...detail } = c;
      add(`two instances: ${name}`, Object.entries(detail).map(([k, v]) => `${k} ${typeof v === 'object' ? JSON.stringify(v) : v}`).join(', '), '', undefined, 'pass', pass ? 'PASS' : 'FAIL');
    }
    if (two.one) add(`sync workload, one instance (${cfg.syncClients} clients)`, `${fmt(two.one.rate, ' users/s')} (${two.one.users} users)`, '', undefined, 'baseline');
    if (two.two) add(`sync workload, two instances round-robin (${cfg.syncClients} clients)`, `${fmt(two.two.rate, ' users/s')} (${two.two.users} users; CPU ms A ${two.two.cpuMs?.A} / B ${two.two.cpuMs?.B})`, 'one instance', ratio(two.two.rate, two.one.rate), '(informational)');
  }
}

module.exports = { syncScenario, mailScenario, twoScenario, reportRows };
