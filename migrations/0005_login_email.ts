// One login email, one partner (issue 4, "Rules"): a user's sign-in email — its userName when
// that is an email address — is unique across all tenants. Deliberately not led by tenant_id:
// this index is the cross-tenant rule itself. A conflict answers 409 without naming the other
// tenant (resources/kinds.ts); a "+alias" address is the documented way around it.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`CREATE UNIQUE INDEX users_login_email ON users (user_name_ci) WHERE strpos(user_name_ci, '@') > 0`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX IF EXISTS users_login_email');
}
