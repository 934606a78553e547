// A side table of users' email values (issue 12: Entra's `emails[type eq "work"].value eq` and
// Okta's `emails eq` lookups scanned the tenant at 1M users). Under row-level security jsonb
// containment (`folded @> …`) is not leakproof, so PostgreSQL will not drive the GIN index with
// it and filters every row of the tenant instead (docs/performance.md). Text equality is
// leakproof: a btree on (tenant_id, value_ci) answers the lookup in one index probe.
//
// The rows follow `users.folded` through a trigger, so every write path — the resource service,
// Bulk, migrations that rewrite `folded` — keeps them exact in the same transaction, and nothing in
// the application can forget them. Values and types are stored as `folded` holds them (lower-cased:
// emails.value and emails.type are caseExact=false, RFC 7643 §4.1.2). store/filter-sql.ts compiles
// the email lookups to this table; test/api/query.test.ts and test/api/email-lookup.test.ts prove
// the answers equal the JSON ones.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE user_emails (
      tenant_id uuid NOT NULL,
      user_id uuid NOT NULL,
      position smallint NOT NULL,
      value_ci text NOT NULL,
      type_ci text,
      PRIMARY KEY (tenant_id, user_id, position),
      FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
    )`);
  await knex.raw('CREATE INDEX user_emails_value ON user_emails (tenant_id, value_ci)');
  await knex.raw('GRANT SELECT, INSERT, UPDATE, DELETE ON user_emails TO provisio_app');
  await knex.raw('ALTER TABLE user_emails ENABLE ROW LEVEL SECURITY');
  await knex.raw('ALTER TABLE user_emails FORCE ROW LEVEL SECURITY');
  await knex.raw(
    `CREATE POLICY tenant_isolation ON user_emails USING (tenant_id = provisio_tenant() OR current_user = session_user) WITH CHECK (tenant_id = provisio_tenant() OR current_user = session_user)`,
  );
  // Runs as the writer (provisio_app inside a tenant transaction), so its rows pass the same policy.
  await knex.raw(`
    CREATE FUNCTION provisio_sync_user_emails() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'UPDATE' AND NEW.folded -> 'emails' IS NOT DISTINCT FROM OLD.folded -> 'emails' THEN
        RETURN NEW;
      END IF;
      IF TG_OP = 'UPDATE' THEN
        DELETE FROM user_emails WHERE tenant_id = NEW.tenant_id AND user_id = NEW.id;
      END IF;
      INSERT INTO user_emails (tenant_id, user_id, position, value_ci, type_ci)
        SELECT NEW.tenant_id, NEW.id, (e.ord - 1)::smallint, e.elem ->> 'value', e.elem ->> 'type'
        FROM jsonb_array_elements(CASE WHEN jsonb_typeof(NEW.folded -> 'emails') = 'array' THEN NEW.folded -> 'emails' ELSE '[]'::jsonb END)
             WITH ORDINALITY AS e(elem, ord)
        WHERE e.elem ->> 'value' IS NOT NULL;
      RETURN NEW;
    END
    $$`);
  await knex.raw('CREATE TRIGGER users_emails AFTER INSERT OR UPDATE OF folded ON users FOR EACH ROW EXECUTE FUNCTION provisio_sync_user_emails()');
  await knex.raw(`
    INSERT INTO user_emails (tenant_id, user_id, position, value_ci, type_ci)
      SELECT u.tenant_id, u.id, (e.ord - 1)::smallint, e.elem ->> 'value', e.elem ->> 'type'
      FROM users u, jsonb_array_elements(CASE WHEN jsonb_typeof(u.folded -> 'emails') = 'array' THEN u.folded -> 'emails' ELSE '[]'::jsonb END)
           WITH ORDINALITY AS e(elem, ord)
      WHERE e.elem ->> 'value' IS NOT NULL`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TRIGGER IF EXISTS users_emails ON users');
  await knex.raw('DROP FUNCTION IF EXISTS provisio_sync_user_emails()');
  await knex.raw('DROP TABLE IF EXISTS user_emails');
}
