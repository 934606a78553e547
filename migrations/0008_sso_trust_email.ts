// SSO connections (issue 5): `trust_email`, set knowingly by an admin for IdPs that send an email
// but no `email_verified` claim (Microsoft Entra ID). Off by default: an email the IdP does not
// say it verified does not sign anyone in (server/front-door/oidc-routes.ts, docs/sso.md).
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE sso_connections ADD COLUMN trust_email boolean NOT NULL DEFAULT false');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE sso_connections DROP COLUMN trust_email');
}
