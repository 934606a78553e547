// The sub-account purge (issue 4): twelve months after a sub-account was deactivated, it is
// purged — the group, its memberships, and the users who belong to no other group — and the
// purge is recorded in the audit log. Runs per tenant inside that tenant's transaction; the clock
// is injected so tests can move time (test/api/sub-accounts.test.ts).
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import { AuditRepo } from '../store/audit-repo';
import { asOwner, inTenant } from '../store/scope';
import * as tenancy from '../store/tenancy-repo';
import type { EventProducer } from '../events/producer';

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

/**
 * Drops the references other resources hold to deleted ones (an agent's owners), in the purge's
 * transaction (resources/service.ts referencesGone, wired in deps.ts).
 */
export type ReferencesGone = (trx: Knex.Transaction, tenantId: string, typeName: 'User' | 'Group', ids: string[]) => Promise<void>;

export async function purgeSubAccounts(
  knex: Knex,
  audit: AuditRepo,
  now: Date,
  logger?: Logger,
  events?: Pick<EventProducer, 'deleted' | 'rewritten'>,
  referencesGone?: ReferencesGone,
): Promise<PurgeResult[]> {
  const cutoff = purgeCutoff(now);
  // Which tenants have work is a cross-tenant question: asked as the schema owner.
  const due = await asOwner(knex, (trx) => tenancy.dueForPurge(trx, cutoff));
  const results: PurgeResult[] = [];
  for (const { tenant_id: tenantId, id } of due) {
    const result = await inTenant(knex, tenantId, async (trx) => {
      // Re-check under lock: it may have been reactivated since.
      const row = await tenancy.lockSubAccount(trx, tenantId, id);
      if (!row || !row.deactivated_at || new Date(row.deactivated_at) > cutoff) return undefined;
      // Members who belong to nothing else go with it — never the primary admin.
      const orphans = await tenancy.membersInNothingElse(trx, tenantId, id);
      // The purge deletes outside the resource service: its delete events are enqueued here, in
      // the same transaction, before the rows (and their externalIds) are gone (docs/events.md).
      await events?.deleted(trx, tenantId, { name: 'User', endpoint: 'Users', table: 'users' }, orphans);
      await events?.deleted(trx, tenantId, { name: 'Group', endpoint: 'Groups', table: 'groups' }, [id]);
      const parents = await tenancy.purge(trx, tenantId, id, orphans, now);
      // The groups that held the purged sub-account lost a member: a patch event naming `members`,
      // as for a group that loses a deleted member through the resource service.
      await events?.rewritten(trx, tenantId, 'Group', parents, ['members']);
      await referencesGone?.(trx, tenantId, 'User', orphans);
      await referencesGone?.(trx, tenantId, 'Group', [id]);
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
