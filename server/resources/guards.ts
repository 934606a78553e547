// Tenancy rules that hold on every write path (SCIM /Users, /Groups membership, /Bulk, the admin
// API), because every path goes through ResourceService, which calls these (issue 4, "Rules").
import type { Db } from '../store/scope';
import { forbidden } from '../errors';
import { Json } from '../scim/normalize';
import { ResourceRow } from '../store/resource-repo';
import { Actor } from './service';
import * as tenancy from '../store/tenancy-repo';

export const PRIMARY_ADMIN_DETAIL = "The tenant's primary admin can only be changed by the primary admin";

/** Deep equality of JSON values regardless of key order (jsonb returns keys in its own order). */
export function sameJson(a: Json | undefined, b: Json | undefined): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => sameJson(x, b[i]));
  }
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    return ka.length === kb.length && ka.every((k) => sameJson((a as Record<string, Json>)[k], (b as Record<string, Json>)[k]));
  }
  return false;
}

const isSelf = (actor: Actor, userId: string) => actor.type === 'user' && actor.id === userId;

/**
 * The primary admin may not be modified, deactivated or deleted by anyone else. A write that
 * changes nothing is allowed, so an IdP re-sending the admin's unchanged profile (Okta's PUT) works.
 */
export function assertMayWriteUser(existing: ResourceRow, actor: Actor, changed: boolean): void {
  if (existing.is_primary_admin === true && changed && !isSelf(actor, existing.id)) throw forbidden(PRIMARY_ADMIN_DETAIL);
}

/**
 * Nobody else may remove the primary admin from a group: checked before removing named members,
 * clearing the membership, or replacing it with a list that lacks the admin.
 */
export async function assertKeepsPrimaryAdmin(
  db: Db,
  tenantId: string,
  groupId: string,
  actor: Actor,
  change: { removed?: string[]; cleared?: boolean; kept?: string[] },
): Promise<void> {
  // Most membership changes only add: nothing to protect, no query (the common Entra PATCH).
  if (!change.cleared && !change.removed?.length) return;
  const adminId = await tenancy.primaryAdminId(db, tenantId);
  if (!adminId || isSelf(actor, adminId)) return;
  const named = change.removed?.includes(adminId);
  if (!named && !change.cleared) return;
  if (change.kept?.includes(adminId)) return;
  if (await tenancy.isUserMember(db, tenantId, groupId, adminId)) throw forbidden(`${PRIMARY_ADMIN_DETAIL}: it cannot be removed from groups`);
}
