// Opens the database: PostgreSQL through pg when DATABASE_URL is set, otherwise an embedded
// PGlite (PostgreSQL in WASM) kept under DATA_DIR. PGlite is reached through its wire-protocol
// socket server, so both paths use knex's own `pg` client and return identical types
// (a third-party PGlite dialect for knex returned count(*) as a number where pg returns a string).
import fs from 'node:fs';
import path from 'node:path';
import knexFactory, { Knex } from 'knex';
import type { Logger } from 'pino';
import { migrateLatest } from './migrations';
import { APP_ROLE } from './scope';
import { PoolerMode, POOLER_KEY, TenantAwarePgClient } from './pg-client';

export interface Database {
  /** The application pool: every connection works as the role provisio_app (row-level security). */
  knex: Knex;
  kind: 'postgres' | 'pglite';
  /** Applies migrations over a short-lived connection as the schema owner; returns what ran. */
  migrate(): Promise<string[]>;
  /** Closes the pool and, for the embedded database, PGlite itself. */
  close(): Promise<void>;
  /**
   * The embedded database only: its whole data directory as an uncompressed tarball, which
   * `DatabaseOptions.snapshot` starts another in-memory database from.
   */
  snapshot?(): Promise<Blob>;
}

export interface DatabaseOptions {
  databaseUrl?: string;
  /** Directory for the embedded database; undefined keeps it in memory (tests). */
  dataDir?: string;
  /**
   * An in-memory embedded database starts from this data directory (Database.snapshot) instead of
   * running initdb, which takes seconds in WASM. The test harness starts each file's database from
   * one migrated snapshot (test/support/harness.ts).
   */
  snapshot?: Blob;
  poolSize: number;
  /**
   * 'transaction' when DATABASE_URL reaches PostgreSQL through a pooler in transaction pooling
   * (PgBouncer pool_mode = transaction): no session state, no named statements (store/pg-client.ts).
   */
  pooler?: PoolerMode;
  logger: Logger;
}

/** How long a request waits for a pooled connection before failing with 503. */
const ACQUIRE_TIMEOUT_MS = 5000;

export async function openDatabase(opts: DatabaseOptions): Promise<Database> {
  if (opts.databaseUrl) return openPostgres(opts.databaseUrl, opts.poolSize, opts.pooler ?? 'none', opts.logger);
  if (opts.snapshot && opts.dataDir) throw new Error('A snapshot starts an in-memory embedded database only, not one in DATA_DIR');
  return openEmbedded(opts.dataDir, opts.logger, opts.snapshot);
}

type PgConn = { on(ev: string, fn: (e: Error) => void): void; query(sql: string, cb: (err: Error | null) => void): void };

/**
 * The pool every request uses. Its work runs as the application role, which owns no table, so
 * row-level security applies even when DATABASE_URL names the schema owner or a superuser (PGlite
 * always runs as one): each new connection switches to it, or, behind a transaction pooler where a
 * connection's session is not ours to keep, each transaction does (store/pg-client.ts).
 */
function appPool(connectionString: string, max: number, acquireTimeoutMs: number, pooler: PoolerMode, logger: Logger): Knex {
  const config: Knex.Config & { [POOLER_KEY]: PoolerMode } = {
    client: TenantAwarePgClient as unknown as typeof Knex.Client,
    connection: { connectionString, application_name: 'provisio' },
    // Read by the client (store/pg-client.ts); knex keeps its configuration whole.
    [POOLER_KEY]: pooler,
    pool: {
      min: 0,
      max,
      afterCreate: (conn: PgConn, done: (err: Error | null, c: unknown) => void) => {
        // An idle client whose server went away emits 'error'; without a listener the process
        // would crash on a database restart. knex marks the connection disposed; we only log.
        conn.on('error', (err: Error) => logger.warn({ err: { message: err.message } }, 'database connection error'));
        if (pooler === 'transaction') return done(null, conn);
        conn.query(`SET ROLE ${APP_ROLE}`, (err) => done(err, conn));
      },
    },
    acquireConnectionTimeout: acquireTimeoutMs,
    log: knexLog(logger),
  };
  return knexFactory(config);
}

/** Runs migrations as the connection's own user (the schema owner), then disconnects. */
async function migrateAsOwner(connectionString: string, logger: Logger): Promise<string[]> {
  const owner = knexFactory({ client: 'pg', connection: { connectionString, application_name: 'provisio-migrate' }, pool: { min: 0, max: 1 }, log: knexLog(logger) });
  try {
    return await migrateLatest(owner);
  } finally {
    await owner.destroy();
  }
}

function openPostgres(connectionString: string, poolSize: number, pooler: PoolerMode, logger: Logger): Database {
  // Migrations go through the same URL, pooler or not: knex's migration lock is a row in
  // knex_migrations_lock taken in a transaction (no advisory lock), each migration runs in one
  // transaction, and none sets anything for the session (docs/operations.md).
  const knex = appPool(connectionString, poolSize, ACQUIRE_TIMEOUT_MS, pooler, logger);
  return { knex, kind: 'postgres', migrate: () => migrateAsOwner(connectionString, logger), close: () => knex.destroy() };
}

async function openEmbedded(dataDir: string | undefined, logger: Logger, snapshot: Blob | undefined): Promise<Database> {
  // PGlite is ESM; Node ≥ 20.19 loads it with require() (package.json engines).
  const { PGlite } = await import('@electric-sql/pglite');
  // A subpath export that moduleResolution "node" cannot type; it is plain ESM at runtime.
  const contrib = '@electric-sql/pglite/contrib/btree_gin';
  const { btree_gin } = (await import(contrib)) as { btree_gin: never };
  const { PGLiteSocketServer } = await import('@electric-sql/pglite-socket');
  let pgDir: string | undefined;
  let releaseLock = () => {};
  if (dataDir) {
    pgDir = path.join(dataDir, 'pgdata');
    fs.mkdirSync(pgDir, { recursive: true });
    releaseLock = lockDataDir(dataDir);
  }
  const db = await PGlite.create(pgDir, { extensions: { btree_gin }, ...(snapshot ? { loadDataDir: snapshot } : {}) });
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0 });
  await server.start();
  const address = server.getServerConn();
  logger.info({ dataDir: pgDir ?? 'memory' }, 'embedded database (PGlite) started');
  const url = `postgres://postgres@${address}/postgres`;
  // PGlite serves one connection; queries queue in the pool.
  const knex = appPool(url, 1, 60_000, 'none', logger);
  return {
    knex,
    kind: 'pglite',
    // Before the app pool has connected (it connects lazily), so PGlite serves one at a time.
    migrate: () => migrateAsOwner(url, logger),
    snapshot: async () => (await db.dumpDataDir('none')) as Blob,
    close: async () => {
      await knex.destroy();
      await server.stop();
      await db.close();
      releaseLock();
    },
  };
}

/** Routes knex's own messages (which it would print to the console) into our structured log. */
function knexLog(logger: Logger) {
  const msg = (m: unknown) => ({ detail: typeof m === 'string' ? m : (m as Error)?.message ?? String(m) });
  return {
    warn: (m: unknown) => logger.warn(msg(m), 'knex'),
    error: (m: unknown) => logger.warn(msg(m), 'knex'),
    deprecate: (m: unknown) => logger.debug(msg(m), 'knex deprecation'),
    debug: (m: unknown) => logger.debug(msg(m), 'knex'),
  };
}

/**
 * PGlite allows one process per data directory; a second one (say the CLI while the server runs)
 * would corrupt it. A lock file with our pid stops that; a lock left by a dead process is taken over.
 */
function lockDataDir(dataDir: string): () => void {
  const lock = path.join(dataDir, 'provisio.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(lock, String(process.pid), { flag: 'wx' });
      return () => fs.rmSync(lock, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number(fs.readFileSync(lock, 'utf8'));
      if (pid && pid !== process.pid && isAlive(pid)) {
        throw new Error(`The embedded database in ${dataDir} is in use by process ${pid}; stop it first or use the operator API`);
      }
      fs.rmSync(lock, { force: true });
    }
  }
  throw new Error(`Could not lock ${dataDir}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '08000',
  '08003',
  '08006',
  '53300', // too_many_connections
]);

/** True for errors that mean "the database is unreachable right now" (mapped to 503). */
export function isConnectionError(err: unknown): boolean {
  if (!err || typeof err !== 'object') return false;
  const e = err as { code?: string; name?: string; message?: string; severity?: string };
  if (e.code && CONNECTION_CODES.has(e.code)) return true;
  // A FATAL error ends the session: the server refused or dropped us (e.g. 55000 "database is not
  // currently accepting connections" during maintenance). Class 08 is connection exceptions.
  if (e.severity === 'FATAL' || e.severity === 'PANIC') return true;
  if (e.code && e.code.startsWith('08')) return true;
  if (e.name === 'KnexTimeoutError') return true;
  const msg = e.message ?? '';
  return /Connection terminated|connection is closed|Client has encountered a connection error|terminating connection/i.test(msg);
}

/** One round trip to the database (readiness). */
export async function ping(knex: Knex): Promise<void> {
  await knex.raw('SELECT 1');
}

/** PostgreSQL unique_violation. */
export const isUniqueViolation = (err: unknown, constraint?: string) =>
  !!err && (err as { code?: string }).code === '23505' && (!constraint || (err as { constraint?: string }).constraint === constraint);

/** PostgreSQL foreign_key_violation. */
export const isForeignKeyViolation = (err: unknown) => !!err && (err as { code?: string }).code === '23503';

/** The pool's connections now (tarn, knex's pool), for the metrics; undefined before the pool exists. */
export function poolStats(knex: Knex): { used: number; free: number; pendingAcquires: number; pendingCreates: number; max: number } | undefined {
  const pool = (knex.client as { pool?: { numUsed(): number; numFree(): number; numPendingAcquires(): number; numPendingCreates(): number; max: number } }).pool;
  if (!pool) return undefined;
  return { used: pool.numUsed(), free: pool.numFree(), pendingAcquires: pool.numPendingAcquires(), pendingCreates: pool.numPendingCreates(), max: pool.max };
}
