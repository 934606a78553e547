// Roles (issue 10; server/resources/roles.ts): every user is an `admin` or a `user`, carried in the
// SCIM core `roles` attribute and kept in a column for the rules that ask it (tenant admins on the
// admin API, the authority rule, the users list). Existing users: `admin` when a stored role
// value is "admin" in any case, else `user`; the primary admin is always an admin, so it gets
// `roles: [{"value": "admin"}]` in its document when it has no admin role there.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`ALTER TABLE users ADD COLUMN role text NOT NULL DEFAULT 'user' CONSTRAINT users_role CHECK (role IN ('admin', 'user'))`);
  await knex.raw(`UPDATE users SET role = 'admin' WHERE EXISTS (SELECT 1 FROM jsonb_array_elements(CASE WHEN jsonb_typeof(data -> 'roles') = 'array' THEN data -> 'roles' ELSE '[]'::jsonb END) r WHERE lower(r ->> 'value') = 'admin')`);
  await knex.raw(`UPDATE users SET role = 'admin',
      data = jsonb_set(data, '{roles}', '[{"value": "admin"}]'::jsonb),
      folded = jsonb_set(folded, '{roles}', '[{"value": "admin"}]'::jsonb),
      version = version + 1
    WHERE is_primary_admin AND role <> 'admin'`);
  await knex.raw('CREATE INDEX users_role ON users (tenant_id, role)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX IF EXISTS users_role');
  await knex.raw('ALTER TABLE users DROP COLUMN role');
}
