// encodeCursor / decodeCursor / queryDigest (server/scim/cursor.ts): opaque RFC 9865 cursors.
import { CursorPosition, decodeCursor, encodeCursor, queryDigest } from '../../server/scim/cursor';
import { expectScimError } from './helpers';

const NOW = Date.UTC(2025, 0, 15, 12, 0, 0);
const TIMEOUT = 3600;
const DIGEST = queryDigest(['User', 'userName sw "a"', 'username', 'ascending']);
const ID = '0190f3a2-7b1c-7d4e-8f00-123456789abc';

describe('round trip', () => {
  it.each<[string, CursorPosition]>([
    ['next, sorted by a text key', { dir: 'next', key: ['alice@example.com', ID] }],
    ['prev', { dir: 'prev', key: ['bob', ID] }],
    ['a row with no sort value (null key)', { dir: 'next', key: [null, ID] }],
    ['no sortBy: only the id matters', { dir: 'next', key: [null, ID] }],
    ['sort key with quotes, unicode and "%"', { dir: 'next', key: ['Zoë "Z" 100%', ID] }],
    ['a timestamptz key as PostgreSQL prints it', { dir: 'prev', key: ['2025-01-15 12:00:00.123+00', ID] }],
  ])('%s', (_note, pos) => {
    const c = encodeCursor(pos, DIGEST, NOW);
    expect(decodeCursor(c, DIGEST, NOW, TIMEOUT)).toEqual(pos);
  });

  it('a cursor is accepted until the timeout', () => {
    const c = encodeCursor({ dir: 'next', key: ['a', ID] }, DIGEST, NOW);
    expect(decodeCursor(c, DIGEST, NOW + TIMEOUT * 1000, TIMEOUT)).toEqual({ dir: 'next', key: ['a', ID] });
  });
});

describe('only RFC 3986 unreserved characters (RFC 9865 §2: usable in a URL as is)', () => {
  it.each<[string, CursorPosition]>([
    ['plain', { dir: 'next', key: ['a', ID] }],
    ['key bytes that base64 would encode as + and /', { dir: 'next', key: ['\u00fb\u00ff\u00fe>>>???', ID] }],
    ['long key', { dir: 'prev', key: ['x'.repeat(500), ID] }],
  ])('%s', (_note, pos) => {
    const c = encodeCursor(pos, DIGEST, NOW);
    expect(c).toMatch(/^[A-Za-z0-9._~-]+$/);
    expect(encodeURIComponent(c)).toBe(c);
  });
});

describe('rejected cursors (RFC 9865 §2.1)', () => {
  const good = encodeCursor({ dir: 'next', key: ['alice', ID] }, DIGEST, NOW);
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');

  it.each<[string, string]>([
    ['not base64url at all', 'not a cursor!'],
    ['empty after trimming nothing', '='],
    ['base64 with padding and "+"', good + '=='],
    ['base64url of non-JSON', Buffer.from('hello').toString('base64url')],
    ['JSON null', b64(null)],
    ['JSON of another shape', b64({ page: 2 })],
    ['truncated', good.slice(0, -3)],
    ['extended', good + 'AA'],
  ])('%s → invalidCursor', (_note, cursor) => {
    expectScimError(() => decodeCursor(cursor, DIGEST, NOW, TIMEOUT), 400, 'invalidCursor');
  });

  it('a cursor re-encoded with another position is invalidCursor (hand-edited)', () => {
    const payload = JSON.parse(Buffer.from(good, 'base64url').toString('utf8'));
    expect(payload.key).toEqual(['alice', ID]); // the position is inside, so it can be edited
    const edited = b64({ ...payload, key: ['bob', ID] });
    expectScimError(() => decodeCursor(edited, DIGEST, NOW, TIMEOUT), 400, 'invalidCursor');
    const renewed = b64({ ...payload, t: payload.t + 10000 }); // trying to extend its life
    expectScimError(() => decodeCursor(renewed, DIGEST, NOW, TIMEOUT), 400, 'invalidCursor');
    expect(decodeCursor(b64(payload), DIGEST, NOW, TIMEOUT)).toEqual({ dir: 'next', key: ['alice', ID] });
  });

  it('every single-character change is invalidCursor (tampered or corrupted)', () => {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    let tried = 0;
    for (let i = 0; i < good.length; i++) {
      for (const ch of [alphabet[(alphabet.indexOf(good[i]) + 1) % 64], alphabet[(alphabet.indexOf(good[i]) + 37) % 64]]) {
        const tampered = good.slice(0, i) + ch + good.slice(i + 1);
        expectScimError(() => decodeCursor(tampered, DIGEST, NOW, TIMEOUT), 400, 'invalidCursor');
        tried++;
      }
    }
    expect(tried).toBe(good.length * 2);
  });

  it('a cursor of another query (other filter, sortBy or sortOrder) is invalidCursor', () => {
    const other = queryDigest(['User', 'userName sw "b"', 'username', 'ascending']);
    const e = expectScimError(() => decodeCursor(good, other, NOW, TIMEOUT), 400, 'invalidCursor');
    expect(e.message).toMatch(/different query/);
  });

  it('an old cursor is expiredCursor', () => {
    expectScimError(() => decodeCursor(good, DIGEST, NOW + (TIMEOUT + 1) * 1000, TIMEOUT), 400, 'expiredCursor');
  });
});

describe('queryDigest', () => {
  it.each<[string, (string | undefined)[], (string | undefined)[], boolean]>([
    ['same parts, same digest', ['User', 'a pr', undefined, 'ascending'], ['User', 'a pr', undefined, 'ascending'], true],
    ['other filter', ['User', 'a pr', undefined, 'ascending'], ['User', 'b pr', undefined, 'ascending'], false],
    ['other order', ['User', 'a pr', 'username', 'ascending'], ['User', 'a pr', 'username', 'descending'], false],
    ['other resource type', ['User', undefined, undefined, 'ascending'], ['Group', undefined, undefined, 'ascending'], false],
    ['parts are not simply concatenated', ['User', 'ab', 'c'], ['User', 'a', 'bc'], false],
  ])('%s', (_note, a, b, same) => {
    expect(queryDigest(a) === queryDigest(b)).toBe(same);
  });

  it('is short and unreserved', () => {
    expect(DIGEST).toMatch(/^[A-Za-z0-9_-]{12}$/);
  });
});
