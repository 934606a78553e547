// Price lists (one default per tenant) and the audit log (issue 4). Both tenant tables, with the
// same forced row-level security as the others (migrations/0002_row_level_security.ts).
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE price_lists (
      tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
      id uuid NOT NULL,
      name text NOT NULL,
      is_default boolean NOT NULL DEFAULT false,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (tenant_id, id)
    )`);
  await knex.raw('CREATE UNIQUE INDEX price_lists_name_ci ON price_lists (tenant_id, lower(name))');
  await knex.raw('CREATE UNIQUE INDEX price_lists_one_default ON price_lists (tenant_id) WHERE is_default');
  // Every existing tenant gets its default list.
  await knex.raw(`INSERT INTO price_lists (tenant_id, id, name, is_default) SELECT id, gen_random_uuid(), 'Standard', true FROM tenants`);

  // Who changed what, when (issue 4, "Audit"); `changes` holds attribute names and values without secrets.
  await knex.raw(`
    CREATE TABLE audit_log (
      tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
      id uuid NOT NULL,
      at timestamptz NOT NULL,
      actor_type text NOT NULL,
      actor_id text NOT NULL,
      action text NOT NULL,
      target_type text NOT NULL,
      target_id text,
      changes jsonb NOT NULL DEFAULT '{}'::jsonb,
      PRIMARY KEY (tenant_id, id)
    )`);
  await knex.raw('CREATE INDEX audit_log_at ON audit_log (tenant_id, at)');
  await knex.raw('CREATE INDEX audit_log_target ON audit_log (tenant_id, target_id, at)');
  await knex.raw('CREATE INDEX audit_log_actor ON audit_log (tenant_id, actor_id, at)');

  for (const table of ['price_lists', 'audit_log']) {
    await knex.raw(`GRANT SELECT, INSERT, UPDATE, DELETE ON ${table} TO provisio_app`);
    await knex.raw(`ALTER TABLE ${table} ENABLE ROW LEVEL SECURITY`);
    await knex.raw(`ALTER TABLE ${table} FORCE ROW LEVEL SECURITY`);
    await knex.raw(
      `CREATE POLICY tenant_isolation ON ${table} USING (tenant_id = provisio_tenant() OR current_user = session_user) WITH CHECK (tenant_id = provisio_tenant() OR current_user = session_user)`,
    );
  }
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE IF EXISTS audit_log');
  await knex.raw('DROP TABLE IF EXISTS price_lists');
}
