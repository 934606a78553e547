// The email outbox's rows (migrations/0007_front_door.ts; docs/emails.md). Enqueueing runs in the
// tenant transaction of the change that causes the email. The worker's claim, its bookkeeping,
// the purge and the operator's listing span tenants by design and run as the schema owner; each
// of those statements says so.
import type { Knex } from 'knex';
import type { Db } from './scope';
import { deferred } from './pg-client';
import { statementName } from './prepared';

export interface OutboxInsert {
  tenantId: string;
  id: string;
  template: string;
  recipient: string;
  subject: string;
  sealed: string;
  now: Date;
}

/** A data-modifying statement written together with the email (INSERT … without RETURNING). */
export interface AlongWith {
  sql: string;
  bindings: Knex.Value[];
}

export interface ClaimedRow {
  tenant_id: string;
  id: string;
  template: string;
  recipient: string;
  subject: string;
  sealed: string | null;
  attempts: number;
}

export interface OperatorRow extends ClaimedRow {
  status: 'pending' | 'sent' | 'failed';
  created_at: Date;
  sent_at: Date | null;
  last_error: string | null;
}

/**
 * One pending email, due at once; with the caller's own write (the link the email carries) as a
 * CTE of the same statement when given, a round trip less per created user (docs/performance.md).
 */
export async function insertMail(db: Db, m: OutboxInsert, along?: AlongWith): Promise<void> {
  // Its result is not read: inside a tenant transaction it goes out with the transaction's next
  // statement or its COMMIT (store/pg-client.ts, 4.), in the same transaction as before.
  // Named (store/prepared.ts): an insert's plan does not depend on its values, and this one (with
  // the link as its CTE) runs on every user create; named with the profile lookup, PostgreSQL's CPU
  // per create fell by about a fifth (docs/performance.md, "Naming the create's statements"). Its
  // texts are few: `along` is always one of our own statements, never built from input. The name
  // is a hash of the text, a few microseconds per email.
  const sql = `${along ? `WITH along AS (${along.sql}) ` : ''}INSERT INTO outbox (tenant_id, id, template, recipient, subject, sealed, status, attempts, next_attempt_at, created_at)
     VALUES (?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?)`;
  await deferred(
    db.raw(sql, [...(along?.bindings ?? []), m.tenantId, m.id, m.template, m.recipient, m.subject, m.sealed, m.now, m.now]).options({ name: statementName(sql) }),
  );
}

/**
 * Claims up to `limit` due messages of every tenant for `leaseEnd`: one UPDATE over a sub-select
 * FOR UPDATE SKIP LOCKED, so two workers never claim the same row (mail/worker.ts explains the
 * lease). attempts is counted by the claim.
 */
export async function claimDue(db: Db, now: Date, leaseEnd: Date, limit: number): Promise<ClaimedRow[]> {
  const res = await db.raw(
    `UPDATE outbox o /* cross-tenant: the worker sends every tenant's mail */ SET locked_until = ?, attempts = o.attempts + 1
      WHERE (o.tenant_id, o.id) IN (
        SELECT tenant_id, id FROM outbox
         WHERE status = 'pending' AND next_attempt_at <= ? AND (locked_until IS NULL OR locked_until <= ?)
         ORDER BY next_attempt_at
         LIMIT ?
         FOR UPDATE SKIP LOCKED)
      RETURNING o.tenant_id, o.id, o.template, o.recipient, o.subject, o.sealed, o.attempts`,
    [leaseEnd, now, now, limit],
  );
  return (res.rows as ClaimedRow[]).map((r) => ({ ...r, attempts: Number(r.attempts) }));
}

/**
 * Marks a batch of messages sent in one statement (the worker's run: one round trip per batch, not
 * per message). Sent is sent, whoever holds the lease now; `scrub` drops the sealed content.
 * Rows of every tenant, each named by its (tenant_id, id).
 */
export async function markSent(db: Db, rows: { tenant_id: string; id: string }[], at: Date, scrub: boolean): Promise<void> {
  if (!rows.length) return;
  await db.raw(
    `UPDATE outbox o /* cross-tenant: the worker sends every tenant's mail */ SET status = 'sent', sent_at = ?, locked_until = NULL, last_error = NULL${scrub ? ', sealed = NULL' : ''}
      FROM unnest(?::uuid[], ?::uuid[]) AS s (tenant_id, id)
     WHERE o.tenant_id = s.tenant_id AND o.id = s.id`,
    [at, rows.map((r) => r.tenant_id), rows.map((r) => r.id)],
  );
}

/**
 * Records the outcome of a try, only while the row is still the one claimed (`attempts` is the
 * lease's token); false when another worker holds it by now.
 */
export async function markTried(db: Db, tenantId: string, id: string, attempts: number, outcome: { status: 'pending' | 'failed'; nextAttemptAt?: Date; error: string }): Promise<boolean> {
  const res = await db.raw(
    `UPDATE outbox SET status = ?, locked_until = NULL, last_error = ?${outcome.nextAttemptAt ? ', next_attempt_at = ?' : ''}
      WHERE tenant_id = ? AND id = ? AND attempts = ? AND status = 'pending'`,
    [outcome.status, outcome.error, ...(outcome.nextAttemptAt ? [outcome.nextAttemptAt] : []), tenantId, id, attempts],
  );
  return (res.rowCount ?? 0) > 0;
}

/**
 * Releases claimed rows that were not tried, without counting the try, in one statement; each only
 * while it is still the one claimed (its `attempts`, the lease's token).
 */
export async function giveBack(db: Db, rows: { tenant_id: string; id: string; attempts: number }[]): Promise<void> {
  if (!rows.length) return;
  await db.raw(
    `UPDATE outbox o /* cross-tenant: the worker sends every tenant's mail */ SET locked_until = NULL, attempts = o.attempts - 1
      FROM unnest(?::uuid[], ?::uuid[], ?::int[]) AS g (tenant_id, id, attempts)
     WHERE o.tenant_id = g.tenant_id AND o.id = g.id AND o.attempts = g.attempts AND o.status = 'pending'`,
    [rows.map((r) => r.tenant_id), rows.map((r) => r.id), rows.map((r) => r.attempts)],
  );
}

/** Deletes sent and failed messages created before `before`; pending ones stay whatever their age. */
export async function purgeFinished(db: Db, before: Date): Promise<number> {
  const res = await db.raw(`DELETE FROM outbox /* cross-tenant: housekeeping of every tenant's mail */ WHERE status IN ('sent', 'failed') AND created_at < ?`, [before]);
  return res.rowCount ?? 0;
}

/** The operator's view, newest first; `to` matches the recipient case-insensitively. */
export async function listForOperator(db: Db, filter: { to?: string; tenantId?: string; limit: number }): Promise<OperatorRow[]> {
  const where: string[] = [];
  const bindings: Knex.Value[] = [];
  if (filter.to) {
    where.push('lower(recipient) = lower(?)');
    bindings.push(filter.to);
  }
  if (filter.tenantId) {
    where.push('tenant_id = ?');
    bindings.push(filter.tenantId);
  }
  const res = await db.raw(
    `SELECT tenant_id, id, template, recipient, subject, sealed, status, attempts, created_at, sent_at, last_error
       FROM outbox /* cross-tenant: the operator reads every tenant's mail */
      ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY created_at DESC, id DESC LIMIT ${Math.max(1, Math.floor(filter.limit))}`,
    bindings,
  );
  return res.rows;
}

/** Pending mail of every tenant and when the oldest was queued (the metrics scrape). */
export async function pendingBacklog(db: Db): Promise<{ pending: number; oldest: Date | null }> {
  const res = await db.raw(`SELECT count(*)::int AS pending, min(created_at) AS oldest FROM outbox /* cross-tenant: the metrics count every tenant's pending mail */ WHERE status = 'pending'`);
  return { pending: Number(res.rows[0].pending), oldest: res.rows[0].oldest ? new Date(res.rows[0].oldest) : null };
}
