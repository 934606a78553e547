// The account a person last worked in (issue 11, "land people in the account they administer,
// the last one used"): set by the console's account switcher, read at sign-in. Kept with the
// credentials, like last_sign_in_at, so it never changes the SCIM resource's version. No foreign
// key: a sub-account deleted since is simply not found among the person's accounts at sign-in.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE user_credentials ADD COLUMN last_account_id uuid');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE user_credentials DROP COLUMN last_account_id');
}
