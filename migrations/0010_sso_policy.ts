// SSO connections become policy (issue 9, points 5, 7 and 8; docs/sso.md):
//
// - sso_domains: a claim of an email domain by a tenant. It routes /login for everyone only once
//   the tenant proved it owns the domain with a DNS TXT record carrying `challenge` (verified_at
//   set). Only proven domains are unique across tenants (a partial unique index), so an unproven
//   claim cannot keep the real owner out; one tenant holds a domain on at most one of its
//   connections (primary key tenant + domain). Claims made before this migration start unproven:
//   nobody proved them, and each gets its own random challenge here.
// - sso_connections.require_sso: people of the tenant in the connection's domains sign in only
//   through the IdP (no local password), server/sso/policy.ts.
// - sso_identities.linked_by: who made a link. 'self' is the person linking their IdP account
//   while signed in; 'first-sign-in' the automatic link of a first SSO sign-in. The primary admin
//   is signed in through SSO only by a 'self' link, so every row made before this migration
//   counts as not approved.
import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE sso_domains ADD COLUMN challenge text');
  await knex.raw('ALTER TABLE sso_domains ADD COLUMN verified_at timestamptz');
  // Migrations run as the schema owner: row-level security lets them see every tenant's rows.
  const rows = (await knex.raw('SELECT tenant_id, domain FROM sso_domains')).rows as { tenant_id: string; domain: string }[];
  for (const r of rows) {
    await knex.raw('UPDATE sso_domains SET challenge = ? WHERE tenant_id = ? AND domain = ?', [randomBytes(32).toString('base64url'), r.tenant_id, r.domain]);
  }
  await knex.raw('ALTER TABLE sso_domains ALTER COLUMN challenge SET NOT NULL');
  await knex.raw('ALTER TABLE sso_domains DROP CONSTRAINT sso_domains_pkey');
  await knex.raw('ALTER TABLE sso_domains ADD CONSTRAINT sso_domains_pkey PRIMARY KEY (tenant_id, domain)');
  await knex.raw('CREATE UNIQUE INDEX sso_domains_verified ON sso_domains (domain) WHERE verified_at IS NOT NULL');
  // The routing lookup for unproven claims goes by domain across tenants.
  await knex.raw('CREATE INDEX sso_domains_domain ON sso_domains (domain)');

  await knex.raw('ALTER TABLE sso_connections ADD COLUMN require_sso boolean NOT NULL DEFAULT false');

  await knex.raw(`ALTER TABLE sso_identities ADD COLUMN linked_by text NOT NULL DEFAULT 'first-sign-in'`);
  await knex.raw(`ALTER TABLE sso_identities ADD CONSTRAINT sso_identities_linked_by CHECK (linked_by IN ('first-sign-in', 'self'))`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE sso_identities DROP CONSTRAINT sso_identities_linked_by');
  await knex.raw('ALTER TABLE sso_identities DROP COLUMN linked_by');
  await knex.raw('ALTER TABLE sso_connections DROP COLUMN require_sso');
  await knex.raw('DROP INDEX sso_domains_domain');
  await knex.raw('DROP INDEX sso_domains_verified');
  // Back to one claim per domain across tenants: the proven claim wins, else the oldest connection's.
  await knex.raw(`DELETE FROM sso_domains d USING sso_domains o, sso_connections dc, sso_connections oc
    WHERE d.domain = o.domain AND (d.tenant_id, d.connection_id) <> (o.tenant_id, o.connection_id)
      AND dc.tenant_id = d.tenant_id AND dc.id = d.connection_id AND oc.tenant_id = o.tenant_id AND oc.id = o.connection_id
      AND (o.verified_at IS NOT NULL AND d.verified_at IS NULL OR (o.verified_at IS NULL) = (d.verified_at IS NULL) AND (oc.created_at, oc.id) < (dc.created_at, dc.id))`);
  await knex.raw(`UPDATE sso_connections c SET email_domains = ARRAY(
    SELECT x FROM unnest(c.email_domains) WITH ORDINALITY u(x, i)
     WHERE EXISTS (SELECT 1 FROM sso_domains d WHERE d.tenant_id = c.tenant_id AND d.connection_id = c.id AND d.domain = u.x) ORDER BY i)`);
  await knex.raw('ALTER TABLE sso_domains DROP CONSTRAINT sso_domains_pkey');
  await knex.raw('ALTER TABLE sso_domains ADD CONSTRAINT sso_domains_pkey PRIMARY KEY (domain)');
  await knex.raw('ALTER TABLE sso_domains DROP COLUMN verified_at');
  await knex.raw('ALTER TABLE sso_domains DROP COLUMN challenge');
}
