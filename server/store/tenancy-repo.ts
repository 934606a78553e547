// SQL of the tenancy rules (issue 4): tenant settings, sub-account checks, licence permissions,
// the price list that applies and the sub-account purge. Every function takes the tenant (the
// purge's cross-tenant "what is due" is the one exception, run as the schema owner).
import type { Sql } from './filter-sql';
import type { Db } from './scope';

import { PROVISIO_GROUP_URN as GROUP_EXT, PROVISIO_USER_URN as USER_EXT } from '../scim/urns';

export async function settings(db: Db, tenantId: string): Promise<Record<string, unknown>> {
  return (await db.raw('SELECT settings FROM tenants WHERE id = ?', [tenantId])).rows[0]?.settings ?? {};
}

/** Merges these keys into the tenant's settings; returns the whole settings. */
export async function mergeSettings(db: Db, tenantId: string, patch: Record<string, unknown>): Promise<Record<string, unknown>> {
  return (await db.raw('UPDATE tenants SET settings = settings || ?::jsonb WHERE id = ? RETURNING settings', [JSON.stringify(patch), tenantId])).rows[0].settings;
}

export async function groupKind(db: Db, tenantId: string, groupId: string): Promise<string | undefined> {
  return (await db.raw('SELECT kind FROM groups WHERE tenant_id = ? AND id = ?', [tenantId, groupId])).rows[0]?.kind;
}

/** True when `ancestorId` is `startId` or above it on the chain of sub-account parents. */
export async function parentChainReaches(db: Db, tenantId: string, startId: string, ancestorId: string): Promise<boolean> {
  const res = await db.raw(
    `WITH RECURSIVE up(id, depth) AS (
       SELECT ?::uuid, 0
       UNION
       SELECT (g.data -> ? ->> 'parent')::uuid, up.depth + 1 FROM groups g JOIN up ON g.id = up.id
        WHERE g.tenant_id = ? AND g.data -> ? ->> 'parent' IS NOT NULL AND up.depth < 100)
     SELECT 1 FROM up WHERE id = ? LIMIT 1`,
    [startId, GROUP_EXT, tenantId, GROUP_EXT, ancestorId],
  );
  return res.rows.length > 0;
}

export async function countUsers(db: Db, tenantId: string, ids: string[]): Promise<number> {
  return (await db.raw('SELECT count(*)::int AS n FROM users WHERE tenant_id = ? AND id = ANY(?::uuid[])', [tenantId, ids])).rows[0].n;
}

export async function countUserMembers(db: Db, tenantId: string, groupId: string, userIds: string[]): Promise<number> {
  return (
    await db.raw('SELECT count(*)::int AS n FROM group_user_members WHERE tenant_id = ? AND group_id = ? AND user_id = ANY(?::uuid[])', [tenantId, groupId, userIds])
  ).rows[0].n;
}

/**
 * The companies whose licences a person may manage, as a query (columns id, display_name,
 * display_name_ci; by name): every company for the tenant's primary admin, otherwise those they
 * are a member of. Each branch's condition is evaluated once (an uncorrelated EXISTS), so a member
 * is looked up from their memberships, not by scanning the tenant's companies.
 */
export function companiesQuery(tenantId: string, userId: string): Sql {
  const primary = 'EXISTS (SELECT 1 FROM users pa WHERE pa.tenant_id = ? AND pa.id = ? AND pa.is_primary_admin)';
  return {
    sql: `SELECT g.id, g.display_name, g.display_name_ci FROM groups g
           WHERE g.tenant_id = ? AND g.kind = 'company' AND ${primary}
          UNION ALL
          SELECT g.id, g.display_name, g.display_name_ci FROM group_user_members m JOIN groups g ON g.tenant_id = m.tenant_id AND g.id = m.group_id
           WHERE m.tenant_id = ? AND m.user_id = ? AND g.kind = 'company' AND NOT ${primary}
          ORDER BY display_name_ci, id`,
    bindings: [tenantId, tenantId, userId, tenantId, userId, tenantId, userId],
  };
}

/**
 * The price list that applies to a person, as a query of at most one row (id, name, source): the
 * one assigned to them (Provisio User extension `priceList`) when it exists, else the tenant's
 * default. No row when the tenant has no such user.
 */
export function priceListQuery(tenantId: string, userId: string): Sql {
  return {
    sql: `SELECT x.id, x.name, x.source FROM users u CROSS JOIN LATERAL (
            SELECT p.id, p.name, 'assigned' AS source, 0 AS rank FROM price_lists p
             WHERE p.tenant_id = u.tenant_id AND p.id::text = lower(u.data -> ? ->> 'priceList')
            UNION ALL
            SELECT p.id, p.name, 'default', 1 FROM price_lists p WHERE p.tenant_id = u.tenant_id AND p.is_default
            UNION ALL
            SELECT NULL, NULL, 'default', 2
            ORDER BY rank LIMIT 1) x
           WHERE u.tenant_id = ? AND u.id = ?`,
    bindings: [USER_EXT, tenantId, userId],
  };
}

export interface AppliedPriceList {
  /** Null only in a tenant without a default price list, which tenant creation never leaves. */
  id: string | null;
  name: string | null;
  source: 'assigned' | 'default';
}

/** The price list that applies to a person; undefined when the tenant has no such user. */
export async function priceListOf(db: Db, tenantId: string, userId: string): Promise<AppliedPriceList | undefined> {
  const q = priceListQuery(tenantId, userId);
  return (await db.raw(q.sql, q.bindings)).rows[0];
}

/** Sub-accounts deactivated at or before the cutoff, in every tenant (run as the schema owner). */
export async function dueForPurge(db: Db, cutoff: Date): Promise<{ tenant_id: string; id: string }[]> {
  return (await db.raw(`SELECT tenant_id, id FROM groups WHERE deactivated_at IS NOT NULL AND deactivated_at <= ? AND kind = 'subAccount' ORDER BY deactivated_at`, [cutoff])).rows;
}

export async function lockSubAccount(db: Db, tenantId: string, id: string): Promise<{ display_name: string; deactivated_at: Date | null } | undefined> {
  return (await db.raw('SELECT display_name, deactivated_at FROM groups WHERE tenant_id = ? AND id = ? FOR UPDATE', [tenantId, id])).rows[0];
}

/** Members of the group who belong to no other group — never the primary admin. */
export async function membersInNothingElse(db: Db, tenantId: string, groupId: string): Promise<string[]> {
  const res = await db.raw(
    `SELECT m.user_id FROM group_user_members m JOIN users u ON u.tenant_id = m.tenant_id AND u.id = m.user_id
      WHERE m.tenant_id = ? AND m.group_id = ? AND NOT u.is_primary_admin
        AND NOT EXISTS (SELECT 1 FROM group_user_members o WHERE o.tenant_id = m.tenant_id AND o.user_id = m.user_id AND o.group_id <> m.group_id)`,
    [tenantId, groupId],
  );
  return res.rows.map((r: { user_id: string }) => r.user_id);
}

/** Deletes a group and these users; the groups that contained the group change version. Returns those groups' ids. */
export async function purge(db: Db, tenantId: string, groupId: string, userIds: string[], now: Date): Promise<string[]> {
  const parents = await db.raw(`UPDATE groups SET version = version + 1, updated_at = ? WHERE tenant_id = ? AND id IN (SELECT group_id FROM group_group_members WHERE tenant_id = ? AND member_group_id = ?) RETURNING id`, [
    now,
    tenantId,
    tenantId,
    groupId,
  ]);
  await db.raw('DELETE FROM groups WHERE tenant_id = ? AND id = ?', [tenantId, groupId]);
  if (userIds.length) await db.raw('DELETE FROM users WHERE tenant_id = ? AND id = ANY(?::uuid[])', [tenantId, userIds]);
  return parents.rows.map((r: { id: string }) => r.id);
}

/** The tenant's primary admin's id. */
export async function primaryAdminId(db: Db, tenantId: string): Promise<string | undefined> {
  return (await db.raw('SELECT id FROM users WHERE tenant_id = ? AND is_primary_admin LIMIT 1', [tenantId])).rows[0]?.id;
}

/** Which of these users are direct members of the group. */
export async function userMembersAmong(db: Db, tenantId: string, groupId: string, userIds: string[]): Promise<Set<string>> {
  if (!userIds.length) return new Set();
  const res = await db.raw('SELECT user_id FROM group_user_members WHERE tenant_id = ? AND group_id = ? AND user_id = ANY(?::uuid[])', [tenantId, groupId, userIds]);
  return new Set(res.rows.map((r: { user_id: string }) => r.user_id));
}

/** Whether the user is a direct member of the group. */
export async function isUserMember(db: Db, tenantId: string, groupId: string, userId: string): Promise<boolean> {
  return (await db.raw('SELECT 1 FROM group_user_members WHERE tenant_id = ? AND group_id = ? AND user_id = ?', [tenantId, groupId, userId])).rows.length > 0;
}

/**
 * Whether deactivated sub-accounts keep this user from signing in (issue 4): true when the user
 * belongs to at least one sub-account and none of them is active — a sub-account counts as active
 * only if it and every sub-account above it are. The sign-in flow (issue 5) asks this.
 */
export async function blockedBySubAccounts(db: Db, tenantId: string, userId: string): Promise<boolean> {
  const res = await db.raw(
    `WITH RECURSIVE mine AS (
       SELECT g.id FROM groups g JOIN group_user_members m ON m.tenant_id = g.tenant_id AND m.group_id = g.id
        WHERE g.tenant_id = ? AND m.user_id = ? AND g.kind = 'subAccount'),
     chain(start, id, depth) AS (
       SELECT id, id, 0 FROM mine
       UNION
       SELECT c.start, (g.data -> ? ->> 'parent')::uuid, c.depth + 1 FROM chain c JOIN groups g ON g.tenant_id = ? AND g.id = c.id
        WHERE g.data -> ? ->> 'parent' IS NOT NULL AND c.depth < 100)
     SELECT count(DISTINCT c.start)::int AS accounts,
            count(DISTINCT c.start) FILTER (WHERE g.deactivated_at IS NOT NULL)::int AS inactive
       FROM chain c JOIN groups g ON g.tenant_id = ? AND g.id = c.id`,
    [tenantId, userId, GROUP_EXT, tenantId, GROUP_EXT, tenantId],
  );
  const { accounts, inactive } = res.rows[0];
  return accounts > 0 && inactive === accounts;
}
