// Sub-accounts (issue 4): when one was deactivated, so the purge job can find those due twelve
// months later with an index instead of reading every group.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE groups ADD COLUMN deactivated_at timestamptz');
  await knex.raw('CREATE INDEX groups_deactivated ON groups (tenant_id, deactivated_at) WHERE deactivated_at IS NOT NULL');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX IF EXISTS groups_deactivated');
  await knex.raw('ALTER TABLE groups DROP COLUMN deactivated_at');
}
