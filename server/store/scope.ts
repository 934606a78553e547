// Where every database call gets its tenant. inTenant opens (or joins) a transaction with
// `provisio.tenant_id` set for that transaction only, so row-level security
// (migrations/0002_row_level_security.ts) shows just that tenant's rows and nothing survives into
// the next use of the pooled connection. TenantReads runs reads without a transaction, each
// statement with the tenant set for itself alone. asOwner runs as the schema owner for operator
// work. Proven by test/api/rls.test.ts.
import type { Knex } from 'knex';
import { readHandle } from './pg-client';

/** The role every pooled connection works as (set when the connection is made, store/db.ts). */
export const APP_ROLE = 'provisio_app';

export type Tx = Knex.Transaction;
/** A pool or a transaction: what every repository function takes first. */
export type Db = Knex | Knex.Transaction;

export async function inTenant<T>(knex: Knex, tenantId: string, fn: (trx: Tx) => Promise<T>, joined?: Tx): Promise<T> {
  if (joined) {
    await joined.raw("SELECT set_config('provisio.tenant_id', ?, true)", [tenantId]);
    return fn(joined);
  }
  // The pool's client (store/pg-client.ts) sends BEGIN and the tenant setting in one round trip.
  return knex.transaction(fn, { tenantId } as Knex.TransactionConfig);
}

/**
 * Reads of one tenant without a transaction: each statement is sent together with the tenant
 * setting and ends its own implicit transaction (store/pg-client.ts, 3.), so a lookup is one
 * round trip instead of three, knex's transaction machinery is not built, and the setting never
 * outlives the statement. For reads only: a write here would commit on its own, statement by
 * statement. Under READ COMMITTED each statement sees its own snapshot either way. Behind a
 * transaction pooler, or inside a transaction already open (joined), a read is inTenant.
 * One handle per tenant, at most `maxTenants` kept (the oldest goes first); owned by the resource
 * service, made in deps.ts. test/api/rls.test.ts ("reads") proves the scoping and that nothing
 * survives on the connection.
 */
export class TenantReads {
  private readonly handles = new Map<string, Db>();

  constructor(
    private readonly knex: Knex,
    private readonly maxTenants = 1000,
  ) {}

  async run<T>(tenantId: string, fn: (db: Db) => Promise<T>, joined?: Tx): Promise<T> {
    if (joined) return inTenant(this.knex, tenantId, fn, joined);
    const db = this.handle(tenantId);
    return db ? fn(db) : inTenant(this.knex, tenantId, fn);
  }

  private handle(tenantId: string): Db | undefined {
    let h = this.handles.get(tenantId);
    if (h === undefined) {
      h = readHandle(this.knex, tenantId);
      if (!h) return undefined;
      if (this.handles.size >= this.maxTenants) this.handles.delete(this.handles.keys().next().value as string);
      this.handles.set(tenantId, h);
    }
    return h;
  }
}

/** Cross-tenant work (tenants, token lookup): the session user, whom the policies let through. */
export async function asOwner<T>(knex: Knex, fn: (trx: Tx) => Promise<T>): Promise<T> {
  return knex.transaction(async (trx) => {
    await trx.raw('SET LOCAL ROLE NONE');
    return fn(trx);
  });
}
