// Push delivery (RFC 8935): the worker POSTs each event of an enabled push stream to its endpoint
// as a signed SET (Content-Type application/secevent+jwt); the receiver answers 202 Accepted.
//
// - Claim: one UPDATE as the owner (the claim spans tenants) over a sub-select FOR UPDATE SKIP
//   LOCKED, committed before anything is sent, as the mail worker does (mail/worker.ts): two
//   instances never claim the same event. Only the oldest event of each resource in a stream is
//   claimable (store/events-repo.ts claimDue), so a resource's events arrive in order even when
//   one of them is retried.
// - The lease and its token (attempts) work as in the mail worker: a worker that dies after
//   sending leaves the lease to expire and the event is sent again (at least once; the receiver
//   dedupes on jti, the same on every try).
// - Failure (no answer, or any status but 2xx): the event is tried again after 30 s × 2^(n−1),
//   at most 1 h, and the stream counts a failure; after pauseAfter failures in a row the stream
//   is paused (state "paused", shown by the admin API with its last error) and its events wait
//   until an admin enables it again. A success resets the count. Events are never dropped.
// - Every send keeps to the outbound rules (sso/network.ts guardedFetch): https on a public
//   address, the connection pinned to the checked address, no redirects followed.
// test/api/events.test.ts, "push".
import { PollLoop } from '../poll-loop';
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import { asOwner } from '../store/scope';
import * as repo from '../store/events-repo';
import { EgressRules, egressDetail, guardedFetch } from '../sso/network';
import { backoffMs } from '../mail/worker';
import { SET_MEDIA_TYPE, SET_TYP } from './catalog';
import type { Signer } from './poll';

export interface PushWorkerOptions {
  knex: Knex;
  signer: Signer;
  egress: EgressRules;
  clock: () => Date;
  logger: Logger;
  /** Failures in a row after which a stream is paused (EVENTS_PAUSE_AFTER_FAILURES). */
  pauseAfter: number;
  batchSize?: number;
  leaseMs?: number;
  /** How long one POST may take. */
  timeoutMs?: number;
}

export interface PushResult {
  delivered: number;
  failed: number;
}

const short = (s: string) => s.replace(/\s+/g, ' ').trim().slice(0, 200) || 'unknown error';

export class PushWorker {
  private readonly batchSize: number;
  private readonly leaseMs: number;
  private readonly timeoutMs: number;
  private readonly loop = new PollLoop(
    async () => {
      const r = await this.runOnce();
      return r.delivered + r.failed >= this.batchSize;
    },
    (err) => this.o.logger.error({ err: { message: short(String((err as Error)?.message ?? err)) } }, 'event push worker run failed'),
  );

  constructor(private readonly o: PushWorkerOptions) {
    this.batchSize = o.batchSize ?? 20;
    this.leaseMs = o.leaseMs ?? 60_000;
    this.timeoutMs = o.timeoutMs ?? 10_000;
  }

  /** Claims up to batchSize due events and delivers them, oldest first. */
  async runOnce(): Promise<PushResult> {
    const result: PushResult = { delivered: 0, failed: 0 };
    const claimedAt = this.o.clock();
    const leaseEnd = new Date(claimedAt.getTime() + this.leaseMs);
    const claimed = (await asOwner(this.o.knex, (trx) => repo.claimDue(trx, claimedAt, leaseEnd, this.batchSize))).sort((a, b) => Number(a.seq) - Number(b.seq));
    for (let i = 0; i < claimed.length; i++) {
      // A slow endpoint must not outlive the lease (another instance would send the same event meanwhile).
      if (this.o.clock().getTime() > leaseEnd.getTime() - this.leaseMs / 4) {
        await asOwner(this.o.knex, async (trx) => {
          for (const row of claimed.slice(i)) await repo.giveBack(trx, row.tenant_id, row.id, row.attempts);
        });
        break;
      }
      const ok = await this.deliver(claimed[i]);
      result[ok ? 'delivered' : 'failed']++;
    }
    return result;
  }

  private async deliver(row: repo.ClaimedEvent): Promise<boolean> {
    let error: string | undefined;
    try {
      const set = await this.o.signer.sign(row.claims, SET_TYP);
      const res = await guardedFetch(this.o.egress)(row.endpoint_url, {
        method: 'POST',
        headers: { 'content-type': SET_MEDIA_TYPE, accept: 'application/json' },
        body: set,
        redirect: 'manual',
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      if (res.status < 200 || res.status > 299) {
        // RFC 8935 §2.3: a refusal carries {"err", "description"}; kept short for the admin.
        let detail = '';
        try {
          const body = (await res.json()) as { err?: unknown; description?: unknown };
          if (typeof body?.err === 'string') detail = `: ${body.err}${typeof body.description === 'string' ? ` (${body.description})` : ''}`;
        } catch {
          // Not JSON: the status says enough.
        }
        error = short(`HTTP ${res.status}${detail}`);
      }
    } catch (err) {
      this.o.logger.info({ tenant: row.tenant_id, stream: row.stream_id, detail: egressDetail(err) }, 'event push failed');
      // The reason for people names no address or port (sso/network.ts explains why).
      error = (err as Error)?.name === 'EgressError' ? 'the endpoint is not one this server may send to' : 'no answer from the endpoint';
    }
    const now = this.o.clock();
    if (!error) {
      await asOwner(this.o.knex, (trx) => repo.markDelivered(trx, row.tenant_id, row.stream_id, row.id, now));
      return true;
    }
    const next = new Date(now.getTime() + backoffMs(row.attempts));
    const out = await asOwner(this.o.knex, (trx) => repo.markFailed(trx, row.tenant_id, row.stream_id, row.id, row.attempts, { nextAttemptAt: next, error: error!, now, pauseAfter: this.o.pauseAfter }));
    if (out.paused) this.o.logger.warn({ tenant: row.tenant_id, stream: row.stream_id, err: { message: error } }, 'event stream paused after repeated failures');
    else this.o.logger.info({ tenant: row.tenant_id, stream: row.stream_id, attempts: row.attempts, err: { message: error } }, 'event not delivered, will retry');
    return false;
  }

  /** Polls every pollMs (at once again after a full batch); runs never overlap (poll-loop.ts). */
  start(pollMs: number): void {
    this.loop.start(pollMs);
  }

  /** Events waiting across tenants, the oldest's age in seconds, paused streams (metrics; as the owner). */
  async backlog(): Promise<{ pending: number; oldestAgeSeconds: number; pausedStreams: number }> {
    const b = await asOwner(this.o.knex, (trx) => repo.backlog(trx));
    const now = this.o.clock().getTime();
    return { pending: b.pending, oldestAgeSeconds: b.oldest ? Math.max(0, (now - b.oldest.getTime()) / 1000) : 0, pausedStreams: b.paused };
  }

  async stop(): Promise<void> {
    await this.loop.stop();
  }
}
