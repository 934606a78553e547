// Services a tenant assigns to its people (issue 10, "Services (assigned to people)"): the
// tenant's catalogue, addressed by `key` — a lower-case slug, unique per tenant and immutable —
// that a user's SCIM `entitlements` of type `service` hold as their `value`
// (server/resources/assignments.ts). A tenant table with the same forced row-level security as
// the others (migrations/0002_row_level_security.ts). test/api/services.test.ts
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE services (
      tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
      key text NOT NULL,
      name text NOT NULL,
      description text,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (tenant_id, key),
      -- Keys are stored lower-cased, so the primary key is the case-insensitive uniqueness.
      CONSTRAINT services_key_format CHECK (key ~ '^[a-z0-9][a-z0-9._-]{0,63}$')
    )`);
  await knex.raw('GRANT SELECT, INSERT, UPDATE, DELETE ON services TO provisio_app');
  await knex.raw('ALTER TABLE services ENABLE ROW LEVEL SECURITY');
  await knex.raw('ALTER TABLE services FORCE ROW LEVEL SECURITY');
  await knex.raw(
    `CREATE POLICY tenant_isolation ON services USING (tenant_id = provisio_tenant() OR current_user = session_user) WITH CHECK (tenant_id = provisio_tenant() OR current_user = session_user)`,
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE IF EXISTS services');
}
