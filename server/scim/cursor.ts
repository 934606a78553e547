// Opaque cursors for RFC 9865 paging. A cursor carries the keyset position (sort key and id of
// the row it continues from), its direction, a digest of the query it belongs to, and when it was
// issued. Encoded as base64url, which uses only RFC 3986 unreserved characters (RFC 9865 §2).
// Pure; test/unit/cursor.test.ts.
import { createHash } from 'node:crypto';
import { expiredCursor, invalidCursor } from '../errors';

export interface CursorPosition {
  /** 'next': rows after `key`; 'prev': rows before `key`. */
  dir: 'next' | 'prev';
  /** Sort key (as text; null when the row has no value) and row id. */
  key: [string | null, string];
}

interface Payload extends CursorPosition {
  v: 1;
  q: string;
  t: number;
}

/** A short digest of what makes two requests "the same query" (RFC 9865 §2: identical parameters). */
export function queryDigest(parts: (string | undefined)[]): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('base64url').slice(0, 12);
}

export function encodeCursor(pos: CursorPosition, digest: string, nowMs: number): string {
  const payload: Payload = { v: 1, dir: pos.dir, key: pos.key, q: digest, t: Math.floor(nowMs / 1000) };
  return Buffer.from(JSON.stringify(payload)).toString('base64url');
}

export function decodeCursor(cursor: string, digest: string, nowMs: number, timeoutSeconds: number): CursorPosition {
  let p: Payload;
  try {
    if (!/^[A-Za-z0-9_-]+$/.test(cursor)) throw new Error('charset');
    p = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalidCursor('The cursor is not one this server issued; send an empty cursor for the first page');
  }
  const keyOk =
    Array.isArray(p?.key) && p.key.length === 2 && (p.key[0] === null || typeof p.key[0] === 'string') && typeof p.key[1] === 'string';
  if (p?.v !== 1 || (p.dir !== 'next' && p.dir !== 'prev') || !keyOk || typeof p.t !== 'number' || typeof p.q !== 'string') {
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
