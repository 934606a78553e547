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

/** Cross-tenant work (tenants, token lookup): the session user, whom the policies let through. */
export async function asOwner<T>(knex: Knex, fn: (trx: Tx) => Promise<T>): Promise<T> {
  return knex.transaction(async (trx) => {
    await trx.raw('SET LOCAL ROLE NONE');
    return fn(trx);
  });
}
