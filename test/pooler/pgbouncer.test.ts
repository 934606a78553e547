// The server behind PgBouncer in transaction pooling (api:pgbouncer project only; PgBouncer 1.18 is
// started for the run by test/support/pgbouncer-global.js). What transaction pooling breaks, shown
// on the same database with DATABASE_POOLER=none (the control: these checks can fail), and that
// DATABASE_POOLER=transaction keeps it whole (store/pg-client.ts, docs/operations.md):
//   - session state: `SET ROLE` on connect reaches one server connection only; the server then
//     works as the login user (a superuser here: past row-level security) on the others, and
//     hands the role to whichever client gets that server connection next;
//   - named statements live on one server connection; another client's Parse or Bind meets it
//     there or misses it.
// The rest of the project runs API test files through PgBouncer with the setting on.
import { randomBytes, randomUUID } from 'node:crypto';
import knexFactory, { Knex } from 'knex';
import { Client } from 'pg';
import { loadConfig } from '../../server/config';
import { createDeps } from '../../server/deps';
import { createLogger } from '../../server/logger';
import { openDatabase, Database } from '../../server/store/db';
import type { PoolerMode } from '../../server/store/pg-client';
import { StatementNames } from '../../server/store/prepared';
import { asOwner, inTenant } from '../../server/store/scope';
import { ADMIN_URL, NO_DNS, pooledUrl } from '../support/harness';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { POOL_SIZE } = require('../support/pgbouncer') as { POOL_SIZE: number };

const name = `provisio_test_${randomBytes(6).toString('hex')}`;
const url = pooledUrl(ADMIN_URL.replace(/\/[^/]*$/, `/${name}`));
const tenantId = randomUUID();
let admin: Knex;
const opened: Database[] = [];

async function open(pooler: PoolerMode): Promise<Database> {
  const db = await openDatabase({ databaseUrl: url, poolSize: 4, pooler, logger: createLogger('silent') });
  opened.push(db);
  return db;
}

/** PgBouncer's admin console (SHOW, RECONNECT): simple queries only. */
async function console_(sql: string): Promise<Record<string, unknown>[]> {
  const c = new Client({ connectionString: pooledUrl(ADMIN_URL.replace(/\/[^/]*$/, '/pgbouncer')) });
  await c.connect();
  try {
    return (await c.query(sql)).rows;
  } finally {
    await c.end();
  }
}

/**
 * The current role on every server connection of the pool: as many clients of the pooler as it has
 * server connections each hold a transaction open, so each is on a different one.
 */
async function rolesOnServerConnections(): Promise<string[]> {
  const clients = Array.from({ length: POOL_SIZE }, () => new Client({ connectionString: url }));
  try {
    await Promise.all(clients.map((c) => c.connect()));
    await Promise.all(clients.map((c) => c.query('BEGIN')));
    const roles = await Promise.all(clients.map(async (c) => (await c.query('SELECT current_user AS u')).rows[0].u as string));
    await Promise.all(clients.map((c) => c.query('COMMIT')));
    return roles;
  } finally {
    await Promise.all(clients.map((c) => c.end()));
  }
}

/** Closes every server connection of this database as it is released, as server_lifetime does. */
const renewServerConnections = () => console_(`RECONNECT ${name}`);

/** Who the server works as, in a tenant's transaction and for a statement outside one. */
async function roles(db: Database) {
  const inTx = await inTenant(db.knex, tenantId, async (trx) => (await trx.raw('SELECT current_user AS u')).rows[0].u as string);
  const outside = (await db.knex.raw('SELECT current_user AS u')).rows[0].u as string;
  const serverKeys = await db.knex.raw('SELECT count(*) FROM server_keys').then(
    () => 'readable',
    (err: Error) => (/permission denied/.test(err.message) ? 'permission denied' : err.message),
  );
  return { inTx, outside, serverKeys };
}

/**
 * Two server instances on one database alternate the same named statement (store/prepared.ts, as
 * the SCIM lookups name theirs); returns the errors met.
 */
async function namedStatementsFromTwoInstances(pooler: PoolerMode): Promise<string[]> {
  const instances = [await open(pooler), await open(pooler)];
  const names = new StatementNames(4);
  const errors: string[] = [];
  for (let i = 0; i < 12; i++) {
    const db = instances[i % 2];
    await inTenant(db.knex, tenantId, (trx) => names.raw(trx, 'SELECT count(*) FROM users WHERE tenant_id = ? AND user_name = ?', [tenantId, `u${i}@x.test`])).catch(
      (err: { code?: string; message: string }) => errors.push(`${err.code}: ${err.message}`),
    );
  }
  await Promise.all(instances.map((d) => d.close()));
  return errors;
}

beforeAll(async () => {
  admin = knexFactory({ client: 'pg', connection: ADMIN_URL, pool: { min: 0, max: 1 } });
  await admin.raw(`CREATE DATABASE ${name}`);
  // Migrated through PgBouncer, as the server migrates at start (store/db.ts says why it can).
  const db = await open('transaction');
  await db.migrate();
  await asOwner(db.knex, (trx) => trx('tenants').insert({ id: tenantId, name: 'Pooled' }));
  await db.close();
});

afterEach(async () => {
  await Promise.all(opened.splice(0).map((d) => d.close().catch(() => {})));
  // A role left on a server connection by a control test must not reach the next test.
  await renewServerConnections();
});

afterAll(async () => {
  await admin.raw(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.destroy();
});

it('the server really reaches this database through PgBouncer', async () => {
  const db = await open('transaction');
  await db.knex.raw('SELECT 1');
  const clients = await console_('SHOW CLIENTS');
  expect(clients.filter((c) => c.database === name && c.application_name === 'provisio').length).toBeGreaterThan(0);
});

describe('DATABASE_POOLER=transaction', () => {
  it('works as the application role in and out of transactions, also on server connections PgBouncer opened later', async () => {
    const db = await open('transaction');
    const expected = { inTx: 'provisio_app', outside: 'provisio_app', serverKeys: 'permission denied' };
    expect(await roles(db)).toEqual(expected);
    await renewServerConnections();
    expect(await roles(db)).toEqual(expected);
  });

  it('leaves no role on the server connections for other clients of the pooler', async () => {
    const db = await open('transaction');
    await roles(db);
    expect(await rolesOnServerConnections()).not.toContain('provisio_app');
  });

  it('reaches the pool from the environment, as the server reads it (config.ts → deps.ts → db.ts)', async () => {
    const config = loadConfig({ DATABASE_URL: url, DATABASE_POOLER: 'transaction', PUBLIC_URL: 'http://provisio.test', DNS_SERVERS: NO_DNS });
    const deps = await createDeps(config, createLogger('silent'));
    try {
      await renewServerConnections();
      expect(await roles(deps.db)).toEqual({ inTx: 'provisio_app', outside: 'provisio_app', serverKeys: 'permission denied' });
    } finally {
      await deps.close();
    }
  });

  it('two instances running the same statements meet no prepared-statement error', async () => {
    expect(await namedStatementsFromTwoInstances('transaction')).toEqual([]);
  });
});

describe('the control: DATABASE_POOLER=none through the same PgBouncer', () => {
  it('once PgBouncer renews its server connections, the server works as the login user, past row-level security', async () => {
    const db = await open('none');
    await db.knex.raw('SELECT 1'); // the pool's connection is made: SET ROLE ran on one server connection
    await renewServerConnections();
    expect(await roles(db)).toEqual({ inTx: 'postgres', outside: 'postgres', serverKeys: 'readable' });
  });

  it('hands its role to another client of the pooler', async () => {
    const db = await open('none');
    await db.knex.raw('SELECT 1');
    expect(await rolesOnServerConnections()).toContain('provisio_app');
  });

  it('two instances running the same named statement fail on each other’s server connections', async () => {
    const errors = await namedStatementsFromTwoInstances('none');
    expect(errors.length).toBeGreaterThan(0);
    // 42P05 duplicate_prepared_statement, 26000 invalid_sql_statement_name (… does not exist). The
    // names are the repositories' (pv_…, store/prepared.ts) and the client's own, a transaction's
    // BEGIN and tenant setting (provisio_begin, provisio_read_tenant: store/pg-client.ts, 3. and 4.).
    for (const e of errors) expect(e).toMatch(/^(42P05|26000): .* - prepared statement "(pv_[\w-]+|provisio_begin|provisio_read_tenant)" (already exists|does not exist)$/);
  });
});
