// The audit log (issue 4, "Audit"): every change, written in the transaction that makes it, so a
// change and its record commit or roll back together. Values are attribute values only — the
// server never stores secrets in resources (password is dropped at normalization).
import type { Db } from './scope';
import type { Sql } from './filter-sql';
import { v7 as uuidv7 } from 'uuid';
import { deferred } from './pg-client';

export interface AuditEntry {
  actorType: string;
  actorId: string;
  action: string;
  targetType: string;
  targetId?: string | null;
  changes?: Record<string, unknown>;
}

export interface AuditRow {
  id: string;
  at: Date;
  actor_type: string;
  actor_id: string;
  action: string;
  target_type: string;
  target_id: string | null;
  changes: Record<string, unknown>;
}

export interface AuditQuery {
  actor?: string;
  target?: string;
  action?: string;
  from?: Date;
  to?: Date;
  /** Entries older than this id (ids are time-ordered UUIDv7). */
  before?: string;
  limit: number;
}

/** A data-modifying statement for a caller to run as a CTE of its own write (no RETURNING). */
export interface AlongStatement {
  sql: string;
  bindings: unknown[];
}

export class AuditRepo {
  /**
   * The INSERT of one entry as a statement, for the write it records to carry as a CTE (a resource
   * create: ResourceRepo.insert), one round trip less per create (docs/performance.md, "Fewer round
   * trips per create"). Same row as record(); same transaction, so it commits or rolls back with
   * the write — test/api/tenant-config-cache.test.ts ("rolls back with a create refused after the insert").
   */
  entryStatement(tenantId: string, at: Date, e: AuditEntry): AlongStatement {
    return auditInsertSql(tenantId, at, e, 'true');
  }

  async record(db: Db, tenantId: string, at: Date, e: AuditEntry): Promise<void> {
    await this.recordMany(db, tenantId, at, [e]);
  }

  /**
   * Many entries at once (the users a deleted service or profile changed, issue 10): one insert
   * per thousand rows instead of one per entry, so taking a service from 5,000 people does not
   * cost 5,000 round trips.
   */
  async recordMany(db: Db, tenantId: string, at: Date, entries: AuditEntry[]): Promise<void> {
    const rows = entries.map((e) => ({
      tenant_id: tenantId,
      id: uuidv7({ msecs: at.getTime() }),
      at,
      actor_type: e.actorType,
      actor_id: e.actorId,
      action: e.action,
      target_type: e.targetType,
      target_id: e.targetId ?? null,
      changes: JSON.stringify(e.changes ?? {}),
    }));
    // Nobody reads the insert's result: inside a tenant transaction it goes out with the next
    // statement or the COMMIT (store/pg-client.ts, 4.), a round trip less per audited write.
    for (let i = 0; i < rows.length; i += 1000) await deferred(db('audit_log').insert(rows.slice(i, i + 1000)));
  }

  /** Newest first. */
  async list(db: Db, tenantId: string, q: AuditQuery): Promise<AuditRow[]> {
    const query = db('audit_log')
      .where({ tenant_id: tenantId })
      .orderBy([{ column: 'at', order: 'desc' }, { column: 'id', order: 'desc' }])
      .limit(q.limit)
      .select(['id', 'at', 'actor_type', 'actor_id', 'action', 'target_type', 'target_id', 'changes']);
    if (q.actor) query.andWhere('actor_id', q.actor);
    if (q.target) query.andWhere('target_id', q.target);
    if (q.action) query.andWhere('action', q.action);
    if (q.from) query.andWhere('at', '>=', q.from);
    if (q.to) query.andWhere('at', '<', q.to);
    if (q.before) query.andWhere('id', '<', q.before);
    return query;
  }
}

/**
 * One entry's INSERT (the row recordMany writes) as a fragment to compose into a larger statement,
 * a data-modifying CTE, written only where `when` holds — SQL over the statement's other parts, say
 * "a membership was really added". A change and its record are then one round trip: the membership
 * PATCH an IdP sends per member (store/members-repo.ts addUsersAndRecord; docs/performance.md,
 * "Membership PATCH and the permissions answer (issue 12)").
 */
export function auditInsertSql(tenantId: string, at: Date, e: AuditEntry, when: string): Sql {
  return {
    sql: `INSERT INTO audit_log (tenant_id, id, at, actor_type, actor_id, action, target_type, target_id, changes)
          SELECT ?::uuid, ?::uuid, ?::timestamptz, ?::text, ?::text, ?::text, ?::text, ?::text, ?::jsonb WHERE ${when}`,
    bindings: [tenantId, uuidv7({ msecs: at.getTime() }), at, e.actorType, e.actorId, e.action, e.targetType, e.targetId ?? null, JSON.stringify(e.changes ?? {})],
  };
}
