// knex's PostgreSQL client with two changes.
//
// 1. A transaction opened for a tenant (store/scope.ts) sends `BEGIN` and the tenant setting in one
//    round trip instead of two. Every SCIM request runs in such a transaction (row-level security),
//    so this saves a network round trip on each. The tenant id is checked to be a UUID before it is
//    written into the statement.
//
// 2. Behind a pooler in transaction pooling (DATABASE_POOLER=transaction, docs/operations.md), such
//    as PgBouncer with pool_mode = transaction, a client's consecutive transactions may run on
//    different server connections, and a server connection passes between clients. Nothing set for
//    a session survives, and nothing may be left on one either:
//    - the application role is set with `SET LOCAL ROLE` inside every transaction, not once per
//      connection with `SET ROLE` (which would reach only the server connection that happened to
//      run it: the others would work as the login user, past row-level security, and the one that
//      ran it would carry the role to whoever used it next, say a migration);
//    - a statement outside a transaction is run inside one of its own, for the same reason;
//    - statements are not named: a named (prepared) statement lives on one server connection, so
//      the next transaction may find it missing ("prepared statement … does not exist") or already
//      there ("… already exists"). PgBouncer 1.18 does not track them (1.21 added
//      max_prepared_statements). The names come from store/prepared.ts; this client drops them, so
//      no repository has to know about the pooler.
//    The tenant setting is transaction-local already (set_config(…, true)). Proven through a real
//    PgBouncer by test/api/pgbouncer.test.ts and the api:pgbouncer jest project.
//
// 3. A read (store/scope.ts TenantReads) runs outside any transaction, on a knex handle bound to
//    its tenant (readHandle below): no BEGIN, no COMMIT, no knex transaction. Each statement goes
//    out as one pipeline of the extended protocol — Bind/Execute of the tenant setting, then the
//    statement's Parse (when not yet prepared)/Bind/Describe/Execute, then one Sync. PostgreSQL
//    runs the messages before a Sync as one implicit transaction (protocol-flow "Pipelining"), so
//    the tenant setting, set_config(…, true), holds for that statement and ends at the Sync: it
//    cannot survive into the next use of the connection, on success or error. A lookup is one
//    round trip instead of three. Each statement is its own transaction, which under READ
//    COMMITTED (the only level used) sees what a statement of a BEGIN…COMMIT block would: every
//    statement takes its own snapshot there too. Writes never go this way. Behind a transaction
//    pooler there is no handle (a read is an ordinary tenant transaction, which sets the role).
//    Proven against PostgreSQL and PGlite by test/api/rls.test.ts ("reads": scoped, named
//    statements included, nothing left on the connection after success or error); measured in
//    docs/performance.md "Cheaper reads (issue 12)" (a lookup's write system calls 4 → 2).
/* eslint-disable @typescript-eslint/no-require-imports */
import type { Knex } from 'knex';
import { APP_ROLE } from './scope';

const ClientPG = require('knex/lib/dialects/postgres');
const TransactionPG = require('knex/lib/dialects/postgres/execution/pg-transaction');

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** How the server reaches PostgreSQL: directly (or a session pooler), or through a transaction pooler. */
export type PoolerMode = 'none' | 'transaction';

/** The knex configuration key this client reads the mode from (store/db.ts sets it). */
export const POOLER_KEY = 'provisioPooler';

type Query = (conn: unknown, sql: string) => Promise<unknown>;
type RawConn = {
  __knexTxId?: string;
  query(sql: string | object, cb?: (err: Error | null) => void): void;
};

const makeKnex = require('knex/lib/knex-builder/make-knex') as (client: unknown) => Knex;
const PgQuery = require('pg').Query as new (config: object, values?: unknown, callback?: (err: Error | null, res: unknown) => void) => object;

/** The tenant setting of a read, a named statement parsed once per connection. */
const READ_TENANT = { name: 'provisio_read_tenant', text: "SELECT set_config('provisio.tenant_id', $1, true)" };

type PgConnection = {
  parsedStatements: Record<string, string>;
  parse(q: { text: string; name: string; types?: unknown[] }): void;
  bind(q: { portal: string; statement: string; values: unknown[] }): void;
  execute(q: { portal: string }): void;
};

/**
 * One statement of a read, preceded in the same pipeline by the tenant setting (3. above). The
 * setting's row and completion are consumed here; everything after is pg's own Query.
 */
class TenantReadQuery extends (PgQuery as unknown as new (config: object) => {
  name?: string;
  hasBeenParsed(c: PgConnection): boolean;
  prepare(c: PgConnection): void;
  requiresPreparation(): boolean;
  handleDataRow(msg: unknown): void;
  handleCommandComplete(msg: unknown, c: PgConnection): void;
  handleError(err: Error, c: PgConnection): void;
}) {
  private setting = true;
  private wasParsed = true;
  private parsesSetting = false;

  constructor(
    config: object,
    private readonly tenantId: string,
  ) {
    super(config);
  }

  override requiresPreparation() {
    return true;
  }

  override prepare(connection: PgConnection) {
    if (connection.parsedStatements[READ_TENANT.name] === undefined) {
      connection.parse(READ_TENANT);
      connection.parsedStatements[READ_TENANT.name] = READ_TENANT.text;
      this.parsesSetting = true;
    }
    connection.bind({ portal: '', statement: READ_TENANT.name, values: [this.tenantId] });
    connection.execute({ portal: '' });
    // pg records a named statement as parsed on any ParseComplete of this query, the setting's
    // included: undone in handleError if the statement's own Parse was refused.
    this.wasParsed = Boolean(this.hasBeenParsed(connection));
    super.prepare(connection);
  }

  override handleDataRow(msg: unknown) {
    if (!this.setting) super.handleDataRow(msg);
  }

  override handleCommandComplete(msg: unknown, connection: PgConnection) {
    if (this.setting) this.setting = false;
    else super.handleCommandComplete(msg, connection);
  }

  override handleError(err: Error, connection: PgConnection) {
    if (!this.wasParsed && this.name) delete connection.parsedStatements[this.name];
    // Parsed again next time only if this pipeline's own Parse of it may have been refused.
    if (this.setting && this.parsesSetting) delete connection.parsedStatements[READ_TENANT.name];
    super.handleError(err, connection);
  }
}

const behindTransactionPooler = (client: { config?: Record<string, unknown> }) => client.config?.[POOLER_KEY] === 'transaction';

type TxSelf = { query: Query; client: { config?: Record<string, unknown> }; isolationLevel?: string; readOnly?: boolean };

class TenantTransaction extends TransactionPG {
  private tenantId?: string;

  constructor(client: unknown, container: unknown, config?: { tenantId?: string }, outerTx?: unknown) {
    super(client, container, config, outerTx);
    // begin() runs later, once a connection is acquired; the id is in place by then.
    this.tenantId = config?.tenantId;
  }

  begin(conn: unknown) {
    const self = this as unknown as TxSelf;
    const tenantId = this.tenantId;
    const pooled = behindTransactionPooler(self.client);
    if (tenantId === undefined && !pooled) return super.begin(conn);
    if (tenantId !== undefined && !UUID.test(tenantId)) throw new Error('tenant id must be a UUID');
    // Nothing here uses isolation levels or read-only transactions; refuse rather than drop them.
    if (self.isolationLevel || self.readOnly) throw new Error('isolation levels and read-only transactions are not supported by this client');
    const role = pooled ? ` SET LOCAL ROLE ${APP_ROLE};` : '';
    const tenant = tenantId === undefined ? '' : ` SELECT set_config('provisio.tenant_id', '${tenantId.toLowerCase()}', true);`;
    return self.query(conn, `BEGIN;${role}${tenant}`);
  }
}

/** Runs one simple-protocol statement on a raw pg connection. */
function simple(conn: RawConn, sql: string): Promise<void> {
  return new Promise((resolve, reject) => conn.query(sql, (err) => (err ? reject(err) : resolve())));
}

export class TenantAwarePgClient extends ClientPG {
  transaction(...args: unknown[]) {
    return new (TenantTransaction as unknown as new (...a: unknown[]) => unknown)(this, ...args);
  }

  async _query(conn: RawConn, obj: { sql: string; bindings?: unknown[]; options?: Record<string, unknown>; response?: unknown }) {
    // A read handle's statement (3. above); never one inside a transaction, which has its own.
    const readTenant = (this as { readTenant?: string }).readTenant;
    if (readTenant !== undefined && conn.__knexTxId === undefined) {
      if (!obj.sql) throw new Error('The query is empty');
      const config = { text: obj.sql, values: obj.bindings || [], ...obj.options };
      return new Promise((resolve, reject) => {
        conn.query(
          new TenantReadQuery(
            { ...config, callback: (err: Error | null, response: unknown) => {
              if (err) return reject(err);
              obj.response = response;
              resolve(obj);
            } },
            readTenant,
          ),
        );
      });
    }
    const run = (o: typeof obj) => super._query(conn, o);
    if (!behindTransactionPooler(this as unknown as { config?: Record<string, unknown> })) return run(obj);
    let unnamed = obj;
    if (obj.options && 'name' in obj.options) {
      const { name: _dropped, ...options } = obj.options;
      unnamed = { ...obj, options };
    }
    // knex marks a connection that runs a transaction (BEGIN, its statements, COMMIT) with its id.
    if (conn.__knexTxId) return run(unnamed);
    await simple(conn, `BEGIN; SET LOCAL ROLE ${APP_ROLE}`);
    let result: unknown;
    try {
      result = await run(unnamed);
    } catch (err) {
      await simple(conn, 'ROLLBACK').catch(() => {});
      throw err;
    }
    await simple(conn, 'COMMIT');
    return result;
  }

  // A stream outside a transaction would run as the login user behind a transaction pooler (a
  // stream cannot be wrapped like a query above); nothing streams today, and nothing may do so
  // unnoticed.
  _stream(conn: RawConn, obj: unknown, stream: unknown, options: unknown) {
    if (behindTransactionPooler(this as unknown as { config?: Record<string, unknown> }) && !conn.__knexTxId) {
      return Promise.reject(new Error('behind a transaction pooler, stream only inside a transaction'));
    }
    // Nor on a read handle (3. above): its statements carry the tenant setting, a stream would not.
    if ((this as { readTenant?: string }).readTenant !== undefined) return Promise.reject(new Error('a read handle cannot stream'));
    return super._stream(conn, obj, stream, options);
  }
}

/**
 * A knex bound to one tenant for reads (3. above): its statements run outside any transaction,
 * each sent with the tenant setting. The client is the pool's own (pool, configuration, prepared
 * statements shared) seen through a prototype that adds the tenant. Undefined when the pool is
 * not this client or works behind a transaction pooler: reads are then tenant transactions.
 */
export function readHandle(knex: Knex, tenantId: string): Knex | undefined {
  const client = knex.client as unknown as { config?: Record<string, unknown> };
  if (!(client instanceof TenantAwarePgClient) || behindTransactionPooler(client)) return undefined;
  if (!UUID.test(tenantId)) throw new Error('tenant id must be a UUID');
  const bound = Object.create(client, { readTenant: { value: tenantId.toLowerCase(), enumerable: false } });
  return makeKnex(bound);
}
