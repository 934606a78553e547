// The authority rule, in one place that every write path calls — SCIM /Users and /Groups, /Bulk
// (all through resources/service.ts), the admin API and the console (accounts/admin-access.ts):
//
// 1. Nobody but the primary admin changes, deletes, resets or forces out the primary admin, or
//    removes them from a group (issue 4).
// 2. A credential bound to a sub-account changes only people it fully administers: every group
//    they belong to lies inside its subtree, and they administer no sub-account outside it (above
//    or beside). Others stay readable to it, but every change is 403 (issue 9, point 1).
// 3. A sub-account is switched on or off, deleted, moved or given admins and limits only by an
//    admin credential of the account above it: a tenant-wide admin credential, or one bound to a
//    sub-account strictly above. Never by its own credentials, nor by a scim-only token (point 4).
// 4. A reset or activation link proves an address only when a credential with authority over the
//    person set it (point 2).
// 5. Agents and agentic applications (draft-abbey-scim-agent-extension-00) are the tenant's, not a
//    sub-account's: only a tenant-wide credential (an IdP's scim token, an admin's) creates,
//    changes or deletes them. A credential bound to a sub-account gets 403 on a create and does
//    not see them at all (404, empty lists: store/visibility.ts's rule, kinds.ts subAccounts
//    'none'). The draft ties an agent to owners, but an owner is accountable for the agent, not
//    the administrator of the agent's identity; docs/scim-support.md says why.
// The SQL lives in store/authority-repo.ts. Proven by test/api/authority.test.ts.
import { forbidden } from '../errors';
import { isObject, JsonObject, sameJson } from '../scim/normalize';
import { PROVISIO_GROUP_URN } from '../scim/urns';
import * as repo from '../store/authority-repo';
import * as tenancy from '../store/tenancy-repo';
import type { ResourceRow } from '../store/resource-repo';
import type { Db } from '../store/scope';
import { Actor, isSelf } from './actor';

export const PRIMARY_ADMIN_DETAIL = "The tenant's primary admin can only be changed by the primary admin";

const notAdministered = (subAccountId: string) =>
  forbidden(
    `This person also belongs to, or administers, accounts outside sub-account ${subAccountId}: only a credential that administers all of them can change them`,
  );

/**
 * Refuses (403) unless the actor may change every one of these people. `primaryAdmin` says which
 * of them is the primary admin, when the caller has read it already.
 */
export async function assertMayChangePeople(
  trx: Db,
  tenantId: string,
  actor: Actor,
  people: { id: string; primaryAdmin: boolean }[],
  what = 'changed',
): Promise<void> {
  if (people.some((p) => p.primaryAdmin && !isSelf(actor, p.id))) throw forbidden(`${PRIMARY_ADMIN_DETAIL}: it cannot be ${what} by anyone else`);
  const sub = actor.subAccountId;
  if (!sub || !people.length) return;
  const outside = await repo.notFullyAdministered(trx, tenantId, sub, people.map((p) => p.id));
  if (outside.length) throw notAdministered(sub);
}

/**
 * A write to a user: the primary admin rule and, for a sub-account's credential, full
 * administration. A write that changes nothing is allowed (an IdP re-sending an unchanged
 * profile, Okta's PUT), so is a change the person makes to themselves.
 */
export async function assertMayChangeUser(trx: Db, tenantId: string, actor: Actor, existing: ResourceRow, changed: boolean, deleting = false): Promise<void> {
  // A tenant always has its primary admin: nobody deletes them, not even their own session
  // (DELETE and POST /users/delete; test/api/primary-admin.test.ts).
  if (deleting && existing.is_primary_admin === true) throw forbidden("The tenant's primary admin cannot be deleted, not even by the primary admin");
  if (!changed || isSelf(actor, existing.id)) return;
  await assertMayChangePeople(trx, tenantId, actor, [{ id: existing.id, primaryAdmin: existing.is_primary_admin === true }]);
}

/**
 * A change to a group's user members: nobody else may remove the primary admin (checked when
 * members are removed, cleared or replaced by a list without them), and a sub-account's
 * credential may add or remove only people it fully administers.
 */
export async function assertMayChangeMembers(
  trx: Db,
  tenantId: string,
  actor: Actor,
  groupId: string,
  change: { added?: string[]; removed?: string[]; cleared?: boolean; kept?: string[] },
): Promise<void> {
  // Most membership changes only add: nothing to protect, no query (the common Entra PATCH).
  if (change.cleared || change.removed?.length) {
    const adminId = await tenancy.primaryAdminId(trx, tenantId);
    if (adminId && !isSelf(actor, adminId) && (change.removed?.includes(adminId) || change.cleared) && !change.kept?.includes(adminId)) {
      if (await tenancy.isUserMember(trx, tenantId, groupId, adminId)) throw forbidden(`${PRIMARY_ADMIN_DETAIL}: it cannot be removed from groups`);
    }
  }
  const sub = actor.subAccountId;
  if (!sub) return;
  // Only real changes count: adding a member already there, or removing one who is not, changes
  // nobody (an IdP re-sending a membership it already pushed).
  const named = [...new Set([...(change.added ?? []), ...(change.removed ?? [])])];
  if (named.length) {
    const current = await tenancy.userMembersAmong(trx, tenantId, groupId, named);
    const changing = [...new Set([...(change.added ?? []).filter((id) => !current.has(id)), ...(change.removed ?? []).filter((id) => current.has(id))])];
    if (changing.length && (await repo.notFullyAdministered(trx, tenantId, sub, changing)).length) throw notAdministered(sub);
  }
  // A membership cleared or replaced as a whole removes everyone not kept.
  if (change.cleared && (await repo.membersNotFullyAdministered(trx, tenantId, sub, groupId, change.kept ?? [], 1)).length) throw notAdministered(sub);
}

/** Point 5: a tenant-wide type (agents) is created, changed and deleted by tenant-wide credentials only. */
export function assertMayChangeTenantWide(actor: Actor, typeName: string): void {
  if (actor.subAccountId) throw forbidden(`${typeName} resources belong to the whole tenant: only a tenant-wide credential creates, changes or deletes them`);
}

/** The sub-account attributes that belong to the account above (point 4). */
const OWNED_ABOVE = ['active', 'parent', 'admins', 'dailyLimit', 'monthlyLimit'];

const groupExt = (data: unknown): JsonObject => (isObject(data) && isObject((data as JsonObject)[PROVISIO_GROUP_URN]) ? ((data as JsonObject)[PROVISIO_GROUP_URN] as JsonObject) : {});

/**
 * A write to a group that is a sub-account: switching it on or off (`active`), moving it
 * (`parent`), its `admins` and limits, and deleting it (`next` undefined) are for an admin
 * credential of the account above. Its name and members stay with whoever may see it.
 */
export async function assertMayChangeSubAccount(trx: Db, tenantId: string, actor: Actor, existing: ResourceRow, next: JsonObject | undefined): Promise<void> {
  if (existing.kind !== 'subAccount') return;
  const before = groupExt(existing.data);
  const after = next ? groupExt(next) : undefined;
  const touched = after ? OWNED_ABOVE.filter((a) => !sameJson(before[a], after[a])) : ['the sub-account itself (delete)'];
  if (!touched.length) return;
  const switching = !after || touched.includes('active');
  if (switching && !actor.admin) {
    throw forbidden('Only an admin credential switches a sub-account on or off or deletes it: this token has only the "scim" scope');
  }
  const sub = actor.subAccountId;
  if (!sub) return;
  if (!(await repo.isStrictlyAbove(trx, tenantId, sub, existing.id))) {
    throw forbidden(`${touched.join(', ')} of sub-account ${existing.id} can only be changed by an admin of the account above it`);
  }
}

/**
 * Which of these sub-accounts the actor may switch on or off, delete, or give admins and limits
 * (point 3) — asked by pages so they offer those actions only to whom they are for (the console's
 * Departments page). The same test as assertMayChangeSubAccount: an admin credential, tenant-wide
 * or bound to a sub-account strictly above (by `parent`; a sub-account a bound credential sees
 * only because it is nested as a member is not below it in that sense). One query per id for a
 * bound credential, none for a tenant-wide one. test/api/sub-accounts-api.test.ts
 */
export async function subAccountsActorMayChange(trx: Db, tenantId: string, actor: Actor, ids: string[]): Promise<Set<string>> {
  if (!actor.admin) return new Set();
  const sub = actor.subAccountId;
  if (!sub) return new Set(ids);
  const out = new Set<string>();
  for (const id of ids) if (await repo.isStrictlyAbove(trx, tenantId, sub, id)) out.add(id);
  return out;
}

/**
 * Whether an API token still has what empowered it (point 3): a token bound to a sub-account
 * works only while that sub-account and every one above it are active; a token a person created
 * with their session works only while that person could create it now — active and still an
 * admin of what the token is bound to (the tenant, or its sub-account). Checked when the token is
 * looked up (tenancy/authenticator.ts), so every way of losing the right (deactivation of the
 * person or of a sub-account above, removal from the admins, deletion) stops the token without a
 * hook on each of them. docs/tenancy.md explains the choice.
 */
export async function tokenStillEmpowered(trx: Db, token: { tenant_id: string; sub_account_id: string | null; created_by_user_id: string | null }): Promise<boolean> {
  const { tenant_id: tenantId, sub_account_id: sub, created_by_user_id: creator } = token;
  if (sub && !(await repo.subAccountChainActive(trx, tenantId, sub))) return false;
  if (!creator) return true;
  if (!(await repo.isActiveUser(trx, tenantId, creator))) return false;
  return sub ? repo.isSubAccountAdmin(trx, tenantId, creator, sub) : repo.isActiveTenantAdmin(trx, tenantId, creator);
}

/**
 * Whether a committed write may have taken from a token what empowered it: a person deleted,
 * switched off or no longer an admin, a sub-account deleted, switched off, moved, or given other admins. The instance
 * that made the write forgets its cached token lookups (tenancy/authenticator.ts), so the change
 * holds there at once and on other instances within the cache's few seconds.
 */
export function changesWhoIsEmpowered(before: ResourceRow | undefined, after: ResourceRow | undefined): boolean {
  if (!before) return false;
  const isGroup = before.kind !== undefined;
  if (isGroup && before.kind !== 'subAccount') return false;
  if (!after) return true;
  if (!isGroup) return before.active !== after.active || before.role !== after.role;
  const [b, a] = [groupExt(before.data), groupExt(after.data)];
  return String(before.deactivated_at ?? '') !== String(after.deactivated_at ?? '') || !sameJson(b.admins, a.admins) || !sameJson(b.parent, a.parent);
}

/**
 * Whether a link sent to the person's current sign-in email may prove that address (point 2):
 * yes when it is already proven, or when the credential that set it still fully administers the
 * person — a tenant-wide one always does; a sub-account's only while it is active and the person
 * is wholly inside it.
 */
export async function mayProveAddress(trx: Db, tenantId: string, person: { userId: string; email?: string; verifiedEmail: string | null; emailSetBySubAccount: string | null }): Promise<boolean> {
  if (!person.email) return false;
  if (person.verifiedEmail === person.email) return true;
  const setter = person.emailSetBySubAccount;
  if (!setter) return true;
  if (!(await repo.subAccountChainActive(trx, tenantId, setter))) return false;
  return (await repo.notFullyAdministered(trx, tenantId, setter, [person.userId])).length === 0;
}

