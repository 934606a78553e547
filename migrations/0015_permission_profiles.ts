// Permission profiles (issue 10, "Permission profiles"): what a person may do in the partner's
// product, as a named subset of the operator's permission catalogue (PERMISSIONS_FILE,
// server/permission-catalogue.ts). Every tenant has the built-in `enterprise` profile, which
// grants every permission of the catalogue — its `permissions` column stays empty, the grant is
// worked out from the catalogue when read, so permissions the operator adds later are granted
// too. Exactly one profile per tenant is the default (a partial unique index), `enterprise`
// until a custom profile is made the default.
//
// A user's profile is the Provisio User extension's `permissionProfile` (the profile key),
// stored on the user. Users that exist before this migration get `enterprise`, the default of
// every tenant at this moment; their version and lastModified move, as their representation
// changes. A tenant table with the same forced row-level security as the others.
// test/api/permission-profiles.test.ts
import type { Knex } from 'knex';

const URN = 'urn:provisio:params:scim:schemas:extension:2.0:User';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE permission_profiles (
      tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
      key text NOT NULL,
      name text NOT NULL,
      description text,
      permissions text[] NOT NULL DEFAULT '{}',
      built_in boolean NOT NULL DEFAULT false,
      is_default boolean NOT NULL DEFAULT false,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (tenant_id, key),
      CONSTRAINT permission_profiles_key_format CHECK (key ~ '^[a-z0-9][a-z0-9._-]{0,63}$'),
      CONSTRAINT permission_profiles_built_in CHECK (NOT built_in OR key = 'enterprise')
    )`);
  await knex.raw('CREATE UNIQUE INDEX permission_profiles_one_default ON permission_profiles (tenant_id) WHERE is_default');
  await knex.raw(`INSERT INTO permission_profiles (tenant_id, key, name, built_in, is_default) SELECT id, 'enterprise', 'Enterprise', true, true FROM tenants`);
  await knex.raw('GRANT SELECT, INSERT, UPDATE, DELETE ON permission_profiles TO provisio_app');
  await knex.raw('ALTER TABLE permission_profiles ENABLE ROW LEVEL SECURITY');
  await knex.raw('ALTER TABLE permission_profiles FORCE ROW LEVEL SECURITY');
  await knex.raw(
    `CREATE POLICY tenant_isolation ON permission_profiles USING (tenant_id = provisio_tenant() OR current_user = session_user) WITH CHECK (tenant_id = provisio_tenant() OR current_user = session_user)`,
  );

  // Migrations run as the schema owner: row-level security lets them see every tenant's users.
  const add = (col: string) => `jsonb_set(${col}, '{${URN}}', coalesce(${col} -> '${URN}', '{}'::jsonb) || '{"permissionProfile": "enterprise"}'::jsonb)`;
  await knex.raw(
    `UPDATE users SET data = ${add('data')}, folded = ${add('folded')}, version = version + 1, updated_at = now()
      WHERE data -> '${URN}' -> 'permissionProfile' IS NULL`,
  );
}

export async function down(knex: Knex): Promise<void> {
  const strip = (col: string) =>
    `CASE WHEN (${col} -> '${URN}') - 'permissionProfile' = '{}'::jsonb THEN ${col} - '${URN}'
          ELSE jsonb_set(${col}, '{${URN}}', (${col} -> '${URN}') - 'permissionProfile') END`;
  await knex.raw(`UPDATE users SET data = ${strip('data')}, folded = ${strip('folded')}, version = version + 1, updated_at = now()
    WHERE data -> '${URN}' -> 'permissionProfile' IS NOT NULL`);
  await knex.raw('DROP TABLE IF EXISTS permission_profiles');
}
