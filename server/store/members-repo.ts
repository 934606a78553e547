// Group membership rows: users and groups as members of groups. A membership change touches
// only the rows it names (never a read-modify-write of the member list), and a user's read-only
// `groups` (RFC 7643 §4.1.2) is derived here, direct and indirect, with one recursive query.
import type { Db } from './scope';
import { MembershipCompiler, Sql } from './filter-sql';
import { StatementNames } from './prepared';

export interface MemberRef {
  value: string;
  type: 'User' | 'Group';
  display?: string;
}

export interface GroupRef {
  value: string;
  display: string;
  type: 'direct' | 'indirect';
}

/** Adds users as members of a group, leaving existing memberships alone (addUsers, addUsersAndRecord). */
const ADD_USERS = `INSERT INTO group_user_members (tenant_id, group_id, user_id)
       SELECT ?, ?, u FROM unnest(?::uuid[]) AS u ON CONFLICT DO NOTHING`;

/** Members per streamed batch (streamMembers). */
const STREAM_BATCH = 2000;

/**
 * One keyset batch of a group's members of each type. `display` is a scalar subquery, so each
 * member is one primary-key lookup whatever the batch's depth. A JOIN let the planner choose a
 * merge join that scanned the tenant's users from the first one on every batch: at 1M users,
 * the batch half-way through the 500k-member group read 252,001 users for 2,000 members (246 ms
 * instead of 5 ms) and the whole read took 31 s (docs/performance.md).
 */
const MEMBER_SOURCES = [
  {
    type: 'User' as const,
    sql: `SELECT m.user_id AS value,
                 (SELECT COALESCE(u.data ->> 'displayName', u.user_name) FROM users u WHERE u.tenant_id = ? AND u.id = m.user_id) AS display
            FROM group_user_members m
           WHERE m.tenant_id = ? AND m.group_id = ? AND m.user_id > ?::uuid ORDER BY m.user_id LIMIT ?`,
  },
  {
    type: 'Group' as const,
    sql: `SELECT m.member_group_id AS value,
                 (SELECT g.display_name FROM groups g WHERE g.tenant_id = ? AND g.id = m.member_group_id) AS display
            FROM group_group_members m
           WHERE m.tenant_id = ? AND m.group_id = ? AND m.member_group_id > ?::uuid ORDER BY m.member_group_id LIMIT ?`,
  },
];

export class MembersRepo {
  /**
   * The statements below have fixed texts and plans that suit any value (primary-key and index
   * lookups by id or id array), so they are prepared (store/prepared.ts); membersOf is not, its
   * join depends on the groups' sizes.
   */
  private readonly prepared = new StatementNames(32);

  /** Adds users as members; existing memberships are left alone. Returns how many were new. */
  async addUsers(db: Db, tenantId: string, groupId: string, userIds: string[]): Promise<number> {
    if (!userIds.length) return 0;
    const res = await this.prepared.raw(db, ADD_USERS, [tenantId, groupId, userIds]);
    return res.rowCount ?? 0;
  }

  /**
   * addUsers and, in the same statement and only when a membership was really added, the writes
   * `then` composes from their own repositories over the condition it is given: the group's version
   * bump (its row returned, as ResourceRepo.update returns it) and its audit entry; and `read`, a
   * scalar subquery whose value comes back as `read` (the event streams the change goes to). The PATCH an
   * IdP sends for each member (Entra's add of one) was three round trips for these, now one
   * (docs/performance.md, "Membership PATCH and the permissions answer (issue 12)"). An add that
   * changes nothing (already a member) bumps and records nothing, as before
   * (test/api/patch.test.ts, test/api/groups.test.ts).
   */
  async addUsersAndRecord(
    db: Db,
    tenantId: string,
    groupId: string,
    userIds: string[],
    then: (added: string) => { bump: Sql; record: Sql; read?: Sql },
  ): Promise<{ added: number; row: Record<string, unknown> | undefined; read: unknown }> {
    const { bump, record, read } = then('EXISTS (SELECT 1 FROM added)');
    const res = await this.prepared.raw(
      db,
      `WITH added AS (${ADD_USERS} RETURNING 1),
            bumped AS (${bump.sql}),
            recorded AS (${record.sql})
       SELECT (SELECT count(*) FROM added) AS pv_added${read ? `, ${read.sql} AS pv_read` : ''}, b.* FROM (SELECT 1) AS one LEFT JOIN bumped AS b ON true`,
      [tenantId, groupId, userIds, ...bump.bindings, ...record.bindings, ...(read?.bindings ?? [])],
    );
    const { pv_added: added, pv_read: readValue, ...row } = res.rows[0] as { pv_added: string; pv_read?: unknown } & Record<string, unknown>;
    return { added: Number(added), row: row.id ? row : undefined, read: read ? readValue : undefined };
  }

  /** Adds groups as members; existing memberships are left alone. Returns how many were new. */
  async addGroups(db: Db, tenantId: string, groupId: string, memberGroupIds: string[]): Promise<number> {
    if (!memberGroupIds.length) return 0;
    const res = await this.prepared.raw(
      db,
      `INSERT INTO group_group_members (tenant_id, group_id, member_group_id)
       SELECT ?, ?, g FROM unnest(?::uuid[]) AS g ON CONFLICT DO NOTHING`,
      [tenantId, groupId, memberGroupIds],
    );
    return res.rowCount ?? 0;
  }

  /** Which of these ids are users and which are groups of the tenant (one round trip). */
  async classify(db: Db, tenantId: string, ids: string[]): Promise<{ users: Set<string>; groups: Set<string> }> {
    const out = { users: new Set<string>(), groups: new Set<string>() };
    if (!ids.length) return out;
    const res = await this.prepared.raw(
      db,
      `SELECT id, 'User' AS type FROM users WHERE tenant_id = ? AND id = ANY(?::uuid[])
       UNION ALL
       SELECT id, 'Group' FROM groups WHERE tenant_id = ? AND id = ANY(?::uuid[])`,
      [tenantId, ids, tenantId, ids],
    );
    for (const r of res.rows as { id: string; type: string }[]) (r.type === 'User' ? out.users : out.groups).add(r.id);
    return out;
  }

  /**
   * Bumps version and lastModified of the groups that directly contain this user or group: their
   * representation changes when it leaves them (deletion).
   */
  async touchGroupsContaining(db: Db, tenantId: string, member: { userId?: string; groupId?: string }, now: Date): Promise<string[]> {
    const sub = member.userId
      ? 'SELECT group_id FROM group_user_members WHERE tenant_id = ? AND user_id = ?'
      : 'SELECT group_id FROM group_group_members WHERE tenant_id = ? AND member_group_id = ?';
    const res = await this.prepared.raw(db, `UPDATE groups SET version = version + 1, updated_at = ? WHERE tenant_id = ? AND id IN (${sub}) RETURNING id`, [
      now,
      tenantId,
      tenantId,
      member.userId ?? member.groupId!,
    ]);
    return (res.rows as { id: string }[]).map((r) => r.id);
  }

  /** Removes every member of the group; returns how many memberships went. */
  async removeAll(db: Db, tenantId: string, groupId: string): Promise<number> {
    const a = await db.raw('DELETE FROM group_user_members WHERE tenant_id = ? AND group_id = ?', [tenantId, groupId]);
    const b = await db.raw('DELETE FROM group_group_members WHERE tenant_id = ? AND group_id = ?', [tenantId, groupId]);
    return (a.rowCount ?? 0) + (b.rowCount ?? 0);
  }

  /**
   * Removes these members (users or groups) by id; a non-member is a no-op. Returns how many went.
   * Both deletes are one statement: one round trip for the remove PATCH Entra sends per member.
   */
  async removeMembers(db: Db, tenantId: string, groupId: string, ids: string[]): Promise<number> {
    if (!ids.length) return 0;
    const res = await this.prepared.raw(
      db,
      `WITH u AS (DELETE FROM group_user_members WHERE tenant_id = ? AND group_id = ? AND user_id = ANY(?::uuid[]) RETURNING 1),
            g AS (DELETE FROM group_group_members WHERE tenant_id = ? AND group_id = ? AND member_group_id = ANY(?::uuid[]) RETURNING 1)
       SELECT (SELECT count(*) FROM u) + (SELECT count(*) FROM g) AS n`,
      [tenantId, groupId, ids, tenantId, groupId, ids],
    );
    return Number(res.rows[0].n);
  }

  /**
   * True when adding these groups as members of `groupId` would close a cycle: `groupId` itself,
   * or a group that already contains `groupId` directly or indirectly.
   */
  async wouldCycle(db: Db, tenantId: string, groupId: string, memberGroupIds: string[]): Promise<boolean> {
    if (!memberGroupIds.length) return false;
    if (memberGroupIds.includes(groupId)) return true;
    const res = await this.prepared.raw(
      db,
      `WITH RECURSIVE below(id) AS (
         SELECT unnest(?::uuid[])
         UNION
         SELECT gg.member_group_id FROM group_group_members gg JOIN below ON gg.group_id = below.id
          WHERE gg.tenant_id = ?)
       SELECT 1 FROM below WHERE id = ? LIMIT 1`,
      [memberGroupIds, tenantId, groupId],
    );
    return res.rows.length > 0;
  }

  /** Members of each group, with `display` from the member's displayName (users: else userName). */
  async membersOf(db: Db, tenantId: string, groupIds: string[]): Promise<Map<string, MemberRef[]>> {
    const out = new Map<string, MemberRef[]>(groupIds.map((id) => [id, []]));
    if (!groupIds.length) return out;
    const res = await db.raw(
      `SELECT m.group_id, m.user_id AS value, 'User' AS type, COALESCE(u.data ->> 'displayName', u.user_name) AS display
         FROM group_user_members m JOIN users u ON u.tenant_id = m.tenant_id AND u.id = m.user_id
        WHERE m.tenant_id = ? AND m.group_id = ANY(?::uuid[])
       UNION ALL
       SELECT m.group_id, m.member_group_id, 'Group', g.display_name
         FROM group_group_members m JOIN groups g ON g.tenant_id = m.tenant_id AND g.id = m.member_group_id
        WHERE m.tenant_id = ? AND m.group_id = ANY(?::uuid[])
       ORDER BY 1, 2`,
      [tenantId, groupIds, tenantId, groupIds],
    );
    for (const r of res.rows as { group_id: string; value: string; type: 'User' | 'Group'; display: string }[]) {
      out.get(r.group_id)!.push({ value: r.value, type: r.type, display: r.display });
    }
    return out;
  }

  /**
   * The members of one group in batches (users by id, then groups by id), each batch one keyset
   * query, so reading a group of any size holds one batch in memory (issue 3: 500k members).
   * Batches are separate statements: a change made during the read may show in later batches.
   * The next batch is read while the caller writes the current one (at most two in memory).
   */
  async *streamMembers(
    run: <T>(fn: (db: Db) => Promise<T>) => Promise<T>,
    tenantId: string,
    groupId: string,
    batchSize = STREAM_BATCH,
  ): AsyncGenerator<MemberRef[]> {
    for (const source of MEMBER_SOURCES) {
      const read = (after: string): Promise<MemberRef[]> =>
        run((db) => this.prepared.raw(db, source.sql, [tenantId, tenantId, groupId, after, batchSize])).then((res) =>
          (res.rows as { value: string; display: string }[]).map((r) => ({ value: r.value, type: source.type, display: r.display })),
        );
      let next = read('00000000-0000-0000-0000-000000000000');
      for (;;) {
        const batch = await next;
        const more = batch.length === batchSize;
        if (more) {
          next = read(batch[batch.length - 1].value);
          // A caller that stops early never awaits this read: its failure must not go unhandled.
          next.catch(() => undefined);
        }
        if (batch.length) yield batch;
        if (!more) break;
      }
    }
  }

  /** Groups of each user: direct memberships and, through nested groups, indirect ones. */
  async groupsOfUsers(db: Db, tenantId: string, userIds: string[]): Promise<Map<string, GroupRef[]>> {
    const out = new Map<string, GroupRef[]>(userIds.map((id) => [id, []]));
    if (!userIds.length) return out;
    const res = await this.prepared.raw(
      db,
      `WITH RECURSIVE reach(user_id, group_id, depth) AS (
         SELECT user_id, group_id, 0 FROM group_user_members WHERE tenant_id = ? AND user_id = ANY(?::uuid[])
         UNION
         SELECT r.user_id, gg.group_id, 1 FROM reach r
           JOIN group_group_members gg ON gg.tenant_id = ? AND gg.member_group_id = r.group_id)
       SELECT r.user_id, r.group_id, min(r.depth) AS depth, g.display_name
         FROM reach r JOIN groups g ON g.tenant_id = ? AND g.id = r.group_id
        GROUP BY r.user_id, r.group_id, g.display_name
        ORDER BY r.user_id, g.display_name, r.group_id`,
      [tenantId, userIds, tenantId, tenantId],
    );
    for (const r of res.rows as { user_id: string; group_id: string; depth: number; display_name: string }[]) {
      out.get(r.user_id)!.push({ value: r.group_id, display: r.display_name, type: Number(r.depth) === 0 ? 'direct' : 'indirect' });
    }
    return out;
  }
}

/** `members.value eq X` / `members pr` on groups; `a` is the groups table alias. */
export const groupMembersCompiler: MembershipCompiler = {
  hasValue: (a, tenantId, id): Sql => ({
    sql: `(EXISTS (SELECT 1 FROM group_user_members m WHERE m.tenant_id = ? AND m.group_id = ${a}.id AND m.user_id = ?::uuid)
        OR EXISTS (SELECT 1 FROM group_group_members m WHERE m.tenant_id = ? AND m.group_id = ${a}.id AND m.member_group_id = ?::uuid))`,
    bindings: [tenantId, id, tenantId, id],
  }),
  present: (a, tenantId): Sql => ({
    sql: `(EXISTS (SELECT 1 FROM group_user_members m WHERE m.tenant_id = ? AND m.group_id = ${a}.id)
        OR EXISTS (SELECT 1 FROM group_group_members m WHERE m.tenant_id = ? AND m.group_id = ${a}.id))`,
    bindings: [tenantId, tenantId],
  }),
};

/** `groups.value eq X` / `groups pr` on users: direct or indirect membership of group X. */
export const userGroupsCompiler: MembershipCompiler = {
  hasValue: (a, tenantId, id): Sql => ({
    // Uncorrelated: the groups under X (X and, transitively, its member groups), then their users.
    sql: `(${a}.id IN (
        WITH RECURSIVE sub(id) AS (
          SELECT ?::uuid
          UNION
          SELECT gg.member_group_id FROM group_group_members gg JOIN sub ON gg.group_id = sub.id WHERE gg.tenant_id = ?)
        SELECT m.user_id FROM group_user_members m WHERE m.tenant_id = ? AND m.group_id IN (SELECT id FROM sub)))`,
    bindings: [id, tenantId, tenantId],
  }),
  present: (a, tenantId): Sql => ({
    sql: `EXISTS (SELECT 1 FROM group_user_members m WHERE m.tenant_id = ? AND m.user_id = ${a}.id)`,
    bindings: [tenantId],
  }),
  // The user's groups as groupsOfUsers finds them, selected with the user's row: a lookup hit or a
  // page of users is one statement instead of two, one round trip less (docs/performance.md).
  listed: (a, tenantId): Sql => ({
    sql: `(SELECT json_agg(json_build_array(r.group_id, g.display_name, r.depth) ORDER BY g.display_name, r.group_id)
         FROM (WITH RECURSIVE reach(group_id, depth) AS (
                 SELECT m.group_id, 0 FROM group_user_members m WHERE m.tenant_id = ? AND m.user_id = ${a}.id
                 UNION
                 SELECT gg.group_id, 1 FROM reach r JOIN group_group_members gg ON gg.tenant_id = ? AND gg.member_group_id = r.group_id)
               SELECT group_id, min(depth) AS depth FROM reach GROUP BY group_id) r
         JOIN groups g ON g.tenant_id = ? AND g.id = r.group_id)`,
    bindings: [tenantId, tenantId, tenantId],
  }),
};

/** A user's groups from the JSON that userGroupsCompiler.listed selects (null: none). */
export function groupRefsFromListed(listed: unknown): GroupRef[] {
  if (!Array.isArray(listed)) return [];
  return (listed as [string, string, number][]).map(([value, display, depth]) => ({ value, display, type: depth === 0 ? 'direct' : 'indirect' }));
}
