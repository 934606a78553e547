// Test harness: a real server (createApp over real deps) on a real database — a fresh in-memory
// PGlite, or a fresh PostgreSQL database created for the test file and dropped after — chosen by
// TEST_DB (set per jest project). Nothing of our own is mocked.
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Express } from 'express';
import knexFactory from 'knex';
import request from 'supertest';
import { Writable } from 'node:stream';
import { createApp } from '../../server/app';
import { loadConfig } from '../../server/config';
import { createDeps, Deps } from '../../server/deps';
import type { AfterResponse } from '../../server/http/after-response';
import { createLogger } from '../../server/logger';
import { openDatabase, Database } from '../../server/store/db';
import type { PoolerMode } from '../../server/store/pg-client';
import { asOwner, Tx } from '../../server/store/scope';
import { unscopedStatement } from './sql-scope';

export const OPERATOR_TOKEN = 'test-operator-token-0123456789';
/** The harness's default DNS_SERVERS: a closed loopback port, so lookups fail at once and locally. */
export const NO_DNS = '127.0.0.1:1';
/** The development settings for IdPs on http://127.0.0.1:<port> (test/support/oidc-idp.ts). */
export const LOOPBACK_IDP_ENV = { SSO_ALLOW_INSECURE_ISSUERS: 'true', SSO_ALLOW_PRIVATE_ISSUERS: 'true' };
export const ADMIN_URL = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface Harness {
  app: Express;
  deps: Deps;
  db: Database;
  /** Every log line written by the server during the test file. */
  logs: string[];
  /** Statements the server sent that touch a tenant table without naming the tenant (test/support/sql-scope.ts). */
  unscoped: string[];
  http: ReturnType<typeof request>;
  /** Runs SQL as the schema owner, past row-level security (for seeding and inspecting). */
  owner<T>(fn: (trx: Tx) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  clock?: () => Date;
  env?: Record<string, string>;
  /** Runs the work the server does after answering (default: the server's own runner). */
  later?: AfterResponse;
}

/**
 * In the api:pgbouncer project, the same database through the run's PgBouncer
 * (test/support/pgbouncer-global.js); otherwise the URL itself.
 */
export function pooledUrl(directUrl: string): string {
  if (process.env.TEST_POOLER !== 'pgbouncer') return directUrl;
  const port = process.env.TEST_PGBOUNCER_PORT;
  if (!port) throw new Error('TEST_POOLER=pgbouncer but no PgBouncer was started (jest globalSetup test/support/pgbouncer-global.js)');
  const u = new URL(directUrl);
  u.hostname = '127.0.0.1';
  u.port = port;
  return u.href;
}

/**
 * The pooler setting a test file's server gets unless it says otherwise: transaction behind
 * PgBouncer. TEST_DATABASE_POOLER=none runs the api:pgbouncer project without it, to see what
 * breaks (docs/operations.md, "Through PgBouncer").
 */
export const defaultPooler = (): PoolerMode =>
  (process.env.TEST_DATABASE_POOLER as PoolerMode | undefined) ?? (process.env.TEST_POOLER === 'pgbouncer' ? 'transaction' : 'none');

/**
 * Opens a fresh database of the kind this jest project tests. On PostgreSQL it is created over the
 * direct connection; the server's URL (`url`) goes through PgBouncer in the api:pgbouncer project.
 */
export async function freshDatabase(
  logger = createLogger('silent'),
  opts: { pooler?: PoolerMode } = {},
): Promise<{ db: Database; drop(): Promise<void>; url?: string; pooler: PoolerMode }> {
  if (process.env.TEST_DB === 'postgres') {
    const name = `provisio_test_${randomBytes(6).toString('hex')}`;
    const admin = knexFactory({ client: 'pg', connection: ADMIN_URL, pool: { min: 0, max: 1 } });
    await admin.raw(`CREATE DATABASE ${name}`);
    const url = pooledUrl(ADMIN_URL.replace(/\/[^/]*$/, `/${name}`));
    const pooler = opts.pooler ?? defaultPooler();
    const db = await openDatabase({ databaseUrl: url, poolSize: 10, pooler, logger });
    return {
      db,
      url,
      pooler,
      drop: async () => {
        await db.close();
        await admin.raw(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        await admin.destroy();
      },
    };
  }
  const db = await openDatabase({ poolSize: 1, logger, snapshot: await migratedSnapshot() });
  return { db, pooler: 'none', drop: () => db.close() };
}

/**
 * An embedded database with every migration applied, as a data directory tarball, made once per
 * set of migrations and kept in the system's temp directory for every test file and jest worker
 * of the run (and later runs). Starting from it takes about 0.4 s where initdb and the migrations
 * take about 3-4 s, over a hundred times per run. The server still runs its migrations on it
 * (createDeps), which finds none left to apply. Migrations from an empty database are still run on
 * every file's PostgreSQL database, and on PGlite by the CLI tests, whose DATA_DIR starts from
 * initdb (operator.test.ts, addresses.test.ts).
 */
async function migratedSnapshot(): Promise<Blob> {
  const root = path.join(__dirname, '..', '..');
  const hash = createHash('sha256');
  hash.update(fs.readFileSync(path.join(root, 'node_modules/@electric-sql/pglite/package.json')));
  for (const dir of ['migrations', 'server/store/migrations.ts']) {
    const full = path.join(root, dir);
    const files = fs.statSync(full).isDirectory() ? fs.readdirSync(full).sort().map((f) => path.join(full, f)) : [full];
    for (const f of files) hash.update(f.slice(root.length)).update(fs.readFileSync(f));
  }
  const file = path.join(os.tmpdir(), `provisio-test-pglite-${hash.digest('hex').slice(0, 16)}.tar`);
  if (fs.existsSync(file)) return new Blob([fs.readFileSync(file)]);
  const db = await openDatabase({ poolSize: 1, logger: createLogger('silent') });
  let tar: Buffer;
  try {
    await db.migrate();
    tar = Buffer.from(await (await db.snapshot!()).arrayBuffer());
  } finally {
    await db.close();
  }
  // Written aside and renamed: a file of this name is always whole, whichever file or worker made
  // it first. A temp directory that cannot take it (full, read-only) only costs the time: this
  // file's database starts from the snapshot in memory, and the next file makes its own.
  const part = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
  try {
    fs.writeFileSync(part, tar);
    fs.renameSync(part, file);
    // Snapshots of older migrations are 40 MB each and no longer match anything here.
    for (const f of fs.readdirSync(os.tmpdir())) {
      if (/^provisio-test-pglite-[0-9a-f]{16}\.tar$/.test(f) && path.join(os.tmpdir(), f) !== file) fs.rmSync(path.join(os.tmpdir(), f), { force: true });
    }
  } catch {
    fs.rmSync(part, { force: true });
  }
  return new Blob([tar]);
}

export async function startHarness(opts: HarnessOptions = {}): Promise<Harness> {
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      logs.push(...String(chunk).split('\n').filter(Boolean));
      cb();
    },
  });
  const logger = createLogger('info', sink);
  // DNS goes to a loopback port nothing listens on unless a test runs its own server there
  // (test/support/dns-server.ts): no test can ever ask a real resolver.
  const pooler = opts.env?.DATABASE_POOLER as PoolerMode | undefined;
  const fresh = await freshDatabase(logger, { pooler });
  const database = fresh.url ? { DATABASE_URL: fresh.url, DATABASE_POOLER: fresh.pooler } : {};
  const config = loadConfig({ PUBLIC_URL: 'http://provisio.test', OPERATOR_TOKEN, LOG_LEVEL: 'info', DNS_SERVERS: NO_DNS, ...opts.env, ...database });
  const deps = await createDeps(config, logger, { db: fresh.db, clock: opts.clock, later: opts.later });
  const app = createApp(deps);
  // Every statement the server sends through its pool must filter on the tenant or say why it
  // does not; close() fails the test file otherwise (test/support/sql-scope.ts).
  const tenantTables = new Set<string>(
    (
      await asOwner(fresh.db.knex, (trx) => trx.raw(`SELECT DISTINCT table_name FROM information_schema.columns WHERE table_schema = 'public' AND column_name = 'tenant_id'`))
    ).rows.map((r: { table_name: string }) => r.table_name),
  );
  const unscoped: string[] = [];
  // The test's own inspection through owner() is not the server's, and is not checked.
  let inspecting = 0;
  fresh.db.knex.on('query', (q: { sql?: string }) => {
    const why = q.sql && !inspecting ? unscopedStatement(q.sql, tenantTables) : undefined;
    if (why && !unscoped.includes(q.sql!)) unscoped.push(q.sql!);
  });
  return {
    app,
    deps,
    db: fresh.db,
    logs,
    unscoped,
    http: request(app),
    owner: async (fn) => {
      inspecting++;
      try {
        return await asOwner(fresh.db.knex, fn);
      } finally {
        inspecting--;
      }
    },
    close: async () => {
      await deps.close();
      await fresh.drop();
      if (unscoped.length) throw new Error(`The server sent statements that touch a tenant table without tenant_id or a /* cross-tenant: … */ marker:\n${unscoped.join('\n---\n')}`);
    },
  };
}

export interface TestTenant {
  id: string;
  token: string;
  base: string;
  /** Path prefix of the tenant's SCIM API (relative to the app), e.g. /scim/v2/<id>. */
  path: string;
  primaryAdminId: string;
  /** The primary admin's sign-in email. */
  adminEmail: string;
}

export async function createTenant(h: Harness, name = 'Acme', adminEmail = `admin-${randomBytes(4).toString('hex')}@acme.test`): Promise<TestTenant> {
  const res = await h.http.post('/operator/v1/tenants').set('Authorization', `Bearer ${OPERATOR_TOKEN}`).send({ name, adminEmail });
  if (res.status !== 201) throw new Error(`tenant creation failed: ${res.status} ${JSON.stringify(res.body)}`);
  const base: string = res.body.scimBaseUrl;
  return { id: res.body.id, token: res.body.token, base, path: new URL(base).pathname, primaryAdminId: res.body.primaryAdminId, adminEmail };
}

/** A small SCIM client bound to one tenant. */
export function scim(h: Harness, t: TestTenant) {
  const auth = (r: request.Test) => r.set('Authorization', `Bearer ${t.token}`);
  return {
    get: (p: string) => auth(h.http.get(t.path + p)),
    post: (p: string, body?: unknown) => auth(h.http.post(t.path + p).set('Content-Type', 'application/scim+json')).send(JSON.stringify(body ?? {})),
    put: (p: string, body: unknown) => auth(h.http.put(t.path + p).set('Content-Type', 'application/scim+json')).send(JSON.stringify(body)),
    patch: (p: string, body: unknown) => auth(h.http.patch(t.path + p).set('Content-Type', 'application/scim+json')).send(JSON.stringify(body)),
    delete: (p: string) => auth(h.http.delete(t.path + p)),
  };
}

export const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
export const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
export const PROVISIO_USER = 'urn:provisio:params:scim:schemas:extension:2.0:User';
export const PROVISIO_GROUP = 'urn:provisio:params:scim:schemas:extension:2.0:Group';
export const ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';

/** A small admin API client (/api/v1) with a tenant's token (or another token of it). */
export function adminApi(h: Harness, t: TestTenant, token = t.token) {
  const auth = (r: request.Test) => r.set('Authorization', `Bearer ${token}`);
  return {
    get: (p: string) => auth(h.http.get(`/api/v1${p}`)),
    post: (p: string, body?: unknown) => auth(h.http.post(`/api/v1${p}`)).send(body as object),
    put: (p: string, body: unknown) => auth(h.http.put(`/api/v1${p}`)).send(body as object),
    patch: (p: string, body: unknown) => auth(h.http.patch(`/api/v1${p}`)).send(body as object),
    delete: (p: string) => auth(h.http.delete(`/api/v1${p}`)),
  };
}

/** Asserts an admin API error: JSON, the SCIM error shape, this status (and scimType, detail). */
export function expectJsonError(res: request.Response, status: number, scimType?: string, detail?: RegExp) {
  expect({ status: res.status, type: res.headers['content-type'] }).toEqual({ status, type: expect.stringMatching(/^application\/json/) });
  expect(res.body).toMatchObject({ schemas: [ERROR], status: String(status), detail: expect.any(String) });
  if (scimType) expect(res.body.scimType).toBe(scimType);
  if (detail) expect(res.body.detail).toMatch(detail);
}

/** Asserts a response is a RFC 7644 §3.12 error with this status (and scimType, if given). */
export function expectScimError(res: request.Response, status: number, scimType?: string) {
  expect({ status: res.status, type: res.headers['content-type'] }).toEqual({ status, type: expect.stringMatching(/^application\/scim\+json/) });
  expect(res.body.schemas).toEqual([ERROR]);
  expect(res.body.status).toBe(String(status));
  expect(typeof res.body.detail).toBe('string');
  expect(res.body.detail.length).toBeGreaterThan(0);
  if (scimType) expect(res.body.scimType).toBe(scimType);
}

/**
 * Runs `fn` with the environment the CLI reads pointing at a fresh database of this run's kind
 * (DATABASE_URL on PostgreSQL, DATA_DIR on PGlite), silent logs, and the lines it prints
 * collected in `out`; restores the environment and drops the database afterwards.
 */
export async function withCliDatabase(fn: (out: string[], print: (line: string) => void) => Promise<void>): Promise<void> {
  const fresh = await freshDatabase();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'provisio-cli-'));
  const saved = { ...process.env };
  if (fresh.url) {
    process.env.DATABASE_URL = fresh.url;
    process.env.DATABASE_POOLER = fresh.pooler;
  } else {
    await fresh.drop();
    process.env.DATA_DIR = dir;
    delete process.env.DATABASE_URL;
  }
  process.env.LOG_LEVEL = 'silent';
  const out: string[] = [];
  try {
    await fn(out, (line) => out.push(line));
  } finally {
    process.env = saved;
    if (fresh.url) await fresh.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
