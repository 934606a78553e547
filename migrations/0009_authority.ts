// The authority rule (issue 9; server/resources/authority.ts, docs/tenancy.md):
// - user_credentials.email_set_by_sub_account: which sub-account's credential set the person's
//   current sign-in email (null: a tenant-wide one). A link sent to an address nobody proved yet
//   proves it only while that sub-account still fully administers the person (point 2).
// - api_tokens.created_by_user_id: the person who created a token with their session (the
//   console). The token works only while that person still holds the rights that let them create
//   it (point 3). No foreign key: a deleted person's tokens must stop, not lose their creator.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE user_credentials ADD COLUMN email_set_by_sub_account uuid');
  await knex.raw('ALTER TABLE api_tokens ADD COLUMN created_by_user_id uuid');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE api_tokens DROP COLUMN created_by_user_id');
  await knex.raw('ALTER TABLE user_credentials DROP COLUMN email_set_by_sub_account');
}
