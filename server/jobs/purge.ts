// The sub-account purge (issue 4): twelve months after a sub-account was deactivated, it is
// purged — the group, its memberships, and the users who belong to no other group — and the
// purge is recorded in the audit log. Runs per tenant inside that tenant's transaction; the clock
// is injected so tests can move time (test/api/sub-accounts.test.ts).
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import { AuditRepo } from '../store/audit-repo';
import { asOwner, inTenant } from '../store/scope';

export const PURGE_AFTER_MONTHS = 12;

export interface PurgeResult {
  tenantId: string;
  subAccountId: string;
  usersDeleted: number;
}

/** The cutoff: sub-accounts deactivated at or before it are due. */
export function purgeCutoff(now: Date): Date {
  const d = new Date(now);
  d.setUTCMonth(d.getUTCMonth() - PURGE_AFTER_MONTHS);
  return d;
}

export async function purgeSubAccounts(knex: Knex, audit: AuditRepo, now: Date, logger?: Logger): Promise<PurgeResult[]> {
  const cutoff = purgeCutoff(now);
  // Which tenants have work is a cross-tenant question: asked as the schema owner.
  const due = await asOwner(knex, async (trx) =>
    (await trx.raw(`SELECT tenant_id, id FROM groups WHERE deactivated_at IS NOT NULL AND deactivated_at <= ? AND kind = 'subAccount' ORDER BY deactivated_at`, [cutoff])).rows as {
      tenant_id: string;
      id: string;
    }[],
  );
  const results: PurgeResult[] = [];
  for (const { tenant_id: tenantId, id } of due) {
    const result = await inTenant(knex, tenantId, async (trx) => {
      // Re-check under lock: it may have been reactivated since.
      const row = (await trx.raw('SELECT display_name, deactivated_at FROM groups WHERE tenant_id = ? AND id = ? FOR UPDATE', [tenantId, id])).rows[0];
      if (!row || !row.deactivated_at || new Date(row.deactivated_at) > cutoff) return undefined;
      // Members who belong to nothing else go with it — never the primary admin.
      const orphans = (
        await trx.raw(
          `SELECT m.user_id FROM group_user_members m JOIN users u ON u.tenant_id = m.tenant_id AND u.id = m.user_id
            WHERE m.tenant_id = ? AND m.group_id = ? AND NOT u.is_primary_admin
              AND NOT EXISTS (SELECT 1 FROM group_user_members o WHERE o.tenant_id = m.tenant_id AND o.user_id = m.user_id AND o.group_id <> m.group_id)`,
          [tenantId, id],
        )
      ).rows.map((r: { user_id: string }) => r.user_id);
      await trx.raw(`UPDATE groups SET version = version + 1, updated_at = ? WHERE tenant_id = ? AND id IN (SELECT group_id FROM group_group_members WHERE tenant_id = ? AND member_group_id = ?)`, [
        now,
        tenantId,
        tenantId,
        id,
      ]);
      await trx.raw('DELETE FROM groups WHERE tenant_id = ? AND id = ?', [tenantId, id]);
      if (orphans.length) await trx.raw('DELETE FROM users WHERE tenant_id = ? AND id = ANY(?::uuid[])', [tenantId, orphans]);
      await audit.record(trx, tenantId, now, {
        actorType: 'system',
        actorId: 'purge',
        action: 'subAccount.purge',
        targetType: 'Group',
        targetId: id,
        changes: { displayName: row.display_name, deactivatedAt: new Date(row.deactivated_at).toISOString(), usersDeleted: orphans },
      });
      return { tenantId, subAccountId: id, usersDeleted: orphans.length };
    });
    if (result) {
      results.push(result);
      logger?.info({ tenant: tenantId, subAccount: id, usersDeleted: result.usersDeleted }, 'sub-account purged');
    }
  }
  return results;
}
