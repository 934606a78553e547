// Initial schema: tenants, API tokens, users, groups and memberships.
// Every tenant table leads its primary key, foreign keys and indexes with tenant_id so it could be
// distributed by tenant and carry forced row-level security (docs/architecture.md, "Storage").
// The one exception is api_tokens.token_hash: the token is what names the tenant, so that lookup
// is global by design.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  // btree_gin lets the GIN index on `folded` lead with tenant_id (a trusted extension since PG 13).
  await knex.raw('CREATE EXTENSION IF NOT EXISTS btree_gin');

  await knex.raw(`
    CREATE TABLE tenants (
      id uuid PRIMARY KEY,
      name text NOT NULL,
      settings jsonb NOT NULL DEFAULT '{}'::jsonb,
      created_at timestamptz NOT NULL DEFAULT now()
    )`);

  await knex.raw(`
    CREATE TABLE api_tokens (
      tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
      id uuid NOT NULL,
      name text NOT NULL,
      token_hash text NOT NULL,
      scopes text[] NOT NULL,
      sub_account_id uuid,
      expires_at timestamptz,
      last_used_at timestamptz,
      revoked_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (tenant_id, id)
    )`);
  await knex.raw('CREATE UNIQUE INDEX api_tokens_hash ON api_tokens (token_hash)');

  // data: the canonical SCIM resource (without id, meta, groups/members);
  // folded: the same with caseExact=false strings lower-cased, for filters (store/filter-sql.ts).
  await knex.raw(`
    CREATE TABLE users (
      tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
      id uuid NOT NULL,
      user_name text NOT NULL,
      external_id text,
      active boolean NOT NULL DEFAULT true,
      activation_state text NOT NULL DEFAULT 'pending',
      is_primary_admin boolean NOT NULL DEFAULT false,
      privacy_accepted_at timestamptz,
      data jsonb NOT NULL,
      folded jsonb NOT NULL,
      version bigint NOT NULL DEFAULT 1,
      created_at timestamptz NOT NULL,
      updated_at timestamptz NOT NULL,
      PRIMARY KEY (tenant_id, id),
      CONSTRAINT users_activation_state CHECK (activation_state IN ('pending', 'active'))
    )`);
  // userName is unique per tenant case-insensitively (RFC 7643 §4.1.1: caseExact false, uniqueness server).
  await knex.raw('CREATE UNIQUE INDEX users_user_name_ci ON users (tenant_id, lower(user_name))');
  await knex.raw('CREATE INDEX users_external_id ON users (tenant_id, external_id)');
  await knex.raw('CREATE UNIQUE INDEX users_one_primary_admin ON users (tenant_id) WHERE is_primary_admin');
  await knex.raw('CREATE INDEX users_folded ON users USING gin (tenant_id, folded jsonb_path_ops)');

  await knex.raw(`
    CREATE TABLE groups (
      tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
      id uuid NOT NULL,
      display_name text NOT NULL,
      external_id text,
      kind text NOT NULL DEFAULT 'group',
      data jsonb NOT NULL,
      folded jsonb NOT NULL,
      version bigint NOT NULL DEFAULT 1,
      created_at timestamptz NOT NULL,
      updated_at timestamptz NOT NULL,
      PRIMARY KEY (tenant_id, id),
      CONSTRAINT groups_kind CHECK (kind IN ('group', 'subAccount', 'company'))
    )`);
  await knex.raw('CREATE INDEX groups_display_name_ci ON groups (tenant_id, lower(display_name))');
  await knex.raw('CREATE INDEX groups_external_id ON groups (tenant_id, external_id)');
  await knex.raw('CREATE INDEX groups_folded ON groups USING gin (tenant_id, folded jsonb_path_ops)');

  // Memberships are rows, never a JSON array on the group: adding one member touches one row.
  await knex.raw(`
    CREATE TABLE group_user_members (
      tenant_id uuid NOT NULL,
      group_id uuid NOT NULL,
      user_id uuid NOT NULL,
      PRIMARY KEY (tenant_id, group_id, user_id),
      FOREIGN KEY (tenant_id, group_id) REFERENCES groups (tenant_id, id) ON DELETE CASCADE,
      FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
    )`);
  await knex.raw('CREATE INDEX group_user_members_user ON group_user_members (tenant_id, user_id)');

  await knex.raw(`
    CREATE TABLE group_group_members (
      tenant_id uuid NOT NULL,
      group_id uuid NOT NULL,
      member_group_id uuid NOT NULL,
      PRIMARY KEY (tenant_id, group_id, member_group_id),
      FOREIGN KEY (tenant_id, group_id) REFERENCES groups (tenant_id, id) ON DELETE CASCADE,
      FOREIGN KEY (tenant_id, member_group_id) REFERENCES groups (tenant_id, id) ON DELETE CASCADE,
      CONSTRAINT group_group_members_not_self CHECK (group_id <> member_group_id)
    )`);
  await knex.raw('CREATE INDEX group_group_members_member ON group_group_members (tenant_id, member_group_id)');
}

export async function down(knex: Knex): Promise<void> {
  for (const t of ['group_group_members', 'group_user_members', 'groups', 'users', 'api_tokens', 'tenants']) {
    await knex.raw(`DROP TABLE IF EXISTS ${t}`);
  }
}
