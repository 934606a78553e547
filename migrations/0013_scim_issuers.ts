// Externally issued tokens for SCIM (issue 13, "Entra-issued tokens"; server/oauth/external.ts):
// a tenant trusts at most one external issuer (primary key tenant_id). A token is accepted when
// its `iss` is `issuer`, its signature verifies against the keys at `jwks_url`, its `aud` is
// `audience` and its claim `claim_name` equals `claim_value` (Entra: `tid` = the Entra tenant
// id). The JWKS URL is fetched under the outbound rules of sso/network.ts.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE scim_issuers (
      tenant_id uuid PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
      kind text NOT NULL,
      issuer text NOT NULL,
      jwks_url text NOT NULL,
      audience text NOT NULL,
      claim_name text NOT NULL,
      claim_value text NOT NULL,
      created_at timestamptz NOT NULL,
      updated_at timestamptz NOT NULL,
      last_used_at timestamptz,
      CONSTRAINT scim_issuers_kind CHECK (kind IN ('entra', 'custom'))
    )`);
  await knex.raw('GRANT SELECT, INSERT, UPDATE, DELETE ON scim_issuers TO provisio_app');
  const owner = 'current_user = session_user';
  await knex.raw('ALTER TABLE scim_issuers ENABLE ROW LEVEL SECURITY');
  await knex.raw('ALTER TABLE scim_issuers FORCE ROW LEVEL SECURITY');
  await knex.raw(`CREATE POLICY tenant_isolation ON scim_issuers USING (tenant_id = provisio_tenant() OR ${owner}) WITH CHECK (tenant_id = provisio_tenant() OR ${owner})`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE IF EXISTS scim_issuers');
}
