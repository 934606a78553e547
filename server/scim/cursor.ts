// Opaque cursors for RFC 9865 paging. A cursor carries the keyset position (sort key and id of
// the row it continues from), its direction, a digest of the query it belongs to, when it was
// issued, and a checksum over all of that so that an altered or corrupted cursor is invalidCursor
// (RFC 9865 §2.1) rather than a silently different page. Encoded as canonical base64url, which
// uses only RFC 3986 unreserved characters (RFC 9865 §2). Pure; test/unit/cursor.test.ts.
import { createHash } from 'node:crypto';
import { expiredCursor, invalidCursor } from '../errors';

export interface CursorPosition {
  /** 'next': rows after `key`; 'prev': rows before `key`. */
  dir: 'next' | 'prev';
  /** Sort key (as text; null when the row has no value) and row id. */
  key: [string | null, string];
}

interface Payload extends CursorPosition {
  v: 2;
  q: string;
  t: number;
  /** Checksum of the other fields (see checksum()). */
  s: string;
}

/** A short digest of what makes two requests "the same query" (RFC 9865 §2: identical parameters). */
export function queryDigest(parts: (string | undefined)[]): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('base64url').slice(0, 12);
}

/**
 * Detects a cursor edited by hand or damaged in transit. It is not a secret: a cursor forged with a
 * valid checksum can only name a position in the client's own tenant and query, and the repository
 * still validates the key before binding it (store/resource-repo.ts).
 */
function checksum(p: Omit<Payload, 's'>): string {
  return createHash('sha256').update(JSON.stringify([p.v, p.dir, p.key, p.q, p.t])).digest('base64url').slice(0, 16);
}

export function encodeCursor(pos: CursorPosition, digest: string, nowMs: number): string {
  const body = { v: 2 as const, dir: pos.dir, key: pos.key, q: digest, t: Math.floor(nowMs / 1000) };
  const payload: Payload = { ...body, s: checksum(body) };
  return Buffer.from(JSON.stringify(payload)).toString('base64url');
}

export function decodeCursor(cursor: string, digest: string, nowMs: number, timeoutSeconds: number): CursorPosition {
  let p: Payload;
  try {
    if (!/^[A-Za-z0-9_-]+$/.test(cursor)) throw new Error('charset');
    const bytes = Buffer.from(cursor, 'base64url');
    // Node decodes leniently (ignored trailing bits): only the one encoding we issue is ours.
    if (bytes.toString('base64url') !== cursor) throw new Error('not canonical');
    p = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw invalidCursor('The cursor is not one this server issued; send an empty cursor for the first page');
  }
  const keyOk =
    Array.isArray(p?.key) && p.key.length === 2 && (p.key[0] === null || typeof p.key[0] === 'string') && typeof p.key[1] === 'string';
  if (
    p?.v !== 2 ||
    (p.dir !== 'next' && p.dir !== 'prev') ||
    !keyOk ||
    typeof p.t !== 'number' ||
    typeof p.q !== 'string' ||
    p.s !== checksum(p)
  ) {
    throw invalidCursor('The cursor is not one this server issued; send an empty cursor for the first page');
  }
  if (p.q !== digest) {
    throw invalidCursor('The cursor belongs to a different query; repeat the filter, sortBy and sortOrder of the first request');
  }
  if (nowMs / 1000 - p.t > timeoutSeconds) {
    throw expiredCursor(`The cursor has expired (cursors are valid for ${timeoutSeconds} seconds); start again with an empty cursor`);
  }
  return { dir: p.dir, key: p.key };
}
