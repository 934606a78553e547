// When a person last signed in (issue 10, the admin API's users list): set by the sign-in step
// (front-door/sign-in.ts), whatever the way in. Kept with the credentials, not on `users`, so a
// sign-in never changes the SCIM resource's version.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE user_credentials ADD COLUMN last_sign_in_at timestamptz');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE user_credentials DROP COLUMN last_sign_in_at');
}
