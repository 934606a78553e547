// AI agents as identities (draft-abbey-scim-agent-extension-00): the Agent and AgenticApplication
// resource types, stored like users and groups so the one resource engine serves them
// (resources/kinds.ts documentKind, docs/architecture.md "Resource types as data").
//
// Each row keeps the canonical resource in `data` and its case-folded copy in `folded` (the GIN
// index answers filters on any attribute, store/filter-sql.ts); `name` — the draft's one required,
// server-unique attribute — and `external_id` are columns, because the IdP lookups before every
// write (`name eq`, `externalId eq`) must be index probes under row-level security, where jsonb
// containment is not leakproof (migration 0004 and docs/performance.md explain why). `name_ci`
// holds the folded name (caseExact false), unique per tenant: the 409 of RFC 7644 §3.3.
// References between resources (an application's agents, an agent's owners and parent) stay in
// the JSON: the engine checks them on write and drops them when their target is deleted, in the
// same transaction (resources/references.ts).
// Tenant tables with tenant_id leading every key and index, and forced row-level security, like
// every other tenant table (test/api/rls.test.ts, test/api/distribution.test.ts).
import type { Knex } from 'knex';

const POLICY = 'tenant_id = provisio_tenant() OR current_user = session_user';
const TABLES = ['agents', 'agentic_applications'];

export async function up(knex: Knex): Promise<void> {
  for (const table of TABLES) {
    await knex.raw(`
      CREATE TABLE ${table} (
        tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
        id uuid NOT NULL,
        name text NOT NULL,
        name_ci text GENERATED ALWAYS AS (lower(name)) STORED,
        external_id text,
        data jsonb NOT NULL,
        folded jsonb NOT NULL,
        version bigint NOT NULL DEFAULT 1,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL,
        PRIMARY KEY (tenant_id, id)
      )`);
    await knex.raw(`CREATE UNIQUE INDEX ${table}_name_ci ON ${table} (tenant_id, name_ci)`);
    await knex.raw(`CREATE INDEX ${table}_external_id ON ${table} (tenant_id, external_id)`);
    await knex.raw(`CREATE INDEX ${table}_folded ON ${table} USING gin (tenant_id, folded jsonb_path_ops)`);
    await knex.raw(`GRANT SELECT, INSERT, UPDATE, DELETE ON ${table} TO provisio_app`);
    await knex.raw(`ALTER TABLE ${table} ENABLE ROW LEVEL SECURITY`);
    await knex.raw(`ALTER TABLE ${table} FORCE ROW LEVEL SECURITY`);
    await knex.raw(`CREATE POLICY tenant_isolation ON ${table} USING (${POLICY}) WITH CHECK (${POLICY})`);
  }
}

export async function down(knex: Knex): Promise<void> {
  for (const table of TABLES) await knex.raw(`DROP TABLE IF EXISTS ${table}`);
}
