// The front door (issue 5): credentials, one-time links, SSO connections and linked IdP
// subjects, server-side sessions, the email outbox, rate-limit counters and the server's keys.
//
// Tenant tables carry the same forced row-level security as the others
// (migrations/0002_row_level_security.ts). Lookups made before the tenant is known are global by
// design and run as the schema owner, like the API-token lookup: a session by its id hash, a
// one-time link by its token hash (the secret names the tenant), a person by sign-in email (unique
// across tenants), an SSO connection by email domain, and the outbox worker's claim across
// tenants. rate_limits and server_keys hold no tenant data; the application role cannot read
// server_keys at all.
import type { Knex } from 'knex';

const TENANT_TABLES = ['user_credentials', 'one_time_links', 'sso_connections', 'sso_identities', 'sessions', 'outbox'];

export async function up(knex: Knex): Promise<void> {
  // Credentials live apart from `users`, so no resource read can ever carry a password hash.
  await knex.raw(`
    CREATE TABLE user_credentials (
      tenant_id uuid NOT NULL,
      user_id uuid NOT NULL,
      password_hash text,
      must_change boolean NOT NULL DEFAULT false,
      password_changed_at timestamptz,
      -- The sign-in email this person proved they receive (activation or reset link, or an IdP's
      -- verified email). A userName changed to another address is not verified until proven.
      verified_email text,
      privacy_policy_version text,
      updated_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (tenant_id, user_id),
      FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
    )`);

  // Activation, password-reset and email-verification links: 256 random bits, only the SHA-256
  // of which is kept. A newer link of the same purpose deletes the older ones (accounts/links.ts).
  await knex.raw(`
    CREATE TABLE one_time_links (
      tenant_id uuid NOT NULL,
      id uuid NOT NULL,
      user_id uuid NOT NULL,
      purpose text NOT NULL,
      token_hash text NOT NULL,
      email text NOT NULL,
      expires_at timestamptz NOT NULL,
      used_at timestamptz,
      created_at timestamptz NOT NULL,
      PRIMARY KEY (tenant_id, id),
      FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE,
      CONSTRAINT one_time_links_purpose CHECK (purpose IN ('activation', 'reset', 'verify-email'))
    )`);
  await knex.raw('CREATE UNIQUE INDEX one_time_links_hash ON one_time_links (token_hash)');
  await knex.raw('CREATE INDEX one_time_links_user ON one_time_links (tenant_id, user_id, purpose)');

  // OIDC connections to a tenant's IdP. The client secret is sealed with the server key
  // (security/keys.ts), never returned. An email domain belongs to one connection across
  // all tenants, so where the sign-in page sends an address never depends on whether it exists.
  await knex.raw(`
    CREATE TABLE sso_connections (
      tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
      id uuid NOT NULL,
      issuer text NOT NULL,
      client_id text NOT NULL,
      client_secret_sealed text NOT NULL,
      email_domains text[] NOT NULL,
      created_at timestamptz NOT NULL,
      updated_at timestamptz NOT NULL,
      PRIMARY KEY (tenant_id, id)
    )`);
  await knex.raw(`
    CREATE TABLE sso_domains (
      domain text PRIMARY KEY,
      tenant_id uuid NOT NULL,
      connection_id uuid NOT NULL,
      FOREIGN KEY (tenant_id, connection_id) REFERENCES sso_connections (tenant_id, id) ON DELETE CASCADE
    )`);
  await knex.raw(`
    CREATE TABLE sso_identities (
      tenant_id uuid NOT NULL,
      connection_id uuid NOT NULL,
      subject text NOT NULL,
      user_id uuid NOT NULL,
      linked_at timestamptz NOT NULL,
      PRIMARY KEY (tenant_id, connection_id, subject),
      FOREIGN KEY (tenant_id, connection_id) REFERENCES sso_connections (tenant_id, id) ON DELETE CASCADE,
      FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
    )`);
  await knex.raw('CREATE UNIQUE INDEX sso_identities_user ON sso_identities (tenant_id, connection_id, user_id)');

  // Server-side sessions (express-session store, front-door/session-store.ts). The cookie holds
  // the session id; the table holds its SHA-256. tenant_id/user_id are set at sign-in, so force
  // logout is one DELETE. Anonymous sessions (OIDC state before the callback) have no tenant.
  await knex.raw(`
    CREATE TABLE sessions (
      sid_hash text PRIMARY KEY,
      tenant_id uuid,
      user_id uuid,
      data jsonb NOT NULL,
      created_at timestamptz NOT NULL,
      expires_at timestamptz NOT NULL,
      FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
    )`);
  await knex.raw('CREATE INDEX sessions_user ON sessions (tenant_id, user_id)');
  await knex.raw('CREATE INDEX sessions_expires ON sessions (expires_at)');

  // The transactional outbox (mail/outbox.ts): written in the transaction of the change that
  // causes the email; `sealed` holds the rendered message encrypted with the server key, so a
  // generated password or a link is not readable at rest, and a resend carries the same link.
  await knex.raw(`
    CREATE TABLE outbox (
      tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
      id uuid NOT NULL,
      template text NOT NULL,
      recipient text NOT NULL,
      subject text NOT NULL,
      sealed text,
      status text NOT NULL DEFAULT 'pending',
      attempts integer NOT NULL DEFAULT 0,
      next_attempt_at timestamptz NOT NULL,
      locked_until timestamptz,
      last_error text,
      created_at timestamptz NOT NULL,
      sent_at timestamptz,
      PRIMARY KEY (tenant_id, id),
      CONSTRAINT outbox_status CHECK (status IN ('pending', 'sent', 'failed'))
    )`);
  await knex.raw(`CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE status = 'pending'`);

  // rate-limiter-flexible's table (its own CREATE statement; we create it so the app role needs
  // no DDL). Keys are hashed by the caller: no email address is stored here.
  await knex.raw(`
    CREATE TABLE rate_limits (
      key varchar(255) PRIMARY KEY,
      points integer NOT NULL DEFAULT 0,
      expire bigint
    )`);

  // Keys the server makes for itself when the operator sets none (security/keys.ts), shared by
  // every instance on the same database. Only the schema owner reads it.
  await knex.raw(`
    CREATE TABLE server_keys (
      name text PRIMARY KEY,
      value text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now()
    )`);

  await knex.raw(`GRANT SELECT, INSERT, UPDATE, DELETE ON ${TENANT_TABLES.join(', ')}, sso_domains, rate_limits TO provisio_app`);
  const owner = 'current_user = session_user';
  for (const table of [...TENANT_TABLES, 'sso_domains']) {
    await knex.raw(`ALTER TABLE ${table} ENABLE ROW LEVEL SECURITY`);
    await knex.raw(`ALTER TABLE ${table} FORCE ROW LEVEL SECURITY`);
    await knex.raw(`CREATE POLICY tenant_isolation ON ${table} USING (tenant_id = provisio_tenant() OR ${owner}) WITH CHECK (tenant_id = provisio_tenant() OR ${owner})`);
  }
}

export async function down(knex: Knex): Promise<void> {
  for (const table of ['server_keys', 'rate_limits', 'outbox', 'sessions', 'sso_identities', 'sso_domains', 'sso_connections', 'one_time_links', 'user_credentials']) {
    await knex.raw(`DROP TABLE IF EXISTS ${table}`);
  }
}
