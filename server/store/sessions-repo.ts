// SQL of the `sessions` table (migration 0007): the express-session store of the front door
// (front-door/session-store.ts) and ending people's sessions (force logout, reset, deactivation).
// The cookie's session id is a bearer secret: callers pass the id, and only its SHA-256 reaches
// the table (test/api/front-door.test.ts, "the stored id is hashed").
//
// A row naming a person is created in one place only, `create`, which the sign-in step calls
// after it regenerated the session id. `save` and `touch` change a row that still exists and
// never bring back one that was deleted: a session ended (force logout, password reset,
// deactivation) while one of its requests was in flight stays ended (issue 9, point 10;
// test/api/front-door.test.ts, "an ended session is not brought back by a request in flight").
//
// Lookups by id hash are global — the id names the session, the tenant is not known yet — and
// run as the schema owner; they carry the `cross-tenant` mark. Everything that knows the tenant
// filters on it.
import { hashToken } from '../secrets';
import type { Db } from './scope';

export interface SessionRow {
  data: unknown;
}

/** The live session with this id, if any. */
export async function find(db: Db, sid: string, now: Date): Promise<SessionRow | undefined> {
  return (await db.raw('/* cross-tenant: a session is found by its id before its tenant is known */ SELECT data FROM sessions WHERE sid_hash = ? AND expires_at > ?', [hashToken(sid), now])).rows[0];
}

/** Starts a signed-in person's session: the only statement that creates a row naming a person. */
export async function create(db: Db, tenantId: string, userId: string, sid: string, data: unknown, now: Date, expiresAt: Date): Promise<void> {
  await db.raw('INSERT INTO sessions (sid_hash, tenant_id, user_id, data, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)', [hashToken(sid), tenantId, userId, JSON.stringify(data), now, expiresAt]);
}

/**
 * Saves a signed-in person's session: only the live row of that person changes. Returns false
 * when there is none (ended meanwhile, or expired), and then nothing is written.
 */
export async function save(db: Db, tenantId: string, userId: string, sid: string, data: unknown, now: Date, expiresAt: Date): Promise<boolean> {
  const res = await db.raw('UPDATE sessions SET data = ?, expires_at = ? WHERE tenant_id = ? AND user_id = ? AND sid_hash = ? AND expires_at > ?', [JSON.stringify(data), expiresAt, tenantId, userId, hashToken(sid), now]);
  return (res.rowCount ?? 0) > 0;
}

/**
 * Saves a session that names nobody (an SSO sign-in in progress keeps its OIDC state there). It
 * may create its row, but never overwrites a signed-in person's row: an anonymous save cannot
 * turn into, or replace, someone's session.
 */
export async function saveAnonymous(db: Db, sid: string, data: unknown, now: Date, expiresAt: Date): Promise<void> {
  await db.raw(
    `/* cross-tenant: a session that names nobody has no tenant */
     INSERT INTO sessions (sid_hash, tenant_id, user_id, data, created_at, expires_at) VALUES (?, NULL, NULL, ?, ?, ?)
     ON CONFLICT (sid_hash) DO UPDATE SET data = EXCLUDED.data, expires_at = EXCLUDED.expires_at WHERE sessions.user_id IS NULL AND sessions.expires_at > ?`,
    [hashToken(sid), JSON.stringify(data), now, expiresAt, now],
  );
}

/** Moves a live session's idle deadline; an ended or expired one stays ended. */
export async function touch(db: Db, sid: string, now: Date, expiresAt: Date): Promise<void> {
  await db.raw('/* cross-tenant: a session is kept alive by its id, whoever it belongs to */ UPDATE sessions SET expires_at = ? WHERE sid_hash = ? AND expires_at > ?', [expiresAt, hashToken(sid), now]);
}

/** Deletes one session by its id (sign-out, a new id at sign-in, the absolute timeout). */
export async function destroy(db: Db, sid: string): Promise<void> {
  await db.raw('/* cross-tenant: a session is ended by its id, whoever it belongs to */ DELETE FROM sessions WHERE sid_hash = ?', [hashToken(sid)]);
}

/** Deletes every session past its deadline, in every tenant (the hourly purge). Returns how many. */
export async function purgeExpired(db: Db, now: Date): Promise<number> {
  const res = await db.raw('/* cross-tenant: the hourly purge clears expired sessions of every tenant at once */ DELETE FROM sessions WHERE expires_at <= ?', [now]);
  return res.rowCount ?? 0;
}

/**
 * Ends every session of these people (force logout, reset, deactivation, deletion), in the
 * caller's tenant transaction; `exceptSid` keeps one (a password change keeps the session it
 * was made in). Returns how many ended.
 */
export async function endSessions(db: Db, tenantId: string, userIds: string[], exceptSid?: string): Promise<number> {
  if (!userIds.length) return 0;
  const res = exceptSid
    ? await db.raw('DELETE FROM sessions WHERE tenant_id = ? AND user_id = ANY(?::uuid[]) AND sid_hash <> ?', [tenantId, userIds, hashToken(exceptSid)])
    : await db.raw('DELETE FROM sessions WHERE tenant_id = ? AND user_id = ANY(?::uuid[])', [tenantId, userIds]);
  return res.rowCount ?? 0;
}
