// Row-level security, forced, on every tenant table (issue 4, "Isolation in depth"). The
// application works as the role provisio_app, which owns nothing; each tenant-scoped
// transaction sets `provisio.tenant_id` (store/scope.ts) and the policies show only that tenant's
// rows. Without the setting a query sees nothing. Operator work (creating tenants, resolving a
// token to its tenant) runs as the session user — the schema owner — through
// `SET LOCAL ROLE NONE`; the policies let the session user through and nobody else.
import type { Knex } from 'knex';

const TENANT_TABLES = ['api_tokens', 'users', 'groups', 'group_user_members', 'group_group_members'];

export async function up(knex: Knex): Promise<void> {
  // Roles are cluster-wide: create it once, then reuse it in every database.
  await knex.raw(`DO $$ BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'provisio_app') THEN CREATE ROLE provisio_app NOLOGIN; END IF;
  END $$`);
  // The schema owner must be able to SET ROLE provisio_app (a superuser can anyway).
  await knex.raw(`DO $$ BEGIN
    -- PostgreSQL 16 split membership into privileges: SET ROLE needs the SET option there.
    IF NOT pg_has_role(current_user, 'provisio_app', CASE WHEN current_setting('server_version_num')::int >= 160000 THEN 'SET' ELSE 'MEMBER' END) THEN
      EXECUTE format('GRANT provisio_app TO %I', current_user);
    END IF;
  END $$`);
  await knex.raw('GRANT USAGE ON SCHEMA public TO provisio_app');
  await knex.raw(`GRANT SELECT, INSERT, UPDATE, DELETE ON tenants, ${TENANT_TABLES.join(', ')} TO provisio_app`);
  await knex.raw(`CREATE FUNCTION provisio_tenant() RETURNS uuid LANGUAGE sql STABLE
    AS $$ SELECT NULLIF(current_setting('provisio.tenant_id', true), '')::uuid $$`);
  await knex.raw('GRANT EXECUTE ON FUNCTION provisio_tenant() TO provisio_app');

  const owner = 'current_user = session_user';
  for (const table of TENANT_TABLES) {
    await knex.raw(`ALTER TABLE ${table} ENABLE ROW LEVEL SECURITY`);
    await knex.raw(`ALTER TABLE ${table} FORCE ROW LEVEL SECURITY`);
    await knex.raw(`CREATE POLICY tenant_isolation ON ${table} USING (tenant_id = provisio_tenant() OR ${owner}) WITH CHECK (tenant_id = provisio_tenant() OR ${owner})`);
  }
  await knex.raw('ALTER TABLE tenants ENABLE ROW LEVEL SECURITY');
  await knex.raw('ALTER TABLE tenants FORCE ROW LEVEL SECURITY');
  await knex.raw(`CREATE POLICY tenant_isolation ON tenants USING (id = provisio_tenant() OR ${owner}) WITH CHECK (id = provisio_tenant() OR ${owner})`);
}

export async function down(knex: Knex): Promise<void> {
  for (const table of ['tenants', ...TENANT_TABLES]) {
    await knex.raw(`DROP POLICY IF EXISTS tenant_isolation ON ${table}`);
    await knex.raw(`ALTER TABLE ${table} NO FORCE ROW LEVEL SECURITY`);
    await knex.raw(`ALTER TABLE ${table} DISABLE ROW LEVEL SECURITY`);
  }
  await knex.raw('DROP FUNCTION IF EXISTS provisio_tenant()');
  await knex.raw(`REVOKE ALL ON tenants, ${TENANT_TABLES.join(', ')} FROM provisio_app`);
}
