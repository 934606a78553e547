// SQL of the authority rule (resources/authority.ts, docs/tenancy.md "Who may change whom"): which
// people a sub-account's credentials fully administer, whether a sub-account and every one above
// it are active, and who administers a sub-account. Every statement filters on the tenant.
import { PROVISIO_GROUP_URN as GROUP_EXT } from '../scim/urns';
import type { Sql } from './filter-sql';
import type { Db } from './scope';
import { subtreeSql } from './visibility';

/** At most this many levels of sub-account parents are followed (cycles are refused on write). */
const MAX_DEPTH = 100;

/**
 * Of these users, those the credential bound to `subAccountId` does NOT fully administer: the
 * primary admin and every tenant admin (role `admin`: they administer the whole tenant, above
 * every sub-account); anyone who is a member of a group outside the sub-account's subtree; anyone
 * listed as an admin of a sub-account outside it (above or beside). test/api/authority.test.ts
 */
export async function notFullyAdministered(db: Db, tenantId: string, subAccountId: string, userIds: string[]): Promise<string[]> {
  if (!userIds.length) return [];
  const tree = subtreeSql(tenantId, subAccountId);
  const res = await db.raw(
    `WITH inside AS (${tree.sql})
     SELECT u.id FROM users u
      WHERE u.tenant_id = ? AND u.id = ANY(?::uuid[]) AND (
        u.is_primary_admin OR u.role = 'admin'
        OR EXISTS (SELECT 1 FROM group_user_members m WHERE m.tenant_id = u.tenant_id AND m.user_id = u.id AND m.group_id NOT IN (SELECT id FROM inside))
        OR EXISTS (SELECT 1 FROM groups g WHERE g.tenant_id = u.tenant_id AND g.kind = 'subAccount' AND g.id NOT IN (SELECT id FROM inside)
                     AND (g.data -> ? -> 'admins') @> jsonb_build_array(jsonb_build_object('value', u.id::text))))`,
    [...tree.bindings, tenantId, userIds, GROUP_EXT],
  );
  return res.rows.map((r: { id: string }) => r.id);
}

/**
 * User members of a group, other than `except`, that the credential bound to `subAccountId` does
 * not fully administer (for a membership cleared or replaced as a whole); at most `limit`.
 */
export async function membersNotFullyAdministered(db: Db, tenantId: string, subAccountId: string, groupId: string, except: string[], limit = 10): Promise<string[]> {
  const tree = subtreeSql(tenantId, subAccountId);
  const res = await db.raw(
    `WITH inside AS (${tree.sql})
     SELECT u.id FROM group_user_members gm JOIN users u ON u.tenant_id = gm.tenant_id AND u.id = gm.user_id
      WHERE gm.tenant_id = ? AND gm.group_id = ? AND NOT (gm.user_id = ANY(?::uuid[])) AND (
        u.is_primary_admin OR u.role = 'admin'
        OR EXISTS (SELECT 1 FROM group_user_members m WHERE m.tenant_id = u.tenant_id AND m.user_id = u.id AND m.group_id NOT IN (SELECT id FROM inside))
        OR EXISTS (SELECT 1 FROM groups g WHERE g.tenant_id = u.tenant_id AND g.kind = 'subAccount' AND g.id NOT IN (SELECT id FROM inside)
                     AND (g.data -> ? -> 'admins') @> jsonb_build_array(jsonb_build_object('value', u.id::text))))
      LIMIT ${Math.max(1, Math.floor(limit))}`,
    [...tree.bindings, tenantId, groupId, except, GROUP_EXT],
  );
  return res.rows.map((r: { id: string }) => r.id);
}

/**
 * True when the sub-account exists and it and every sub-account above it are active: what a
 * sub-account's tokens and admins need to act (issue 9, point 3).
 */
export async function subAccountChainActive(db: Db, tenantId: string, subAccountId: string): Promise<boolean> {
  const res = await db.raw(
    `WITH RECURSIVE up(id, depth) AS (
       SELECT ?::uuid, 0
       UNION
       SELECT (g.data -> ? ->> 'parent')::uuid, up.depth + 1 FROM groups g JOIN up ON g.tenant_id = ? AND g.id = up.id
        WHERE g.data -> ? ->> 'parent' IS NOT NULL AND up.depth < ${MAX_DEPTH})
     SELECT count(*)::int AS levels,
            count(*) FILTER (WHERE g.id IS NOT NULL AND g.kind = 'subAccount' AND g.deactivated_at IS NULL)::int AS active
       FROM up LEFT JOIN groups g ON g.tenant_id = ? AND g.id = up.id`,
    [subAccountId, GROUP_EXT, tenantId, GROUP_EXT, tenantId],
  );
  const { levels, active } = res.rows[0];
  return levels > 0 && levels === active;
}

/** Whether `ancestorId` is strictly above `subAccountId` on the chain of parents. */
export async function isStrictlyAbove(db: Db, tenantId: string, ancestorId: string, subAccountId: string): Promise<boolean> {
  if (ancestorId === subAccountId) return false;
  const res = await db.raw(
    `WITH RECURSIVE up(id, depth) AS (
       SELECT (g.data -> ? ->> 'parent')::uuid, 1 FROM groups g WHERE g.tenant_id = ? AND g.id = ? AND g.data -> ? ->> 'parent' IS NOT NULL
       UNION
       SELECT (g.data -> ? ->> 'parent')::uuid, up.depth + 1 FROM groups g JOIN up ON g.tenant_id = ? AND g.id = up.id
        WHERE g.data -> ? ->> 'parent' IS NOT NULL AND up.depth < ${MAX_DEPTH})
     SELECT 1 FROM up WHERE id = ? LIMIT 1`,
    [GROUP_EXT, tenantId, subAccountId, GROUP_EXT, GROUP_EXT, tenantId, GROUP_EXT, ancestorId],
  );
  return res.rows.length > 0;
}

/** Whether the user exists, is active, and is a tenant admin (role `admin`; the primary admin always is). */
export async function isActiveTenantAdmin(db: Db, tenantId: string, userId: string): Promise<boolean> {
  const res = await db.raw(`SELECT 1 FROM users WHERE tenant_id = ? AND id = ? AND active AND (role = 'admin' OR is_primary_admin)`, [tenantId, userId]);
  return res.rows.length > 0;
}

/** Whether the user exists and is active. */
export async function isActiveUser(db: Db, tenantId: string, userId: string): Promise<boolean> {
  return (await db.raw('SELECT 1 FROM users WHERE tenant_id = ? AND id = ? AND active', [tenantId, userId])).rows.length > 0;
}

/** Whether the user is listed among the sub-account's admins (who are always its members). */
export async function isSubAccountAdmin(db: Db, tenantId: string, userId: string, subAccountId: string): Promise<boolean> {
  const res = await db.raw(
    `SELECT 1 FROM groups g JOIN group_user_members m ON m.tenant_id = g.tenant_id AND m.group_id = g.id AND m.user_id = ?
      WHERE g.tenant_id = ? AND g.id = ? AND g.kind = 'subAccount' AND (g.data -> ? -> 'admins') @> jsonb_build_array(jsonb_build_object('value', ?::text))`,
    [userId, tenantId, subAccountId, GROUP_EXT, userId],
  );
  return res.rows.length > 0;
}

/**
 * The sub-accounts a person belongs to that are active with every sub-account above them, as a
 * query (columns id, display_name, display_name_ci, admin — whether the person is listed among
 * their admins —, daily_limit, monthly_limit; by name): one home for the rule, run alone here and
 * inside the one-statement permissions answer (store/permissions-repo.ts).
 */
export function activeSubAccountsQuery(tenantId: string, userId: string): Sql {
  return {
    sql: `WITH RECURSIVE mine AS (
       SELECT g.id, g.display_name, g.display_name_ci,
              (g.data -> ? -> 'admins') @> jsonb_build_array(jsonb_build_object('value', ?::text)) AS admin,
              (g.data -> ? ->> 'dailyLimit')::numeric AS daily_limit, (g.data -> ? ->> 'monthlyLimit')::numeric AS monthly_limit
         FROM group_user_members m JOIN groups g ON g.tenant_id = m.tenant_id AND g.id = m.group_id
        WHERE m.tenant_id = ? AND m.user_id = ? AND g.kind = 'subAccount'),
     chain(start, id, depth) AS (
       SELECT id, id, 0 FROM mine
       UNION
       SELECT c.start, (g.data -> ? ->> 'parent')::uuid, c.depth + 1 FROM chain c JOIN groups g ON g.tenant_id = ? AND g.id = c.id
        WHERE g.data -> ? ->> 'parent' IS NOT NULL AND c.depth < ${MAX_DEPTH})
     SELECT mine.id, mine.display_name, mine.display_name_ci, mine.admin, mine.daily_limit, mine.monthly_limit FROM mine
      WHERE NOT EXISTS (SELECT 1 FROM chain c LEFT JOIN groups g ON g.tenant_id = ? AND g.id = c.id
                         WHERE c.start = mine.id AND (g.id IS NULL OR g.deactivated_at IS NOT NULL))
      ORDER BY mine.display_name_ci, mine.id`,
    bindings: [GROUP_EXT, userId, GROUP_EXT, GROUP_EXT, tenantId, userId, GROUP_EXT, tenantId, GROUP_EXT, tenantId],
  };
}

export interface ActiveSubAccount {
  id: string;
  name: string;
  admin: boolean;
  dailyLimit: number | null;
  monthlyLimit: number | null;
}

/** One row of activeSubAccountsQuery, as read from pg or from jsonb. */
export function activeSubAccountFrom(r: { id: string; display_name: string; admin: boolean | null; daily_limit: unknown; monthly_limit: unknown }): ActiveSubAccount {
  const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
  return { id: r.id, name: r.display_name, admin: r.admin === true, dailyLimit: num(r.daily_limit), monthlyLimit: num(r.monthly_limit) };
}

export async function activeSubAccountsOf(db: Db, tenantId: string, userId: string): Promise<ActiveSubAccount[]> {
  const q = activeSubAccountsQuery(tenantId, userId);
  return (await db.raw(q.sql, q.bindings)).rows.map(activeSubAccountFrom);
}
