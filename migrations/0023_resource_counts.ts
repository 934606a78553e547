// Exact per-tenant counts of users and groups (issue 12): the first page of an unfiltered
// `GET /Users` or `GET /Groups` — what Okta and Entra ask first — carries `totalResults`, and a
// count(*) over a tenant of 1,000,000 users read every row of it (287–1,030 ms in
// docs/performance.md). The counts are kept by statement-level triggers on the tables themselves,
// in the writing transaction, so every path (the resource service, Bulk, the purge, tenant
// creation, a rolled-back request) keeps them exact and nothing in the application can forget them.
//
// Each writer adds to one of 16 slots chosen by its backend, so concurrent creates in one tenant
// do not queue on one counter row; a count is the sum of a tenant's slots (at most 16 rows, read
// by primary key). Under a transaction pooler the backend is the server connection, which is what
// matters for lock contention. test/api/resource-counts.test.ts proves the counts equal count(*)
// after every kind of write, on PGlite and PostgreSQL.
//
// No foreign key to tenants: the rows are a derived figure, and a cascade from a deleted tenant
// would otherwise have the delete trigger write counts for a tenant that is gone.
import type { Knex } from 'knex';

const SLOTS = 16;

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE resource_counts (
      tenant_id uuid NOT NULL,
      resource text NOT NULL,
      slot smallint NOT NULL,
      n bigint NOT NULL,
      PRIMARY KEY (tenant_id, resource, slot)
    )`);
  await knex.raw('GRANT SELECT, INSERT, UPDATE, DELETE ON resource_counts TO provisio_app');
  await knex.raw('ALTER TABLE resource_counts ENABLE ROW LEVEL SECURITY');
  await knex.raw('ALTER TABLE resource_counts FORCE ROW LEVEL SECURITY');
  await knex.raw(
    `CREATE POLICY tenant_isolation ON resource_counts USING (tenant_id = provisio_tenant() OR current_user = session_user) WITH CHECK (tenant_id = provisio_tenant() OR current_user = session_user)`,
  );
  // Runs as the writer (provisio_app inside a tenant transaction), so its rows pass the same policy.
  // TG_ARGV[0] names the resource ('users', 'groups'); the transition table holds the statement's rows.
  await knex.raw(`
    CREATE FUNCTION provisio_count_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      INSERT INTO resource_counts AS c (tenant_id, resource, slot, n)
        SELECT tenant_id, TG_ARGV[0], (pg_backend_pid() % ${SLOTS})::smallint, count(*) FROM changed GROUP BY tenant_id
      ON CONFLICT (tenant_id, resource, slot) DO UPDATE SET n = c.n + EXCLUDED.n;
      RETURN NULL;
    END
    $$`);
  await knex.raw(`
    CREATE FUNCTION provisio_count_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      INSERT INTO resource_counts AS c (tenant_id, resource, slot, n)
        SELECT tenant_id, TG_ARGV[0], (pg_backend_pid() % ${SLOTS})::smallint, -count(*) FROM changed GROUP BY tenant_id
      ON CONFLICT (tenant_id, resource, slot) DO UPDATE SET n = c.n + EXCLUDED.n;
      RETURN NULL;
    END
    $$`);
  for (const table of ['users', 'groups']) {
    await knex.raw(`CREATE TRIGGER ${table}_count_insert AFTER INSERT ON ${table} REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION provisio_count_inserted('${table}')`);
    await knex.raw(`CREATE TRIGGER ${table}_count_delete AFTER DELETE ON ${table} REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION provisio_count_deleted('${table}')`);
    await knex.raw(`INSERT INTO resource_counts (tenant_id, resource, slot, n) SELECT tenant_id, '${table}', 0, count(*) FROM ${table} GROUP BY tenant_id`);
  }
}

export async function down(knex: Knex): Promise<void> {
  for (const table of ['users', 'groups']) {
    await knex.raw(`DROP TRIGGER IF EXISTS ${table}_count_insert ON ${table}`);
    await knex.raw(`DROP TRIGGER IF EXISTS ${table}_count_delete ON ${table}`);
  }
  await knex.raw('DROP FUNCTION IF EXISTS provisio_count_inserted()');
  await knex.raw('DROP FUNCTION IF EXISTS provisio_count_deleted()');
  await knex.raw('DROP TABLE IF EXISTS resource_counts');
}
