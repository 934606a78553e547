// Case-folded copies of userName and group displayName as stored generated columns, indexed with
// tenant_id. Under row-level security (0002) PostgreSQL may only use a condition as an index
// condition when its function is leakproof: `lower(user_name) = $1` is not (lower() is not
// leakproof), so it became a sequential scan of the tenant; `user_name_ci = $1` (texteq) is.
// Measured with EXPLAIN in docs/performance.md.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE users ADD COLUMN user_name_ci text GENERATED ALWAYS AS (lower(user_name)) STORED');
  await knex.raw('DROP INDEX users_user_name_ci');
  await knex.raw('CREATE UNIQUE INDEX users_user_name_ci ON users (tenant_id, user_name_ci)');
  await knex.raw('ALTER TABLE groups ADD COLUMN display_name_ci text GENERATED ALWAYS AS (lower(display_name)) STORED');
  await knex.raw('DROP INDEX groups_display_name_ci');
  await knex.raw('CREATE INDEX groups_display_name_ci ON groups (tenant_id, display_name_ci)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX users_user_name_ci');
  await knex.raw('ALTER TABLE users DROP COLUMN user_name_ci');
  await knex.raw('CREATE UNIQUE INDEX users_user_name_ci ON users (tenant_id, lower(user_name))');
  await knex.raw('DROP INDEX groups_display_name_ci');
  await knex.raw('ALTER TABLE groups DROP COLUMN display_name_ci');
  await knex.raw('CREATE INDEX groups_display_name_ci ON groups (tenant_id, lower(display_name))');
}
