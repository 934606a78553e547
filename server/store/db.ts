// Opens the database: PostgreSQL through pg when DATABASE_URL is set, otherwise an embedded
// PGlite (PostgreSQL in WASM) kept under DATA_DIR. PGlite is reached through its wire-protocol
// socket server, so both paths use knex's own `pg` client and return identical types
// (shared/guide/stack-notes.md: a third-party dialect returned count(*) as a number).
import fs from 'node:fs';
import path from 'node:path';
import knexFactory, { Knex } from 'knex';
import type { Logger } from 'pino';

export interface Database {
  knex: Knex;
  kind: 'postgres' | 'pglite';
  /** Closes the pool and, for the embedded database, PGlite itself. */
  close(): Promise<void>;
}

export interface DatabaseOptions {
  databaseUrl?: string;
  /** Directory for the embedded database; undefined keeps it in memory (tests). */
  dataDir?: string;
  poolSize: number;
  logger: Logger;
}

/** How long a request waits for a pooled connection before failing with 503. */
const ACQUIRE_TIMEOUT_MS = 5000;

export async function openDatabase(opts: DatabaseOptions): Promise<Database> {
  if (opts.databaseUrl) return openPostgres(opts.databaseUrl, opts.poolSize, opts.logger);
  return openEmbedded(opts.dataDir, opts.logger);
}

function openPostgres(connectionString: string, poolSize: number, logger: Logger): Database {
  const knex = knexFactory({
    client: 'pg',
    connection: { connectionString, application_name: 'provisio' },
    pool: {
      min: 0,
      max: poolSize,
      // An idle client whose server went away emits 'error'; without a listener the process
      // would crash on a database restart. knex marks the connection disposed; we only log.
      afterCreate: (conn: { on(ev: string, fn: (e: Error) => void): void }, done: (err: Error | null, c: unknown) => void) => {
        conn.on('error', (err: Error) => logger.warn({ err: { message: err.message } }, 'database connection error'));
        done(null, conn);
      },
    },
    acquireConnectionTimeout: ACQUIRE_TIMEOUT_MS,
    log: knexLog(logger),
  });
  return { knex, kind: 'postgres', close: () => knex.destroy() };
}

async function openEmbedded(dataDir: string | undefined, logger: Logger): Promise<Database> {
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
  const db = await PGlite.create(pgDir, { extensions: { btree_gin } });
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0 });
  await server.start();
  const address = server.getServerConn();
  logger.info({ dataDir: pgDir ?? 'memory' }, 'embedded database (PGlite) started');
  const knex = knexFactory({
    client: 'pg',
    connection: { connectionString: `postgres://postgres@${address}/postgres` },
    // PGlite serves one connection; queries queue in the pool.
    pool: { min: 0, max: 1 },
    acquireConnectionTimeout: 60_000,
    log: knexLog(logger),
  });
  return {
    knex,
    kind: 'pglite',
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

/** PostgreSQL unique_violation. */
export const isUniqueViolation = (err: unknown, constraint?: string) =>
  !!err && (err as { code?: string }).code === '23505' && (!constraint || (err as { constraint?: string }).constraint === constraint);

/** PostgreSQL foreign_key_violation. */
export const isForeignKeyViolation = (err: unknown) => !!err && (err as { code?: string }).code === '23503';
