// What a credential bound to a sub-account may see (issue 4, "Credentials and scopes"): the
// sub-account's subtree — the sub-account, the sub-accounts below it (by `parent`) and the groups
// nested in any of them — and the users who are members of a group of that subtree. Everything
// else is invisible: 404 as if absent, never counted or listed. Proven by
// test/api/sub-account-tokens.test.ts.
import type { Knex } from 'knex';
import type { Sql } from './filter-sql';

import { PROVISIO_GROUP_URN as GROUP_EXT } from '../scim/urns';

/** A SELECT of the ids of the groups in the subtree of `subAccountId`. */
export function subtreeSql(tenantId: string, subAccountId: string): Sql {
  return {
    sql: `WITH RECURSIVE subtree(id) AS (
        SELECT ?::uuid
        UNION
        SELECT e.child FROM (
            SELECT (g.data -> '${GROUP_EXT}' ->> 'parent')::uuid AS parent, g.id AS child
              FROM groups g WHERE g.tenant_id = ? AND g.kind = 'subAccount' AND g.data -> '${GROUP_EXT}' ->> 'parent' IS NOT NULL
            UNION ALL
            SELECT gg.group_id, gg.member_group_id FROM group_group_members gg WHERE gg.tenant_id = ?
          ) AS e JOIN subtree s ON e.parent = s.id)
      SELECT id FROM subtree`,
    bindings: [subAccountId, tenantId, tenantId],
  };
}

/** The condition limiting a resource table (alias `a`) to what the sub-account credential sees. */
export function visibleTo(kind: 'User' | 'Group', alias: string, tenantId: string, subAccountId: string): Sql {
  const tree = subtreeSql(tenantId, subAccountId);
  if (kind === 'Group') return { sql: `${alias}.id IN (${tree.sql})`, bindings: tree.bindings };
  return {
    sql: `${alias}.id IN (SELECT m.user_id FROM group_user_members m WHERE m.tenant_id = ? AND m.group_id IN (${tree.sql}))`,
    bindings: [tenantId, ...tree.bindings],
  };
}

/** Which of these ids the credential may see (for member references and single reads). */
export async function visibleIds(db: Knex | Knex.Transaction, kind: 'User' | 'Group', tenantId: string, subAccountId: string, ids: string[]): Promise<Set<string>> {
  if (!ids.length) return new Set();
  const table = kind === 'User' ? 'users' : 'groups';
  const cond = visibleTo(kind, 'r', tenantId, subAccountId);
  const res = await db.raw(`SELECT r.id FROM ${table} r WHERE r.tenant_id = ? AND r.id = ANY(?::uuid[]) AND ${cond.sql}`, [tenantId, ids, ...cond.bindings]);
  return new Set(res.rows.map((r: { id: string }) => r.id));
}
