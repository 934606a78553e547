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
/* eslint-disable @typescript-eslint/no-require-imports */
import { APP_ROLE } from './scope';

const ClientPG = require('knex/lib/dialects/postgres');
const TransactionPG = require('knex/lib/dialects/postgres/execution/pg-transaction');

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** How the server reaches PostgreSQL: directly (or a session pooler), or through a transaction pooler. */
export type PoolerMode = 'none' | 'transaction';

/** The knex configuration key this client reads the mode from (store/db.ts sets it). */
export const POOLER_KEY = 'provisioPooler';

type Query = (conn: unknown, sql: string) => Promise<unknown>;
type RawConn = { __knexTxId?: string; query(sql: string, cb: (err: Error | null) => void): void };

const behindTransactionPooler = (client: { config?: Record<string, unknown> }) => client.config?.[POOLER_KEY] === 'transaction';

class TenantTransaction extends TransactionPG {
  private tenantId?: string;

  constructor(client: unknown, container: unknown, config?: { tenantId?: string }, outerTx?: unknown) {
    super(client, container, config, outerTx);
    // begin() runs later, once a connection is acquired; the id is in place by then.
    this.tenantId = config?.tenantId;
  }

  begin(conn: unknown) {
    const self = this as unknown as { query: Query; client: { config?: Record<string, unknown> }; isolationLevel?: string; readOnly?: boolean };
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

  async _query(conn: RawConn, obj: { sql: string; options?: Record<string, unknown> }) {
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
    return super._stream(conn, obj, stream, options);
  }
}
