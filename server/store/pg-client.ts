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
//
// 4. A tenant transaction sends nothing when it opens: `BEGIN` and the tenant setting go out in
//    the same pipeline as its first statement (Bind/Execute of each, then the statement, one Sync;
//    `BEGIN` opens an explicit block, so the Sync does not end it). And a write whose result nobody
//    reads — an audit row, an outbox row, an event — is marked with `deferred()` by its repository
//    and waits: it goes out ahead of the transaction's next statement, or ahead of its COMMIT, in
//    order, in the same transaction. Nothing changes but when the bytes leave: every statement
//    runs in the order it was made, a failed one aborts the transaction as before (its error is
//    the next statement's or the COMMIT's; a COMMIT so failed is rolled back here), a ROLLBACK
//    drops what waits, and a transaction that sent nothing ends without a round trip. A create was
//    BEGIN, profile read, INSERT, link + outbox, COMMIT: five round trips; it is three. After a
//    SAVEPOINT nothing is deferred (a failure must surface inside the nested transaction that
//    made it). Not behind a transaction pooler, whose transactions keep 2.'s form. Proven by
//    test/api/pipelined-writes.test.ts on PostgreSQL and PGlite; measured in docs/performance.md
//    "Fewer round trips per write".
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
type QueryObj = { sql: string; bindings?: unknown[]; options?: Record<string, unknown>; response?: unknown };
type RawConn = {
  __knexTxId?: string;
  /** A tenant transaction's statements not yet sent (4. above); undefined outside one. */
  __provisioAhead?: { begun: boolean; statements: Ahead[]; savepoints?: boolean };
  query(sql: string | object, cb?: (err: Error | null) => void): void;
};

const makeKnex = require('knex/lib/knex-builder/make-knex') as (client: unknown) => Knex;
const PgQuery = require('pg').Query as new (config: object, values?: unknown, callback?: (err: Error | null, res: unknown) => void) => object;

/** The tenant setting of a read or of a transaction, a named statement parsed once per connection. */
const TENANT_SETTING = { name: 'provisio_read_tenant', text: "SELECT set_config('provisio.tenant_id', $1, true)" };
/** A tenant transaction's BEGIN, sent ahead of its first statement (4. above). */
const BEGIN = { name: 'provisio_begin', text: 'BEGIN' };
/** The statements that open a tenant transaction: BEGIN and the tenant setting. */
const OPENING = 2;

/**
 * The knex option that marks a write whose result nobody reads (4. above): inside a tenant
 * transaction it waits and goes out with the transaction's next statement or its COMMIT. Callers
 * set it with `deferred()` below; elsewhere (no transaction, a transaction pooler) it is ignored.
 */
const DEFER_OPTION = 'provisioDefer';

/** `q` marked as a write whose result is not read (4. above). */
export function deferred<Q extends { options(o: Readonly<Record<string, unknown>>): Q }>(q: Q): Q {
  return q.options({ [DEFER_OPTION]: true });
}

const prepareValue = require('pg/lib/utils').prepareValue as (v: unknown) => unknown;

type PgConnection = {
  parsedStatements: Record<string, string>;
  submittedNamedStatements: Record<string, string>;
  parse(q: { text: string; name: string; types?: unknown[] }): void;
  bind(q: { portal: string; statement: string; values: unknown[]; valueMapper?: (v: unknown) => unknown }): void;
  execute(q: { portal: string }): void;
};

/** A statement sent ahead of a query's own in the same pipeline; its rows are not read. */
type Ahead = { text: string; values: unknown[]; name?: string };

/**
 * pg's Query with statements sent ahead of its own, in the same pipeline and the same write
 * (3. and 4. above): Parse (unless that name is parsed on the connection)/Bind/Execute of each,
 * then the query's own messages and its one Sync. The statements ahead answer in order; their
 * rows and completions are consumed here, everything after is pg's own Query. pg records a named
 * statement as parsed when a ParseComplete arrives for the query's current `name`: `name` and
 * `text` follow the statement being answered, so each name is recorded for its own text, and
 * after an error nothing unparsed is left marked as parsed.
 */
class PipelinedQuery extends (PgQuery as unknown as new (config: object) => {
  name?: string;
  text?: string;
  hasBeenParsed(c: PgConnection): boolean;
  prepare(c: PgConnection): void;
  requiresPreparation(): boolean;
  handleDataRow(msg: unknown): void;
  handleCommandComplete(msg: unknown, c: PgConnection): void;
  handleError(err: Error, c: PgConnection): void;
}) {
  /** The statement whose answer comes next: an index into `ahead`, or `ahead.length` for the query's own. */
  private at = 0;
  private readonly own: { name?: string; text?: string };
  /** Per statement ahead, the name it was parsed under here (undefined: unnamed or parsed before). */
  private parses: (string | undefined)[] = [];

  constructor(
    config: object,
    private readonly ahead: readonly Ahead[],
  ) {
    super(config);
    this.own = { name: this.name, text: this.text };
  }

  override requiresPreparation() {
    return true;
  }

  override prepare(connection: PgConnection) {
    const here = new Set<string>();
    for (const s of this.ahead) {
      const named = s.name !== undefined && s.name !== '';
      const parse = !named || (connection.parsedStatements[s.name!] === undefined && !here.has(s.name!));
      if (parse) connection.parse({ text: s.text, name: named ? s.name! : '' });
      if (named && parse) here.add(s.name!);
      this.parses.push(named && parse ? s.name : undefined);
      connection.bind({ portal: '', statement: named ? s.name! : '', values: s.values, valueMapper: prepareValue });
      connection.execute({ portal: '' });
    }
    // The query's own statement may be one parsed just above under the same name.
    if (this.own.name && here.has(this.own.name)) connection.submittedNamedStatements[this.own.name] = this.own.text!;
    super.prepare(connection);
    this.point(0);
  }

  /** Makes `name`/`text` those of the statement answered next (see the class comment). */
  private point(i: number) {
    this.at = i;
    const s = i < this.ahead.length ? { name: this.parses[i], text: this.ahead[i].text } : this.own;
    this.name = s.name;
    this.text = s.text;
  }

  override handleDataRow(msg: unknown) {
    if (this.at >= this.ahead.length) super.handleDataRow(msg);
  }

  override handleCommandComplete(msg: unknown, connection: PgConnection) {
    if (this.at < this.ahead.length) this.point(this.at + 1);
    else super.handleCommandComplete(msg, connection);
  }

  override handleError(err: Error, connection: PgConnection) {
    // pg marks the query's own statement as submitted when it sends its Parse, and as parsed when
    // the ParseComplete comes; one the server skipped after an earlier error was never parsed.
    if (this.own.name && connection.parsedStatements[this.own.name] === undefined) delete connection.submittedNamedStatements[this.own.name];
    this.point(this.ahead.length);
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
    // Whatever a transaction that ended abnormally left on the connection is not this one's.
    (conn as RawConn).__provisioAhead = undefined;
    if (tenantId === undefined && !pooled) return super.begin(conn);
    if (tenantId !== undefined && !UUID.test(tenantId)) throw new Error('tenant id must be a UUID');
    // Nothing here uses isolation levels or read-only transactions; refuse rather than drop them.
    if (self.isolationLevel || self.readOnly) throw new Error('isolation levels and read-only transactions are not supported by this client');
    if (!pooled) {
      // 4. above: BEGIN and the tenant setting go out with the transaction's first statement.
      (conn as RawConn).__provisioAhead = { begun: false, statements: [{ ...BEGIN, values: [] }, { ...TENANT_SETTING, values: [tenantId!.toLowerCase()] }] };
      return Promise.resolve();
    }
    const tenant = tenantId === undefined ? '' : ` SELECT set_config('provisio.tenant_id', '${tenantId.toLowerCase()}', true);`;
    return self.query(conn, `BEGIN; SET LOCAL ROLE ${APP_ROLE};${tenant}`);
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

  async _query(conn: RawConn, obj: QueryObj) {
    const options = obj.options;
    if (options && DEFER_OPTION in options) {
      const { [DEFER_OPTION]: _marker, ...rest } = options;
      obj = { ...obj, options: rest };
      const ahead = conn.__knexTxId === undefined ? undefined : conn.__provisioAhead;
      // 4. above: a write whose result is not read waits for the transaction's next statement.
      if (ahead && !ahead.savepoints) {
        if (!obj.sql) throw new Error('The query is empty');
        ahead.statements.push({ text: obj.sql, values: obj.bindings || [], name: rest.name as string | undefined });
        obj.response = { command: 'DEFERRED', rowCount: null, rows: [], fields: [] };
        return obj;
      }
    }
    // A read handle's statement (3. above); never one inside a transaction, which has its own.
    const readTenant = (this as { readTenant?: string }).readTenant;
    if (readTenant !== undefined && conn.__knexTxId === undefined) {
      return this.pipelined(conn, obj, [{ ...TENANT_SETTING, values: [readTenant] }]);
    }
    const ahead = conn.__knexTxId === undefined ? undefined : conn.__provisioAhead;
    if (ahead) return this.inTransaction(conn, obj, ahead);
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

  /** A statement of a tenant transaction (4. above), with whatever waits sent ahead of it. */
  private async inTransaction(conn: RawConn, obj: QueryObj, ahead: NonNullable<RawConn['__provisioAhead']>) {
    const end = /^\s*(COMMIT|ROLLBACK)\s*;?\s*$/i.exec(obj.sql)?.[1].toUpperCase();
    if (end) conn.__provisioAhead = undefined;
    const fake = (command: string) => {
      obj.response = { command, rowCount: null, rows: [], fields: [] };
      return obj;
    };
    // On ROLLBACK what waits is dropped (it would be undone anyway); with nothing sent, there is
    // no transaction to end. A COMMIT with nothing sent and nothing waiting has nothing to do.
    if (end === 'ROLLBACK') return ahead.begun ? super._query(conn, obj) : fake(end);
    if (end === 'COMMIT' && !ahead.begun && ahead.statements.length === OPENING) return fake(end);
    // A savepoint (a nested knex transaction) ends deferral: a write that failed at the nested
    // transaction's end could not be rolled back to it as the caller expects. What waits goes out
    // with the SAVEPOINT itself, so nothing ever waits at a ROLLBACK TO SAVEPOINT.
    if (/^\s*SAVEPOINT\b/i.test(obj.sql)) ahead.savepoints = true;
    const statements = ahead.statements;
    ahead.statements = [];
    ahead.begun = true;
    if (!statements.length) return super._query(conn, obj);
    try {
      return await this.pipelined(conn, obj, statements);
    } catch (err) {
      // A COMMIT whose waiting writes failed is skipped by the server, which leaves the
      // transaction aborted: end it here, since knex does not roll back after a failed COMMIT.
      if (end === 'COMMIT') await simple(conn, 'ROLLBACK').catch(() => {});
      throw err;
    }
  }

  /** Runs `obj` with `statements` sent ahead of it in one pipeline (3. and 4. above). */
  private pipelined(conn: RawConn, obj: QueryObj, statements: readonly Ahead[]): Promise<QueryObj> {
    if (!obj.sql) throw new Error('The query is empty');
    const config = { text: obj.sql, values: obj.bindings || [], ...obj.options };
    return new Promise((resolve, reject) => {
      conn.query(
        new PipelinedQuery(
          { ...config, callback: (err: Error | null, response: unknown) => {
            if (err) return reject(err);
            obj.response = response;
            resolve(obj);
          } },
          statements,
        ),
      );
    });
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
