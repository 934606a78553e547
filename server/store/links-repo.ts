// One-time links (activation, password reset, email verification): the rows behind them
// (migrations/0007_front_door.ts). The caller makes the secret and passes only its hash
// (accounts/links.ts). Every statement filters on the tenant, except the lookup by hash: the
// secret is what names the tenant, so it runs as the schema owner (store/scope.ts asOwner).
import type { Knex } from 'knex';
import type { Db } from './scope';

export type LinkPurpose = 'activation' | 'reset' | 'verify-email';

export interface LinkRow {
  tenantId: string;
  id: string;
  userId: string;
  purpose: LinkPurpose;
  email: string;
  expiresAt: Date;
}

export interface NewLinkRow {
  tenantId: string;
  id: string;
  userId: string;
  purpose: LinkPurpose;
  tokenHash: string;
  email: string;
  expiresAt: Date;
  createdAt: Date;
}

const toRow = (r: Record<string, unknown>): LinkRow => ({
  tenantId: r.tenant_id as string,
  id: r.id as string,
  userId: r.user_id as string,
  purpose: r.purpose as LinkPurpose,
  email: r.email as string,
  expiresAt: new Date(r.expires_at as string),
});

/** The INSERT of a link as a statement, for the caller to run alone or with the email that carries it (a CTE). */
export function insertLinkStatement(l: NewLinkRow): { sql: string; bindings: Knex.Value[] } {
  return {
    sql: `INSERT INTO one_time_links (tenant_id, id, user_id, purpose, token_hash, email, expires_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    bindings: [l.tenantId, l.id, l.userId, l.purpose, l.tokenHash, l.email, l.expiresAt, l.createdAt],
  };
}

export async function insertLink(db: Db, l: NewLinkRow): Promise<void> {
  const s = insertLinkStatement(l);
  await db.raw(s.sql, s.bindings);
}

/** Deletes the person's unused links of this purpose: a newer one is about to replace them. */
export async function supersedeLinks(db: Db, tenantId: string, userId: string, purpose: LinkPurpose): Promise<void> {
  await db.raw('DELETE FROM one_time_links WHERE tenant_id = ? AND user_id = ? AND purpose = ? AND used_at IS NULL', [tenantId, userId, purpose]);
}

/** The live link with this hash, whatever its tenant (run as the schema owner). */
export async function findLiveLink(db: Db, tokenHash: string, purpose: LinkPurpose, now: Date): Promise<LinkRow | undefined> {
  const row = (
    await db.raw(`SELECT * FROM one_time_links /* cross-tenant: the link's secret names its tenant */ WHERE token_hash = ? AND purpose = ? AND used_at IS NULL AND expires_at > ?`, [
      tokenHash,
      purpose,
      now,
    ])
  ).rows[0];
  return row ? toRow(row) : undefined;
}

/** Uses the link (atomically: one of two concurrent uses wins); undefined when it is no longer live. */
export async function consumeLink(db: Db, tenantId: string, tokenHash: string, purpose: LinkPurpose, now: Date): Promise<LinkRow | undefined> {
  const row = (
    await db.raw(`UPDATE one_time_links SET used_at = ? WHERE tenant_id = ? AND token_hash = ? AND purpose = ? AND used_at IS NULL AND expires_at > ? RETURNING *`, [
      now,
      tenantId,
      tokenHash,
      purpose,
      now,
    ])
  ).rows[0];
  return row ? toRow(row) : undefined;
}

/** Kills every unused link of these people (of these purposes, or all). Returns how many. */
export async function revokeLinks(db: Db, tenantId: string, userIds: string[], purposes?: LinkPurpose[]): Promise<number> {
  if (!userIds.length) return 0;
  const res = await db.raw(
    `DELETE FROM one_time_links WHERE tenant_id = ? AND user_id = ANY(?::uuid[]) AND used_at IS NULL${purposes ? ' AND purpose = ANY(?::text[])' : ''}`,
    purposes ? [tenantId, userIds, purposes] : [tenantId, userIds],
  );
  return res.rowCount ?? 0;
}
