// OAuth 2.0 client credentials for SCIM (issue 13, "How SCIM clients authenticate"; server/oauth/):
//
// - oauth_signing_keys: the server's own JWT signing keys (RS256), shared by every instance on
//   the database. The private half is sealed with the server key's SecretBox
//   (security/keys.ts) and its column is not granted to the application role at all: it is read
//   as the schema owner when a key is loaded (store/oauth-repo.ts), and never leaves the server
//   in clear. One key signs at a time (retired_at IS NULL, at most one row: a partial unique
//   index, so two instances rotating together cannot both win); a retired key stays published
//   in the JWKS until publish_until, after every token it signed has expired.
// - scim_clients: a tenant's SCIM clients (RFC 6749 §4.4). The client id is the row id; the
//   secret is 256 random bits of which only the SHA-256 is kept (secrets.ts, like API tokens).
//   Scopes, sub-account binding and maker follow api_tokens, so the same authority rule applies
//   (resources/authority.ts tokenStillEmpowered). token_minutes is the access-token lifetime.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE oauth_signing_keys (
      kid text PRIMARY KEY,
      alg text NOT NULL,
      public_jwk jsonb NOT NULL,
      private_sealed text NOT NULL,
      created_at timestamptz NOT NULL,
      retired_at timestamptz,
      publish_until timestamptz
    )`);
  await knex.raw('CREATE UNIQUE INDEX oauth_signing_keys_active ON oauth_signing_keys ((true)) WHERE retired_at IS NULL');
  // Column privileges: the application role reads the public half and the dates, never the sealed private key.
  await knex.raw('GRANT SELECT (kid, alg, public_jwk, created_at, retired_at, publish_until) ON oauth_signing_keys TO provisio_app');

  await knex.raw(`
    CREATE TABLE scim_clients (
      tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
      id uuid NOT NULL,
      name text NOT NULL,
      secret_hash text NOT NULL,
      scopes text[] NOT NULL,
      sub_account_id uuid,
      token_minutes integer NOT NULL DEFAULT 60,
      created_at timestamptz NOT NULL,
      created_by_user_id uuid,
      revoked_at timestamptz,
      last_used_at timestamptz,
      last_issued_at timestamptz,
      PRIMARY KEY (tenant_id, id),
      CONSTRAINT scim_clients_token_minutes CHECK (token_minutes BETWEEN 60 AND 360)
    )`);
  // The token endpoint finds a client by its id before it knows the tenant (the id names it).
  await knex.raw('CREATE UNIQUE INDEX scim_clients_id ON scim_clients (id)');
  await knex.raw('GRANT SELECT, INSERT, UPDATE, DELETE ON scim_clients TO provisio_app');
  const owner = 'current_user = session_user';
  await knex.raw('ALTER TABLE scim_clients ENABLE ROW LEVEL SECURITY');
  await knex.raw('ALTER TABLE scim_clients FORCE ROW LEVEL SECURITY');
  await knex.raw(`CREATE POLICY tenant_isolation ON scim_clients USING (tenant_id = provisio_tenant() OR ${owner}) WITH CHECK (tenant_id = provisio_tenant() OR ${owner})`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE IF EXISTS scim_clients');
  await knex.raw('DROP TABLE IF EXISTS oauth_signing_keys');
}
