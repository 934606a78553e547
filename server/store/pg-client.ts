// knex's PostgreSQL client with one change: a transaction opened for a tenant (store/scope.ts)
// sends `BEGIN` and the tenant setting in one round trip instead of two. Every SCIM request runs
// in such a transaction (row-level security), so this saves a network round trip on each.
// The tenant id is checked to be a UUID before it is written into the statement.
/* eslint-disable @typescript-eslint/no-require-imports */
const ClientPG = require('knex/lib/dialects/postgres');
const TransactionPG = require('knex/lib/dialects/postgres/execution/pg-transaction');

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

class TenantTransaction extends TransactionPG {
  private tenantId?: string;

  constructor(client: unknown, container: unknown, config?: { tenantId?: string }, outerTx?: unknown) {
    super(client, container, config, outerTx);
    // begin() runs later, once a connection is acquired; the id is in place by then.
    this.tenantId = config?.tenantId;
  }

  begin(conn: unknown) {
    const tenantId = this.tenantId;
    if (tenantId === undefined) return super.begin(conn);
    if (!UUID.test(tenantId)) throw new Error('tenant id must be a UUID');
    return (this as unknown as { query(c: unknown, sql: string): Promise<unknown> }).query(
      conn,
      `BEGIN; SELECT set_config('provisio.tenant_id', '${tenantId.toLowerCase()}', true);`,
    );
  }
}

export class TenantAwarePgClient extends ClientPG {
  transaction(...args: unknown[]) {
    return new (TenantTransaction as unknown as new (...a: unknown[]) => unknown)(this, ...args);
  }
}
