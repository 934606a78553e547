// Where every database call gets its tenant. inTenant opens (or joins) a transaction with
// `provisio.tenant_id` set for that transaction only, so row-level security
// (migrations/0002_row_level_security.ts) shows just that tenant's rows and nothing survives into
// the next use of the pooled connection. asOwner runs as the schema owner for operator work.
// Proven by test/api/rls.test.ts.
import type { Knex } from 'knex';

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
 * A read of one tenant: like inTenant, but without BEGIN and COMMIT. Each statement the callback
 * runs is sent together with the tenant setting and ends its own implicit transaction
 * (store/pg-client.ts, 3.), so a lookup is one round trip instead of three and the setting never
 * outlives the statement. For reads only: a write here would commit on its own, statement by
 * statement. Inside a transaction already open (joined), or behind a transaction pooler, it is
 * inTenant. Under READ COMMITTED each statement sees its own snapshot either way.
 * test/api/rls.test.ts proves the tenant stays scoped and does not survive.
 */
export async function readInTenant<T>(knex: Knex, tenantId: string, fn: (trx: Tx) => Promise<T>, joined?: Tx): Promise<T> {
  if (joined) return inTenant(knex, tenantId, fn, joined);
  return knex.transaction(fn, { tenantId, read: true } as Knex.TransactionConfig);
}

/** Cross-tenant work (tenants, token lookup): the session user, whom the policies let through. */
export async function asOwner<T>(knex: Knex, fn: (trx: Tx) => Promise<T>): Promise<T> {
  return knex.transaction(async (trx) => {
    await trx.raw('SET LOCAL ROLE NONE');
    return fn(trx);
  });
}
