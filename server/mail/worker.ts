// The mail worker: sends what the outbox holds (docs/emails.md, "How mail is sent").
//
// - Claim: one UPDATE as the owner (the claim spans tenants) over a sub-select FOR UPDATE SKIP
//   LOCKED, committed BEFORE anything is sent. Two instances never claim the same row: SKIP LOCKED
//   passes over rows another claim is locking, and a row it reaches after that claim committed is
//   re-checked against its new locked_until and left out. Sending outside any transaction matters
//   doubly on the embedded database, whose pool has ONE connection: an SMTP conversation inside a
//   transaction would stall every request. test/api/mail.test.ts, "two workers", proves
//   exactly-once sending on PGlite and PostgreSQL.
// - The lease: a claimed row is locked_until now + leaseMs. A worker that dies between sending
//   and marking leaves the lease to expire; the row is claimed again and resent with the same
//   sealed content, hence the same link (at-least-once; "expired lease" test).
// - attempts is incremented by the claim and doubles as the lease's token: a worker marks a
//   failure, or gives a row back, only if attempts is still the value it claimed, so a stale
//   worker cannot put a row another worker has since sent back into the queue.
// - Send and mark: a batch goes out over the transport's pooled connections (transport.ts), as
//   many sends at once as it has connections, and the sent rows are marked in ONE statement per
//   batch (store/outbox-repo.ts markSent). Per email that was a connection (about 4.7 ms of CPU and
//   100 ms of wall time on loopback) and a transaction; docs/performance.md, "The activation
//   email's cost". A run that claims less than a full batch closes the pool: no more work.
// - Failure: next try after 30 s × 2^(attempts−1), at most 1 h; after maxAttempts, 'failed' and
//   one error line. last_error keeps the relay's short message, never the body.
// - Times come from the injected clock and are passed as parameters (never SQL now()), so tests
//   move time instead of waiting.
import { PollLoop } from '../poll-loop';
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import type { SecretBox } from '../security/keys';
import { asOwner } from '../store/scope';
import * as outbox from '../store/outbox-repo';
import { openContent } from './outbox';
import type { MailTransport } from './transport';

export interface MailWorkerOptions {
  knex: Knex;
  box: SecretBox;
  transport: MailTransport;
  clock: () => Date;
  logger: Logger;
  /** The From: address (MAIL_FROM). */
  from: string;
  batchSize?: number;
  leaseMs?: number;
  maxAttempts?: number;
}

export interface RunResult {
  sent: number;
  retried: number;
  failed: number;
}

export const BACKOFF_BASE_MS = 30_000;
export const BACKOFF_CAP_MS = 60 * 60 * 1000;

/** Delay before the next try after `attempts` failed tries: 30 s, 1 min, 2 min, … capped at 1 h. */
export function backoffMs(attempts: number): number {
  return Math.min(BACKOFF_BASE_MS * 2 ** Math.max(0, attempts - 1), BACKOFF_CAP_MS);
}

type Claimed = outbox.ClaimedRow;

/** A relay's error, short and without the email: nodemailer's message (it holds the SMTP reply), 200 chars. */
function shortError(err: unknown): string {
  const message = typeof (err as { message?: unknown })?.message === 'string' ? (err as Error).message : String(err);
  return message.replace(/\s+/g, ' ').trim().slice(0, 200) || 'unknown error';
}

export class MailWorker {
  private readonly knex: Knex;
  private readonly box: SecretBox;
  private readonly transport: MailTransport;
  private readonly clock: () => Date;
  private readonly logger: Logger;
  private readonly from: string;
  private readonly batchSize: number;
  private readonly leaseMs: number;
  private readonly maxAttempts: number;
  private readonly loop = new PollLoop(
    async () => {
      const r = await this.runOnce();
      return r.sent + r.retried + r.failed >= this.batchSize;
    },
    (err) => this.logger.error({ err: { message: shortError(err) } }, 'mail worker run failed'),
  );

  constructor(opts: MailWorkerOptions) {
    this.knex = opts.knex;
    this.box = opts.box;
    this.transport = opts.transport;
    this.clock = opts.clock;
    this.logger = opts.logger;
    this.from = opts.from;
    this.batchSize = opts.batchSize ?? 20;
    this.leaseMs = opts.leaseMs ?? 60_000;
    this.maxAttempts = opts.maxAttempts ?? 8;
  }

  /**
   * Claims up to batchSize due messages and sends them over the transport's connections (as many
   * sends at once as it has: `concurrency`), then marks the sent ones in one statement. A run that
   * claimed less than a full batch found no more work: the transport closes its pooled
   * connections (transport.ts, idle), so none is left for a relay to time out.
   *
   * Marking per batch, not per message: a worker that dies mid-batch leaves every message of the
   * batch it sent unmarked, and they are sent again once the lease expires, the same content each
   * time ("expired lease" test) — at-least-once, as before, over at most batchSize messages.
   */
  async runOnce(): Promise<RunResult> {
    const result: RunResult = { sent: 0, retried: 0, failed: 0 };
    const claimedAt = this.clock();
    const leaseEnd = new Date(claimedAt.getTime() + this.leaseMs);
    const claimed = await this.claim(claimedAt, leaseEnd);
    const sent: Claimed[] = [];
    let next = 0;
    const lane = async () => {
      while (next < claimed.length) {
        // A slow relay (each send may take up to its timeouts) must not outlive the lease, or
        // another instance would claim and send the same message meanwhile: the rest goes back.
        if (this.clock().getTime() > leaseEnd.getTime() - this.leaseMs / 4) return;
        const row = claimed[next++];
        const outcome = await this.deliver(row);
        if (outcome === 'sent') sent.push(row);
        else if (outcome) result[outcome]++;
      }
    };
    const lanes = Math.max(1, Math.min(this.transport.concurrency ?? 1, claimed.length));
    const ended = await Promise.allSettled(Array.from({ length: lanes }, lane));
    // Whatever else failed (the database, while recording a retry), what went out is recorded.
    await this.markSent(sent);
    result.sent = sent.length;
    if (next < claimed.length) await this.giveBack(claimed.slice(next));
    if (claimed.length < this.batchSize) this.transport.idle?.();
    const failure = ended.find((e): e is PromiseRejectedResult => e.status === 'rejected');
    if (failure) throw failure.reason;
    return result;
  }

  private async claim(now: Date, leaseEnd: Date): Promise<Claimed[]> {
    const rows = await asOwner(this.knex, (trx) => outbox.claimDue(trx, now, leaseEnd, this.batchSize));
    // RETURNING has no order; send the oldest first (uuid v7 ids sort by creation time).
    return rows.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /** What became of the row; undefined when another worker holds it by now (lease expired). */
  private async deliver(row: Claimed): Promise<keyof RunResult | undefined> {
    let content;
    try {
      if (row.sealed == null) throw new Error('the message content is missing');
      content = openContent(this.box, row.sealed);
    } catch (err) {
      // Not something a retry fixes (a changed server key, a scrubbed row).
      return this.markFailed(row, `cannot open the message: ${shortError(err)}`);
    }
    try {
      await this.transport.send({ from: this.from, to: row.recipient, subject: row.subject, text: content.text, html: content.html, template: row.template });
    } catch (err) {
      return this.markRetry(row, shortError(err));
    }
    return 'sent';
  }

  private async markSent(rows: Claimed[]): Promise<void> {
    if (!rows.length) return;
    // Sent is sent, whoever holds the lease now, so no attempts check here. Through SMTP the
    // content is no longer needed and is scrubbed; the kept transport keeps it for operators.
    const scrub = this.transport.kind === 'smtp';
    await asOwner(this.knex, (trx) => outbox.markSent(trx, rows, this.clock(), scrub));
  }

  private async markRetry(row: Claimed, error: string): Promise<'retried' | 'failed' | undefined> {
    if (row.attempts >= this.maxAttempts) return this.markFailed(row, error);
    const next = new Date(this.clock().getTime() + backoffMs(row.attempts));
    const updated = await asOwner(this.knex, (trx) => outbox.markTried(trx, row.tenant_id, row.id, row.attempts, { status: 'pending', nextAttemptAt: next, error }));
    if (!updated) return this.leaseLost(row);
    this.logger.warn({ tenant: row.tenant_id, mailId: row.id, template: row.template, attempts: row.attempts, err: { message: error } }, 'mail not sent, will retry');
    return 'retried';
  }

  private async markFailed(row: Claimed, error: string): Promise<'failed' | undefined> {
    const updated = await asOwner(this.knex, (trx) => outbox.markTried(trx, row.tenant_id, row.id, row.attempts, { status: 'failed', error }));
    if (!updated) return this.leaseLost(row);
    this.logger.error({ tenant: row.tenant_id, mailId: row.id, template: row.template, attempts: row.attempts, err: { message: error } }, 'mail failed, no more retries');
    return 'failed';
  }

  private leaseLost(row: Claimed): undefined {
    this.logger.warn({ tenant: row.tenant_id, mailId: row.id, template: row.template }, 'mail lease expired before its outcome was recorded; another run has it');
    return undefined;
  }

  /** Releases claimed rows this run did not try, without counting the try. */
  private async giveBack(rows: Claimed[]): Promise<void> {
    await asOwner(this.knex, (trx) => outbox.giveBack(trx, rows));
  }

  /** Polls every pollMs (at once again when a batch was full); poll-loop.ts. */
  start(pollMs: number): void {
    this.loop.start(pollMs);
  }

  async stop(): Promise<void> {
    await this.loop.stop();
  }
}
