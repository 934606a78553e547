// A version of what every user create reads about its tenant (issue 12, "Fewer round trips per
// create"): the tenant's name and settings, the domains whose SSO connection requires SSO, and the
// event streams. Each instance caches these per tenant (store/tenant-config.ts); a create's INSERT
// returns the tenant's current `config_version` in the same statement, and the cache answers only
// when its version is that one. So a cached value is never older than the create's own statement,
// on every instance, and nothing has to be sent between instances (LISTEN/NOTIFY would not pass a
// transaction pooler, docs/operations.md).
//
// The version is drawn from a sequence, not counted up: a sequence never hands a value out twice,
// even when the transaction that drew it rolls back, so a cache filled inside a transaction that
// later rolled back can never match a committed state. The triggers bump it in the changing
// transaction on every path (admin API, operator API, console, a rolled-back request), so no
// application code can forget to. test/api/tenant-config-cache.test.ts proves a change made on
// one instance is seen by the next create on another.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw('CREATE SEQUENCE tenant_config_version');
  await knex.raw('GRANT USAGE ON SEQUENCE tenant_config_version TO provisio_app');
  await knex.raw("ALTER TABLE tenants ADD COLUMN config_version bigint NOT NULL DEFAULT nextval('tenant_config_version')");
  // The tenant's own name and settings.
  await knex.raw(`
    CREATE FUNCTION provisio_tenant_config_changed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF NEW.name IS DISTINCT FROM OLD.name OR NEW.settings IS DISTINCT FROM OLD.settings THEN
        NEW.config_version := nextval('tenant_config_version');
      END IF;
      RETURN NEW;
    END
    $$`);
  await knex.raw('CREATE TRIGGER tenants_config_version BEFORE UPDATE ON tenants FOR EACH ROW EXECUTE FUNCTION provisio_tenant_config_changed()');
  // A row of a table the cache reads changed: bump its tenant's version. Runs as the writer
  // (provisio_app in the tenant's transaction, whom the tenants policy lets update its own row;
  // the schema owner for operator work). On a tenant's deletion the cascade finds no row: no-op.
  // The watched columns are the trigger's arguments, compared here, rather than an `UPDATE OF`
  // column list: a column list makes the trigger depend on those columns, and migration tests that
  // step an older migration down and up again (test/api/sso-domains.test.ts, migration 0010 drops
  // and re-adds sso_connections.require_sso) could not.
  await knex.raw(`
    CREATE FUNCTION provisio_tenant_config_bump() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
      changed boolean := TG_OP <> 'UPDATE';
      c text;
    BEGIN
      IF NOT changed THEN
        FOREACH c IN ARRAY TG_ARGV LOOP
          IF to_jsonb(NEW) -> c IS DISTINCT FROM to_jsonb(OLD) -> c THEN
            changed := true;
            EXIT;
          END IF;
        END LOOP;
      END IF;
      IF NOT changed THEN
        RETURN NULL;
      END IF;
      UPDATE tenants SET config_version = nextval('tenant_config_version')
       WHERE id = CASE WHEN TG_OP = 'DELETE' THEN OLD.tenant_id ELSE NEW.tenant_id END;
      IF TG_OP = 'UPDATE' AND NEW.tenant_id IS DISTINCT FROM OLD.tenant_id THEN
        UPDATE tenants SET config_version = nextval('tenant_config_version') WHERE id = OLD.tenant_id;
      END IF;
      RETURN NULL;
    END
    $$`);
  // Only the columns the cache holds: the push worker's bookkeeping on event_streams (failures,
  // last_delivered_at) must not empty every instance's cache.
  const watched: Record<string, string[]> = {
    sso_connections: ['id', 'require_sso', 'tenant_id'],
    sso_domains: ['domain', 'tenant_id', 'connection_id'],
    event_streams: ['id', 'tenant_id', 'audience', 'events', 'form'],
  };
  for (const [table, columns] of Object.entries(watched)) {
    const args = columns.map((c) => `'${c}'`).join(', ');
    await knex.raw(`CREATE TRIGGER ${table}_config_version AFTER INSERT OR DELETE OR UPDATE ON ${table} FOR EACH ROW EXECUTE FUNCTION provisio_tenant_config_bump(${args})`);
  }
}

export async function down(knex: Knex): Promise<void> {
  for (const table of ['sso_connections', 'sso_domains', 'event_streams']) await knex.raw(`DROP TRIGGER IF EXISTS ${table}_config_version ON ${table}`);
  await knex.raw('DROP TRIGGER IF EXISTS tenants_config_version ON tenants');
  await knex.raw('DROP FUNCTION IF EXISTS provisio_tenant_config_bump()');
  await knex.raw('DROP FUNCTION IF EXISTS provisio_tenant_config_changed()');
  await knex.raw('ALTER TABLE tenants DROP COLUMN IF EXISTS config_version');
  await knex.raw('DROP SEQUENCE IF EXISTS tenant_config_version');
}
