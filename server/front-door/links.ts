// One-time links: activation, password reset and email verification (issue 5).
// 256 random bits in the link; only their SHA-256 is stored (a fast hash suits a high-entropy
// secret and keeps the lookup one indexed equality). A link expires, works once, and a newer link
// of the same purpose for the same person deletes the older ones. Reading a link (the GET that
// shows the form) never uses it: only consume() does, atomically, so two submissions of one link
// cannot both succeed. The token travels in the query string, which the request log drops
// (server/logger.ts), and pages send no Referer (helmet's Referrer-Policy: no-referrer).
// test/api/front-door.test.ts
import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import { v7 as uuidv7 } from 'uuid';
import { hashToken } from '../tenancy/tokens';
import { asOwner, Tx } from '../store/scope';

export type LinkPurpose = 'activation' | 'reset' | 'verify-email';

export interface LinkRow {
  tenantId: string;
  id: string;
  userId: string;
  purpose: LinkPurpose;
  email: string;
  expiresAt: Date;
}

const toRow = (r: Record<string, unknown>): LinkRow => ({
  tenantId: r.tenant_id as string,
  id: r.id as string,
  userId: r.user_id as string,
  purpose: r.purpose as LinkPurpose,
  email: r.email as string,
  expiresAt: new Date(r.expires_at as string),
});

/** The INSERT of a new link, for the caller to run (alone, or with the email that carries it). */
export function newLink(tenantId: string, userId: string, purpose: LinkPurpose, email: string, now: Date, ttlMs: number) {
  const token = randomBytes(32).toString('base64url');
  return {
    token,
    sql: `INSERT INTO one_time_links (tenant_id, id, user_id, purpose, token_hash, email, expires_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    bindings: [tenantId, uuidv7(), userId, purpose, hashToken(token), email, new Date(now.getTime() + ttlMs), now] as Knex.Value[],
  };
}

/** Deletes the person's unused links of this purpose: a newer one is about to replace them. */
export async function supersedeLinks(trx: Tx, tenantId: string, userId: string, purpose: LinkPurpose): Promise<void> {
  await trx.raw('DELETE FROM one_time_links WHERE tenant_id = ? AND user_id = ? AND purpose = ? AND used_at IS NULL', [tenantId, userId, purpose]);
}

/** Makes a new link in the caller's tenant transaction (older ones die); returns the secret to put in the email. */
export async function issueLink(trx: Tx, tenantId: string, userId: string, purpose: LinkPurpose, email: string, now: Date, ttlMs: number): Promise<string> {
  await supersedeLinks(trx, tenantId, userId, purpose);
  const link = newLink(tenantId, userId, purpose, email, now, ttlMs);
  await trx.raw(link.sql, link.bindings);
  return link.token;
}

/** The live link this secret names, without using it (GET of the page). The secret names the tenant. */
export async function peekLink(knex: Knex, token: string, purpose: LinkPurpose, now: Date): Promise<LinkRow | undefined> {
  if (!/^[A-Za-z0-9_-]{43}$/.test(token)) return undefined;
  const row = await asOwner(knex, async (trx) =>
    (await trx.raw(`SELECT * FROM one_time_links WHERE token_hash = ? AND purpose = ? AND used_at IS NULL AND expires_at > ?`, [hashToken(token), purpose, now])).rows[0],
  );
  return row ? toRow(row) : undefined;
}

/** Uses the link inside the caller's tenant transaction; undefined when it is no longer live. */
export async function consumeLink(trx: Tx, tenantId: string, token: string, purpose: LinkPurpose, now: Date): Promise<LinkRow | undefined> {
  const row = (
    await trx.raw(
      `UPDATE one_time_links SET used_at = ? WHERE tenant_id = ? AND token_hash = ? AND purpose = ? AND used_at IS NULL AND expires_at > ? RETURNING *`,
      [now, tenantId, hashToken(token), purpose, now],
    )
  ).rows[0];
  return row ? toRow(row) : undefined;
}

/** Kills every unused link of these people (email change, deactivation): none can be used any more. */
export async function revokeLinks(trx: Tx, tenantId: string, userIds: string[], purposes?: LinkPurpose[]): Promise<number> {
  if (!userIds.length) return 0;
  const res = await trx.raw(
    `DELETE FROM one_time_links WHERE tenant_id = ? AND user_id = ANY(?::uuid[]) AND used_at IS NULL${purposes ? ' AND purpose = ANY(?::text[])' : ''}`,
    purposes ? [tenantId, userIds, purposes] : [tenantId, userIds],
  );
  return res.rowCount ?? 0;
}
