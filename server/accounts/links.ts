// One-time links (activation, password reset, email verification; issue 5): 256 random bits in
// the link, only their SHA-256 stored (a fast hash suits a high-entropy secret and keeps the
// lookup one indexed equality). A link expires, works once, and a newer link of the same purpose
// for the same person replaces the older ones. Reading a link (the GET that shows the form) never
// uses it: only useLink does, atomically, so two submissions of one link cannot both succeed. The
// token travels in the query string, which the request log drops (server/logger.ts), and pages
// send no Referer (helmet's Referrer-Policy: no-referrer). test/api/front-door.test.ts
import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import { v7 as uuidv7 } from 'uuid';
import { hashToken } from '../secrets';
import * as links from '../store/links-repo';
import { asOwner, Db } from '../store/scope';

export type { LinkPurpose, LinkRow } from '../store/links-repo';

const SECRET = /^[A-Za-z0-9_-]{43}$/;

/** A new link's secret and the statement that stores it, for the caller to run alone or with its email. */
export function newLink(tenantId: string, userId: string, purpose: links.LinkPurpose, email: string, now: Date, ttlMs: number) {
  const token = randomBytes(32).toString('base64url');
  const row: links.NewLinkRow = { tenantId, id: uuidv7(), userId, purpose, tokenHash: hashToken(token), email, expiresAt: new Date(now.getTime() + ttlMs), createdAt: now };
  return { token, row, statement: links.insertLinkStatement(row) };
}

/** Makes a new link in the caller's tenant transaction (older ones of the purpose die); returns the secret. */
export async function issueLink(trx: Db, tenantId: string, userId: string, purpose: links.LinkPurpose, email: string, now: Date, ttlMs: number): Promise<string> {
  await links.supersedeLinks(trx, tenantId, userId, purpose);
  const link = newLink(tenantId, userId, purpose, email, now, ttlMs);
  await links.insertLink(trx, link.row);
  return link.token;
}

/** The live link a secret names, without using it. The secret names the tenant. */
export async function peekLink(knex: Knex, token: string, purpose: links.LinkPurpose, now: Date): Promise<links.LinkRow | undefined> {
  if (!SECRET.test(token)) return undefined;
  return asOwner(knex, (trx) => links.findLiveLink(trx, hashToken(token), purpose, now));
}

/** Uses the link in the caller's tenant transaction; undefined when it is no longer live. */
export function useLink(trx: Db, tenantId: string, token: string, purpose: links.LinkPurpose, now: Date): Promise<links.LinkRow | undefined> {
  return links.consumeLink(trx, tenantId, hashToken(token), purpose, now);
}

export const revokeLinks = links.revokeLinks;
export const supersedeLinks = links.supersedeLinks;
