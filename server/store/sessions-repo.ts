// Sessions rows (migrations/0007_front_door.ts). Ending a person's sessions runs in their
// tenant's transaction; the session store's own lookups by id hash are in front-door/session-store.ts.
import type { Db } from './scope';

/** Ends every session of these people (but the one with this id hash), in the caller's tenant transaction. Returns how many. */
export async function endSessions(db: Db, tenantId: string, userIds: string[], exceptSidHash?: string): Promise<number> {
  if (!userIds.length) return 0;
  const res = exceptSidHash
    ? await db.raw('DELETE FROM sessions WHERE tenant_id = ? AND user_id = ANY(?::uuid[]) AND sid_hash <> ?', [tenantId, userIds, exceptSidHash])
    : await db.raw('DELETE FROM sessions WHERE tenant_id = ? AND user_id = ANY(?::uuid[])', [tenantId, userIds]);
  return res.rowCount ?? 0;
}
