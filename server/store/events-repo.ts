// SCIM events' rows (migrations/0019_event_streams.ts, docs/events.md): a tenant's streams and
// the events waiting in them. Streams and the poll run in the tenant's transaction; the push
// worker's claim and its bookkeeping span tenants by design and run as the schema owner, and each
// of those statements says so.
import type { Knex } from 'knex';
import type { Sql } from './filter-sql';
import type { Db } from './scope';
import { deferred } from './pg-client';

export interface StreamRow {
  tenant_id: string;
  id: string;
  name: string;
  delivery: 'poll' | 'push';
  endpoint_url: string | null;
  audience: string;
  events: string[];
  form: 'full' | 'notice';
  state: 'enabled' | 'paused';
  failures: number;
  last_error: string | null;
  paused_at: Date | null;
  last_delivered_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

export interface NewStream {
  id: string;
  name: string;
  delivery: 'poll' | 'push';
  endpointUrl: string | null;
  audience: string;
  events: string[];
  form: 'full' | 'notice';
  now: Date;
}

export interface NewEvent {
  id: string;
  streamId: string;
  resourceType: string;
  resourceId: string;
  claims: Record<string, unknown>;
}

export interface ClaimedEvent {
  tenant_id: string;
  id: string;
  stream_id: string;
  seq: string;
  claims: Record<string, unknown>;
  attempts: number;
  endpoint_url: string;
}

const STREAM_COLUMNS = 'tenant_id, id, name, delivery, endpoint_url, audience, events, form, state, failures, last_error, paused_at, last_delivered_at, created_at, updated_at';

export async function insertStream(db: Db, tenantId: string, s: NewStream): Promise<StreamRow> {
  const res = await db.raw(
    `INSERT INTO event_streams (tenant_id, id, name, delivery, endpoint_url, audience, events, form, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?::text[], ?, ?, ?) RETURNING ${STREAM_COLUMNS}`,
    [tenantId, s.id, s.name, s.delivery, s.endpointUrl, s.audience, s.events, s.form, s.now, s.now],
  );
  return res.rows[0];
}

export async function listStreams(db: Db, tenantId: string): Promise<StreamRow[]> {
  return (await db.raw(`SELECT ${STREAM_COLUMNS} FROM event_streams WHERE tenant_id = ? ORDER BY created_at, id`, [tenantId])).rows;
}

export async function getStream(db: Db, tenantId: string, id: string): Promise<StreamRow | undefined> {
  return (await db.raw(`SELECT ${STREAM_COLUMNS} FROM event_streams WHERE tenant_id = ? AND id = ?`, [tenantId, id])).rows[0];
}

export async function deleteStream(db: Db, tenantId: string, id: string): Promise<StreamRow | undefined> {
  return (await db.raw(`DELETE FROM event_streams WHERE tenant_id = ? AND id = ? RETURNING ${STREAM_COLUMNS}`, [tenantId, id])).rows[0];
}

/** Pauses or resumes a stream; resuming forgets the failures counted so far. */
export async function setStreamState(db: Db, tenantId: string, id: string, state: 'enabled' | 'paused', now: Date): Promise<StreamRow | undefined> {
  const res = await db.raw(
    `UPDATE event_streams SET state = ?, updated_at = ?, paused_at = ${state === 'paused' ? '?' : 'NULL'}${state === 'enabled' ? ', failures = 0' : ''}
      WHERE tenant_id = ? AND id = ? RETURNING ${STREAM_COLUMNS}`,
    [state, now, ...(state === 'paused' ? [now] : []), tenantId, id],
  );
  return res.rows[0];
}

/** How many events each of the tenant's streams holds (the admin API's `pending`). */
export async function pendingCounts(db: Db, tenantId: string): Promise<Map<string, number>> {
  const res = await db.raw('SELECT stream_id, count(*)::int AS n FROM event_outbox WHERE tenant_id = ? GROUP BY stream_id', [tenantId]);
  return new Map(res.rows.map((r: { stream_id: string; n: number }) => [r.stream_id, Number(r.n)]));
}

/** The streams a change of this tenant produces events for (every stream: a paused one queues). */
export type StreamForEvents = Pick<StreamRow, 'id' | 'audience' | 'events' | 'form'>;

export async function streamsForEvents(db: Db, tenantId: string): Promise<StreamForEvents[]> {
  return (await db.raw('SELECT id, audience, events, form FROM event_streams WHERE tenant_id = ?', [tenantId])).rows;
}

/**
 * The same streams as one JSON value (an array of StreamForEvents), a scalar subquery to fold into
 * a statement a write sends anyway: the membership PATCH reads them with its own writes, one round
 * trip less (store/members-repo.ts addUsersAndRecord; docs/performance.md, "Membership PATCH and
 * the permissions answer (issue 12)").
 */
export function streamsForEventsSql(tenantId: string): Sql {
  return {
    sql: `(SELECT coalesce(json_agg(json_build_object('id', s.id, 'audience', s.audience, 'events', s.events, 'form', s.form)), '[]'::json)
             FROM event_streams s WHERE s.tenant_id = ?)`,
    bindings: [tenantId],
  };
}

/** External ids of resources about to be deleted outside the resource service (the purge). */
export async function externalIds(db: Db, tenantId: string, table: 'users' | 'groups', ids: string[]): Promise<Map<string, string | null>> {
  if (!ids.length) return new Map();
  const res = await db.raw(`SELECT id, external_id FROM ${table} WHERE tenant_id = ? AND id = ANY(?::uuid[])`, [tenantId, ids]);
  return new Map(res.rows.map((r: { id: string; external_id: string | null }) => [r.id, r.external_id]));
}

/** Events, in the order given (their seq follows it), due at once. */
export async function insertEvents(db: Db, tenantId: string, events: NewEvent[], now: Date): Promise<void> {
  if (!events.length) return;
  const values = events.map(() => '(?, ?, ?, ?, ?, ?::jsonb, ?, ?)').join(', ');
  const bindings: Knex.Value[] = [];
  for (const e of events) bindings.push(tenantId, e.id, e.streamId, e.resourceType, e.resourceId, JSON.stringify(e.claims), now, now);
  // Its result is not read: sent with the transaction's next statement (store/pg-client.ts, 4.).
  await deferred(db.raw(`INSERT INTO event_outbox (tenant_id, id, stream_id, resource_type, resource_id, claims, next_attempt_at, created_at) VALUES ${values}`, bindings));
}

/** Up to `limit` of a stream's events, oldest first (the poll). */
export async function nextEvents(db: Db, tenantId: string, streamId: string, limit: number): Promise<{ id: string; claims: Record<string, unknown> }[]> {
  const res = await db.raw('SELECT id, claims FROM event_outbox WHERE tenant_id = ? AND stream_id = ? ORDER BY seq LIMIT ?', [tenantId, streamId, limit]);
  return res.rows;
}

/** Removes acknowledged events (or events the receiver reported errors for) of a stream; how many. */
export async function removeEvents(db: Db, tenantId: string, streamId: string, ids: string[]): Promise<number> {
  if (!ids.length) return 0;
  const res = await db.raw('DELETE FROM event_outbox WHERE tenant_id = ? AND stream_id = ? AND id = ANY(?::uuid[])', [tenantId, streamId, ids]);
  return res.rowCount ?? 0;
}

export async function markPolled(db: Db, tenantId: string, streamId: string, now: Date, error?: string): Promise<void> {
  await db.raw(`UPDATE event_streams SET last_delivered_at = ?${error !== undefined ? ', last_error = ?' : ''} WHERE tenant_id = ? AND id = ?`, [
    now,
    ...(error !== undefined ? [error] : []),
    tenantId,
    streamId,
  ]);
}

/**
 * Claims up to `limit` due events of enabled push streams of every tenant for `leaseEnd`: one
 * UPDATE over a sub-select FOR UPDATE SKIP LOCKED (two workers never claim the same row), and only
 * the oldest event of each resource in its stream — a later one waits while an earlier one is
 * still there, claimed or backing off, so a resource's events arrive in order.
 */
export async function claimDue(db: Db, now: Date, leaseEnd: Date, limit: number): Promise<ClaimedEvent[]> {
  const res = await db.raw(
    `UPDATE event_outbox e /* cross-tenant: the push worker delivers every tenant's events */ SET locked_until = ?, attempts = e.attempts + 1
       FROM event_streams s /* cross-tenant: joined to the claimed rows' streams */
      WHERE s.tenant_id = e.tenant_id AND s.id = e.stream_id
        AND (e.tenant_id, e.id) IN (
          SELECT o.tenant_id, o.id FROM event_outbox o
            JOIN event_streams t ON t.tenant_id = o.tenant_id AND t.id = o.stream_id
           WHERE t.delivery = 'push' AND t.state = 'enabled'
             AND o.next_attempt_at <= ? AND (o.locked_until IS NULL OR o.locked_until <= ?)
             AND NOT EXISTS (SELECT 1 FROM event_outbox p WHERE p.tenant_id = o.tenant_id AND p.stream_id = o.stream_id AND p.resource_id = o.resource_id AND p.seq < o.seq)
           ORDER BY o.seq
           LIMIT ?
           FOR UPDATE OF o SKIP LOCKED)
      RETURNING e.tenant_id, e.id, e.stream_id, e.seq, e.claims, e.attempts, s.endpoint_url`,
    [leaseEnd, now, now, limit],
  );
  return (res.rows as ClaimedEvent[]).map((r) => ({ ...r, attempts: Number(r.attempts) }));
}

/** Delivered is delivered, whoever holds the lease now: the event goes, the stream's failures reset. */
export async function markDelivered(db: Db, tenantId: string, streamId: string, id: string, at: Date): Promise<void> {
  await db.raw('DELETE FROM event_outbox WHERE tenant_id = ? AND id = ?', [tenantId, id]);
  await db.raw('UPDATE event_streams SET failures = 0, last_error = NULL, last_delivered_at = ? WHERE tenant_id = ? AND id = ?', [at, tenantId, streamId]);
}

/**
 * Records a failed try, only while the row is still the one claimed (`attempts` is the lease's
 * token); counts the failure on the stream and pauses it at `pauseAfter` failures in a row.
 * Returns whether the row was still ours and whether the stream is now paused.
 */
export async function markFailed(
  db: Db,
  tenantId: string,
  streamId: string,
  id: string,
  attempts: number,
  o: { nextAttemptAt: Date; error: string; now: Date; pauseAfter: number },
): Promise<{ updated: boolean; paused: boolean }> {
  const res = await db.raw('UPDATE event_outbox SET locked_until = NULL, last_error = ?, next_attempt_at = ? WHERE tenant_id = ? AND id = ? AND attempts = ?', [
    o.error,
    o.nextAttemptAt,
    tenantId,
    id,
    attempts,
  ]);
  if (!(res.rowCount ?? 0)) return { updated: false, paused: false };
  const s = await db.raw(
    `UPDATE event_streams SET failures = failures + 1, last_error = ?,
            state = CASE WHEN failures + 1 >= ? THEN 'paused' ELSE state END,
            paused_at = CASE WHEN failures + 1 >= ? AND state = 'enabled' THEN ? ELSE paused_at END
      WHERE tenant_id = ? AND id = ? RETURNING state`,
    [o.error, o.pauseAfter, o.pauseAfter, o.now, tenantId, streamId],
  );
  return { updated: true, paused: s.rows[0]?.state === 'paused' };
}

/** Events waiting across tenants, when the oldest was produced, and paused push streams (the metrics scrape). */
export async function backlog(db: Db): Promise<{ pending: number; oldest: Date | null; paused: number }> {
  const e = await db.raw('SELECT count(*)::int AS pending, min(created_at) AS oldest FROM event_outbox /* cross-tenant: the metrics count every tenant\'s events */');
  const s = await db.raw(`SELECT count(*)::int AS paused FROM event_streams /* cross-tenant: the metrics count every tenant's paused streams */ WHERE state = 'paused'`);
  return { pending: Number(e.rows[0].pending), oldest: e.rows[0].oldest ? new Date(e.rows[0].oldest) : null, paused: Number(s.rows[0].paused) };
}

/** Releases a claimed row that was not tried, without counting the try. */
export async function giveBack(db: Db, tenantId: string, id: string, attempts: number): Promise<void> {
  await db.raw('UPDATE event_outbox SET locked_until = NULL, attempts = ? WHERE tenant_id = ? AND id = ? AND attempts = ?', [attempts - 1, tenantId, id, attempts]);
}
