// The SQL of OAuth for SCIM (migrations 0012 and 0013; server/oauth/): the server's signing
// keys, tenants' SCIM clients and their trusted external issuer. Lookups made before the tenant
// is known (a client by its id at the token endpoint; the signing keys, which belong to no
// tenant) say so in their SQL.
import type { Db } from './scope';

export interface SigningKeyRow {
  kid: string;
  alg: string;
  public_jwk: Record<string, unknown>;
  created_at: Date;
  retired_at: Date | null;
  publish_until: Date | null;
}

const PUBLIC_KEY_COLUMNS = 'kid, alg, public_jwk, created_at, retired_at, publish_until';

/** Keys to publish at `now`: the active one and retired ones still within their window, newest first. */
export async function publishedKeys(db: Db, now: Date): Promise<SigningKeyRow[]> {
  const res = await db.raw(`SELECT ${PUBLIC_KEY_COLUMNS} FROM oauth_signing_keys WHERE publish_until IS NULL OR publish_until > ? ORDER BY created_at DESC, kid`, [now]);
  return res.rows;
}

/** The key that signs now, with its sealed private half; run as the schema owner (the app role may not read it). */
export async function activeKey(db: Db): Promise<(SigningKeyRow & { private_sealed: string }) | undefined> {
  const res = await db.raw(`SELECT ${PUBLIC_KEY_COLUMNS}, private_sealed FROM oauth_signing_keys WHERE retired_at IS NULL`);
  return res.rows[0];
}

/** Adds the first signing key unless one exists (instances starting together: one wins). */
export async function insertFirstKey(db: Db, k: { kid: string; alg: string; publicJwk: object; privateSealed: string; now: Date }): Promise<void> {
  await db.raw(
    `INSERT INTO oauth_signing_keys (kid, alg, public_jwk, private_sealed, created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
    [k.kid, k.alg, JSON.stringify(k.publicJwk), k.privateSealed, k.now],
  );
}

/**
 * Retires the active key `kid` (when it still is the active one) and inserts its successor, in
 * the caller's transaction. False when another rotation got there first: the row lock makes the
 * second rotator wait, then find the key retired.
 */
export async function rotateKey(db: Db, retiring: string, publishUntil: Date, next: { kid: string; alg: string; publicJwk: object; privateSealed: string; now: Date }): Promise<boolean> {
  const res = await db.raw(`UPDATE oauth_signing_keys SET retired_at = ?, publish_until = ? WHERE kid = ? AND retired_at IS NULL RETURNING kid`, [next.now, publishUntil, retiring]);
  if (!res.rows.length) return false;
  await db.raw(`INSERT INTO oauth_signing_keys (kid, alg, public_jwk, private_sealed, created_at) VALUES (?, ?, ?, ?, ?)`, [
    next.kid,
    next.alg,
    JSON.stringify(next.publicJwk),
    next.privateSealed,
    next.now,
  ]);
  return true;
}

/** Forgets retired keys whose publication window ended before `cutoff`. */
export async function deleteUnpublishedKeys(db: Db, cutoff: Date): Promise<number> {
  const res = await db.raw(`DELETE FROM oauth_signing_keys WHERE publish_until IS NOT NULL AND publish_until < ?`, [cutoff]);
  return res.rowCount ?? 0;
}

// ---- SCIM clients ----

export interface ScimClientRow {
  tenant_id: string;
  id: string;
  name: string;
  scopes: string[];
  sub_account_id: string | null;
  token_minutes: number;
  created_at: Date;
  created_by_user_id: string | null;
  revoked_at: Date | null;
  last_used_at: Date | null;
  last_issued_at: Date | null;
  /** Migration 0022: the grant the client was registered for, its exact redirect URIs, whether PKCE is required. */
  grant_type: 'client_credentials' | 'authorization_code';
  redirect_uris: string[];
  require_pkce: boolean;
}

const CLIENT_COLUMNS = ['tenant_id', 'id', 'name', 'scopes', 'sub_account_id', 'token_minutes', 'created_at', 'created_by_user_id', 'revoked_at', 'last_used_at', 'last_issued_at', 'grant_type', 'redirect_uris', 'require_pkce'];

export async function insertClient(
  db: Db,
  tenantId: string,
  c: {
    id: string;
    name: string;
    secretHash: string;
    scopes: string[];
    subAccountId?: string;
    tokenMinutes: number;
    createdByUserId?: string;
    now: Date;
    grantType?: ScimClientRow['grant_type'];
    redirectUris?: string[];
    requirePkce?: boolean;
  },
): Promise<void> {
  await db('scim_clients').insert({
    tenant_id: tenantId,
    id: c.id,
    name: c.name,
    secret_hash: c.secretHash,
    scopes: c.scopes,
    sub_account_id: c.subAccountId ?? null,
    token_minutes: c.tokenMinutes,
    created_at: c.now,
    created_by_user_id: c.createdByUserId ?? null,
    grant_type: c.grantType ?? 'client_credentials',
    redirect_uris: c.redirectUris ?? [],
    require_pkce: c.requirePkce ?? false,
  });
}

/** A client by its id with its secret hash, before the tenant is known (the token endpoint). */
export async function findClient(db: Db, id: string): Promise<(ScimClientRow & { secret_hash: string }) | undefined> {
  const res = await db.raw(`SELECT ${CLIENT_COLUMNS.join(', ')}, secret_hash FROM scim_clients /* cross-tenant: the client id names its tenant */ WHERE id = ?`, [id]);
  return res.rows[0];
}

export async function getClient(db: Db, tenantId: string, id: string, subAccountId?: string | null): Promise<ScimClientRow | undefined> {
  const q = db('scim_clients').where({ tenant_id: tenantId, id }).first(CLIENT_COLUMNS);
  if (subAccountId) q.andWhere({ sub_account_id: subAccountId });
  return q;
}

/** The tenant's clients, oldest first, revoked ones included; only those bound to `subAccountId` when given. */
export async function listClients(db: Db, tenantId: string, subAccountId?: string | null): Promise<ScimClientRow[]> {
  const q = db('scim_clients').where({ tenant_id: tenantId }).orderBy([{ column: 'created_at' }, { column: 'id' }]).select(CLIENT_COLUMNS);
  if (subAccountId) q.andWhere({ sub_account_id: subAccountId });
  return q;
}

/** Revokes a client (idempotent); undefined when there is none (in that sub-account). */
export async function revokeClient(db: Db, tenantId: string, id: string, at: Date, subAccountId?: string | null): Promise<{ revokedNow: boolean } | undefined> {
  const scoped = () => {
    const q = db('scim_clients').where({ tenant_id: tenantId, id });
    if (subAccountId) q.andWhere({ sub_account_id: subAccountId });
    return q;
  };
  const [row] = await scoped().whereNull('revoked_at').update({ revoked_at: at }).returning(['id']);
  if (row) return { revokedNow: true };
  return (await scoped().first(['id'])) ? { revokedNow: false } : undefined;
}

export async function touchClient(db: Db, tenantId: string, id: string, column: 'last_used_at' | 'last_issued_at', at: Date): Promise<void> {
  await db('scim_clients').where({ tenant_id: tenantId, id }).update({ [column]: at });
}

// ---- The external issuer a tenant trusts ----

export interface IssuerRow {
  tenant_id: string;
  kind: 'entra' | 'custom';
  issuer: string;
  jwks_url: string;
  audience: string;
  claim_name: string;
  claim_value: string;
  created_at: Date;
  updated_at: Date;
  last_used_at: Date | null;
}

export async function getIssuer(db: Db, tenantId: string): Promise<IssuerRow | undefined> {
  return db('scim_issuers').where({ tenant_id: tenantId }).first();
}

/** Sets the tenant's issuer (replacing any); returns the row as stored. */
export async function putIssuer(
  db: Db,
  tenantId: string,
  i: { kind: string; issuer: string; jwksUrl: string; audience: string; claimName: string; claimValue: string; now: Date },
): Promise<IssuerRow> {
  const res = await db.raw(
    `INSERT INTO scim_issuers (tenant_id, kind, issuer, jwks_url, audience, claim_name, claim_value, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (tenant_id) DO UPDATE SET kind = EXCLUDED.kind, issuer = EXCLUDED.issuer, jwks_url = EXCLUDED.jwks_url, audience = EXCLUDED.audience,
       claim_name = EXCLUDED.claim_name, claim_value = EXCLUDED.claim_value, updated_at = EXCLUDED.updated_at, last_used_at = NULL
     RETURNING *`,
    [tenantId, i.kind, i.issuer, i.jwksUrl, i.audience, i.claimName, i.claimValue, i.now, i.now],
  );
  return res.rows[0];
}

export async function deleteIssuer(db: Db, tenantId: string): Promise<IssuerRow | undefined> {
  const res = await db.raw(`DELETE FROM scim_issuers WHERE tenant_id = ? RETURNING *`, [tenantId]);
  return res.rows[0];
}

export async function touchIssuer(db: Db, tenantId: string, at: Date): Promise<void> {
  await db('scim_issuers').where({ tenant_id: tenantId }).update({ last_used_at: at });
}
