// Tenants and their API tokens. Token lookup by hash is the one query not scoped by tenant:
// the token is what tells us the tenant (migrations/0001_init.ts).
import type { Db } from './scope';

export interface TenantRow {
  id: string;
  name: string;
  settings: Record<string, unknown>;
  created_at: Date;
}

export interface TokenRow {
  tenant_id: string;
  id: string;
  name: string;
  scopes: string[];
  sub_account_id: string | null;
  expires_at: Date | null;
  revoked_at: Date | null;
  last_used_at: Date | null;
  /** The person who made it with their session (the console); null for tokens made otherwise. */
  created_by_user_id: string | null;
}

export class TenantsRepo {
  async insert(db: Db, row: { id: string; name: string; settings?: Record<string, unknown> }): Promise<TenantRow> {
    const [t] = await db('tenants')
      .insert({ id: row.id, name: row.name, settings: row.settings ?? {} })
      .returning(['id', 'name', 'settings', 'created_at']);
    return t;
  }

  async list(db: Db): Promise<(TenantRow & { users: number; groups: number })[]> {
    const res = await db.raw(
      `SELECT t.id, t.name, t.settings, t.created_at,
              (SELECT count(*) FROM users u WHERE u.tenant_id = t.id)::int AS users,
              (SELECT count(*) FROM groups g WHERE g.tenant_id = t.id)::int AS groups
         FROM tenants t ORDER BY t.created_at, t.id`,
    );
    return res.rows;
  }

  async get(db: Db, tenantId: string): Promise<TenantRow | undefined> {
    return db('tenants').where({ id: tenantId }).first(['id', 'name', 'settings', 'created_at']);
  }
}

export class TokensRepo {
  async insert(
    db: Db,
    tenantId: string,
    row: { id: string; name: string; tokenHash: string; scopes: string[]; subAccountId?: string; expiresAt?: Date; createdByUserId?: string },
  ): Promise<void> {
    await db('api_tokens').insert({
      tenant_id: tenantId,
      id: row.id,
      name: row.name,
      token_hash: row.tokenHash,
      scopes: row.scopes,
      sub_account_id: row.subAccountId ?? null,
      expires_at: row.expiresAt ?? null,
      created_by_user_id: row.createdByUserId ?? null,
    });
  }

  async findByHash(db: Db, tokenHash: string): Promise<TokenRow | undefined> {
    const res = await db.raw(
      `SELECT tenant_id, id, name, scopes, sub_account_id, expires_at, revoked_at, last_used_at, created_by_user_id
         FROM api_tokens /* cross-tenant: the token names its tenant */ WHERE token_hash = ?`,
      [tokenHash],
    );
    return res.rows[0];
  }

  async touch(db: Db, tenantId: string, id: string, at: Date): Promise<void> {
    await db('api_tokens').where({ tenant_id: tenantId, id }).update({ last_used_at: at });
  }

  // --- Token management for the admin API (server/admin/tokens.ts). Never selects token_hash
  // except in revoke, which hands it to the Authenticator to evict its cache entry.

  /**
   * The tenant's tokens, oldest first; only those bound to `subAccountId` when it is given (what
   * a sub-account-bound credential may see). Revoked tokens are listed too, with revoked_at.
   */
  async list(db: Db, tenantId: string, subAccountId?: string | null): Promise<TokenInfo[]> {
    const q = db('api_tokens').where({ tenant_id: tenantId }).orderBy([{ column: 'created_at' }, { column: 'id' }]).select(TOKEN_INFO);
    if (subAccountId) q.andWhere({ sub_account_id: subAccountId });
    return q;
  }

  async get(db: Db, tenantId: string, id: string, subAccountId?: string | null): Promise<TokenInfo | undefined> {
    const q = db('api_tokens').where({ tenant_id: tenantId, id }).first(TOKEN_INFO);
    if (subAccountId) q.andWhere({ sub_account_id: subAccountId });
    return q;
  }

  /**
   * Revokes a token (idempotent: a second revocation keeps the first time). Returns its hash, for
   * evicting cached lookups, and whether this call revoked it; undefined when there is no such
   * token (in that sub-account).
   */
  async revoke(
    db: Db,
    tenantId: string,
    id: string,
    at: Date,
    subAccountId?: string | null,
  ): Promise<{ tokenHash: string; revokedNow: boolean } | undefined> {
    const scoped = () => {
      const q = db('api_tokens').where({ tenant_id: tenantId, id });
      if (subAccountId) q.andWhere({ sub_account_id: subAccountId });
      return q;
    };
    const [row] = await scoped().whereNull('revoked_at').update({ revoked_at: at }).returning(['token_hash']);
    if (row) return { tokenHash: row.token_hash, revokedNow: true };
    const before = await scoped().first(['token_hash']);
    return before ? { tokenHash: before.token_hash, revokedNow: false } : undefined;
  }
}

/** A token as the admin API shows it: everything but its hash. */
export interface TokenInfo extends TokenRow {
  created_at: Date;
}

const TOKEN_INFO = ['tenant_id', 'id', 'name', 'scopes', 'sub_account_id', 'expires_at', 'revoked_at', 'last_used_at', 'created_at', 'created_by_user_id'];
