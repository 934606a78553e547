// OAuth 2.0 authorization code for SCIM clients (Okta's "OAuth 2" authentication; server/oauth/grants.ts):
//
// - scim_clients gains the grant type it was registered for ('client_credentials', the default,
//   or 'authorization_code'), its exact redirect URIs (RFC 6749 §3.1.2, compared as strings) and
//   whether it must use PKCE (RFC 7636; RFC 9700 §2.1.1).
// - oauth_grants: what a tenant admin consented to at {PUBLIC_URL}/oauth/authorize — the client,
//   the person, the scopes. Access tokens issued under a grant name it (claim `gid`), so revoking
//   the grant, or the person losing the right to consent, stops them at once (oauth/clients.ts).
// - oauth_codes: authorization codes, single-use, 60 seconds, only their SHA-256 kept, bound to
//   the client, redirect URI, PKCE challenge and person. grant_id is set when the code is used,
//   so a replayed code can revoke what it produced (RFC 6749 §4.1.2).
// - oauth_refresh_tokens: opaque, only their SHA-256 kept, rotated on every use; used_at marks a
//   used one, and presenting it again revokes its grant (reuse detection, RFC 9700 §4.14.2).
// Codes and refresh tokens are found by their hash before the tenant is known (the token
// endpoint): unique indexes on the hash, listed in test/api/distribution.test.ts like api_tokens_hash.
// All tenant tables with forced row-level security (test/api/rls.test.ts).
import type { Knex } from 'knex';

const POLICY = 'tenant_id = provisio_tenant() OR current_user = session_user';

async function secure(knex: Knex, table: string): Promise<void> {
  await knex.raw(`GRANT SELECT, INSERT, UPDATE, DELETE ON ${table} TO provisio_app`);
  await knex.raw(`ALTER TABLE ${table} ENABLE ROW LEVEL SECURITY`);
  await knex.raw(`ALTER TABLE ${table} FORCE ROW LEVEL SECURITY`);
  await knex.raw(`CREATE POLICY tenant_isolation ON ${table} USING (${POLICY}) WITH CHECK (${POLICY})`);
}

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    ALTER TABLE scim_clients
      ADD COLUMN grant_type text NOT NULL DEFAULT 'client_credentials',
      ADD COLUMN redirect_uris text[] NOT NULL DEFAULT '{}',
      ADD COLUMN require_pkce boolean NOT NULL DEFAULT false,
      ADD CONSTRAINT scim_clients_grant_type CHECK (grant_type IN ('client_credentials', 'authorization_code'))`);

  await knex.raw(`
    CREATE TABLE oauth_grants (
      tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
      id uuid NOT NULL,
      client_id uuid NOT NULL,
      user_id uuid NOT NULL,
      scopes text[] NOT NULL,
      created_at timestamptz NOT NULL,
      last_used_at timestamptz,
      last_refreshed_at timestamptz,
      revoked_at timestamptz,
      revoked_reason text,
      PRIMARY KEY (tenant_id, id),
      FOREIGN KEY (tenant_id, client_id) REFERENCES scim_clients (tenant_id, id) ON DELETE CASCADE
    )`);
  await knex.raw('CREATE INDEX oauth_grants_client ON oauth_grants (tenant_id, client_id)');
  await secure(knex, 'oauth_grants');

  await knex.raw(`
    CREATE TABLE oauth_codes (
      tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
      code_hash text NOT NULL,
      client_id uuid NOT NULL,
      user_id uuid NOT NULL,
      redirect_uri text NOT NULL,
      scopes text[] NOT NULL,
      code_challenge text,
      created_at timestamptz NOT NULL,
      expires_at timestamptz NOT NULL,
      used_at timestamptz,
      grant_id uuid,
      PRIMARY KEY (tenant_id, code_hash),
      FOREIGN KEY (tenant_id, client_id) REFERENCES scim_clients (tenant_id, id) ON DELETE CASCADE
    )`);
  await knex.raw('CREATE UNIQUE INDEX oauth_codes_hash ON oauth_codes (code_hash)');
  await secure(knex, 'oauth_codes');

  await knex.raw(`
    CREATE TABLE oauth_refresh_tokens (
      tenant_id uuid NOT NULL,
      token_hash text NOT NULL,
      grant_id uuid NOT NULL,
      created_at timestamptz NOT NULL,
      expires_at timestamptz NOT NULL,
      used_at timestamptz,
      PRIMARY KEY (tenant_id, token_hash),
      FOREIGN KEY (tenant_id, grant_id) REFERENCES oauth_grants (tenant_id, id) ON DELETE CASCADE
    )`);
  await knex.raw('CREATE UNIQUE INDEX oauth_refresh_tokens_hash ON oauth_refresh_tokens (token_hash)');
  await knex.raw('CREATE INDEX oauth_refresh_tokens_grant ON oauth_refresh_tokens (tenant_id, grant_id)');
  await secure(knex, 'oauth_refresh_tokens');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE IF EXISTS oauth_refresh_tokens');
  await knex.raw('DROP TABLE IF EXISTS oauth_codes');
  await knex.raw('DROP TABLE IF EXISTS oauth_grants');
  await knex.raw('ALTER TABLE scim_clients DROP CONSTRAINT IF EXISTS scim_clients_grant_type, DROP COLUMN IF EXISTS grant_type, DROP COLUMN IF EXISTS redirect_uris, DROP COLUMN IF EXISTS require_pkce');
}
