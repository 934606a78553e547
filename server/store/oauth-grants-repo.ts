// The SQL of the OAuth authorization code grant (migration 0022; server/oauth/grants.ts): grants
// a tenant admin consented to, their single-use codes and rotating refresh tokens. A code and a
// refresh token are found by their hash before the tenant is known (the token endpoint); those
// lookups say so in their SQL and run as the schema owner. Every other statement names the tenant.
import type { Db } from './scope';

export interface GrantRow {
  tenant_id: string;
  id: string;
  client_id: string;
  user_id: string;
  scopes: string[];
  created_at: Date;
  last_used_at: Date | null;
  last_refreshed_at: Date | null;
  revoked_at: Date | null;
  revoked_reason: string | null;
}

/** A grant as the console and admin API list it: with its client's name and state and the person's name. */
export interface GrantListRow extends GrantRow {
  client_name: string;
  client_revoked_at: Date | null;
  user_name: string | null;
}

export interface CodeRow {
  tenant_id: string;
  code_hash: string;
  client_id: string;
  user_id: string;
  redirect_uri: string;
  scopes: string[];
  code_challenge: string | null;
  created_at: Date;
  expires_at: Date;
  used_at: Date | null;
  grant_id: string | null;
}

export interface RefreshRow {
  tenant_id: string;
  token_hash: string;
  grant_id: string;
  created_at: Date;
  expires_at: Date;
  used_at: Date | null;
}

export async function insertCode(db: Db, tenantId: string, c: Omit<CodeRow, 'tenant_id' | 'used_at' | 'grant_id'>): Promise<void> {
  await db('oauth_codes').insert({ tenant_id: tenantId, ...c });
}

/** A code by its hash, before the tenant is known (the token endpoint). */
export async function findCode(db: Db, codeHash: string): Promise<CodeRow | undefined> {
  const res = await db.raw(`SELECT * FROM oauth_codes /* cross-tenant: the code names its tenant */ WHERE code_hash = ?`, [codeHash]);
  return res.rows[0];
}

/**
 * Marks the code used and records the grant it produced — only if it was unused: of two
 * requests racing with one code, one wins (the row lock), the other sees it used.
 */
export async function useCode(db: Db, tenantId: string, codeHash: string, at: Date, grantId: string): Promise<boolean> {
  const res = await db.raw(`UPDATE oauth_codes SET used_at = ?, grant_id = ? WHERE tenant_id = ? AND code_hash = ? AND used_at IS NULL RETURNING code_hash`, [at, grantId, tenantId, codeHash]);
  return res.rows.length > 0;
}

/** Forgets codes that expired before `cutoff` (used or not): nothing can be done with them any more. */
export async function deleteExpiredCodes(db: Db, tenantId: string, cutoff: Date): Promise<void> {
  await db('oauth_codes').where({ tenant_id: tenantId }).andWhere('expires_at', '<', cutoff).delete();
}

export async function insertGrant(db: Db, tenantId: string, g: { id: string; clientId: string; userId: string; scopes: string[]; now: Date }): Promise<void> {
  await db('oauth_grants').insert({ tenant_id: tenantId, id: g.id, client_id: g.clientId, user_id: g.userId, scopes: g.scopes, created_at: g.now });
}

export async function getGrant(db: Db, tenantId: string, id: string): Promise<GrantRow | undefined> {
  return db('oauth_grants').where({ tenant_id: tenantId, id }).first();
}

const LIST_SQL = `
  SELECT g.*, c.name AS client_name, c.revoked_at AS client_revoked_at,
         COALESCE(u.data->>'displayName', u.user_name) AS user_name
  FROM oauth_grants g
  JOIN scim_clients c ON c.tenant_id = g.tenant_id AND c.id = g.client_id
  LEFT JOIN users u ON u.tenant_id = g.tenant_id AND u.id = g.user_id
  WHERE g.tenant_id = ?`;

/** The tenant's grants, newest first, revoked ones included. */
export async function listGrants(db: Db, tenantId: string): Promise<GrantListRow[]> {
  return (await db.raw(`${LIST_SQL} ORDER BY g.created_at DESC, g.id`, [tenantId])).rows;
}

export async function getGrantListed(db: Db, tenantId: string, id: string): Promise<GrantListRow | undefined> {
  return (await db.raw(`${LIST_SQL} AND g.id = ?`, [tenantId, id])).rows[0];
}

/** Revokes a grant (idempotent): true when it was revoked now, false when it already was, undefined when there is none. */
export async function revokeGrant(db: Db, tenantId: string, id: string, at: Date, reason: string): Promise<boolean | undefined> {
  const res = await db.raw(`UPDATE oauth_grants SET revoked_at = ?, revoked_reason = ? WHERE tenant_id = ? AND id = ? AND revoked_at IS NULL RETURNING id`, [at, reason, tenantId, id]);
  if (res.rows.length) {
    // Its refresh tokens are dead with it; deleting them keeps nothing usable at rest.
    await db('oauth_refresh_tokens').where({ tenant_id: tenantId, grant_id: id }).delete();
    return true;
  }
  return (await getGrant(db, tenantId, id)) ? false : undefined;
}

export async function touchGrant(db: Db, tenantId: string, id: string, column: 'last_used_at' | 'last_refreshed_at', at: Date): Promise<void> {
  await db('oauth_grants').where({ tenant_id: tenantId, id }).update({ [column]: at });
}

export async function insertRefreshToken(db: Db, tenantId: string, r: { tokenHash: string; grantId: string; now: Date; expiresAt: Date }): Promise<void> {
  await db('oauth_refresh_tokens').insert({ tenant_id: tenantId, token_hash: r.tokenHash, grant_id: r.grantId, created_at: r.now, expires_at: r.expiresAt });
}

/** A refresh token by its hash, before the tenant is known (the token endpoint). */
export async function findRefreshToken(db: Db, tokenHash: string): Promise<RefreshRow | undefined> {
  const res = await db.raw(`SELECT * FROM oauth_refresh_tokens /* cross-tenant: the token names its tenant */ WHERE token_hash = ?`, [tokenHash]);
  return res.rows[0];
}

/** Marks a refresh token used if it was not: false when another request used it first. */
export async function useRefreshToken(db: Db, tenantId: string, tokenHash: string, at: Date): Promise<boolean> {
  const res = await db.raw(`UPDATE oauth_refresh_tokens SET used_at = ? WHERE tenant_id = ? AND token_hash = ? AND used_at IS NULL RETURNING token_hash`, [at, tenantId, tokenHash]);
  return res.rows.length > 0;
}

/** Forgets a grant's refresh tokens (used or not) whose lifetime ended before `cutoff`. */
export async function deleteExpiredRefreshTokens(db: Db, tenantId: string, grantId: string, cutoff: Date): Promise<void> {
  await db('oauth_refresh_tokens').where({ tenant_id: tenantId, grant_id: grantId }).andWhere('expires_at', '<', cutoff).delete();
}
